"""What a user points at: image files, folders (of images and videos) and video files.

`find_inputs` is the one place that decides what a path is (a folder, an image, a video, or
something unusable, with the reason); the window, `predict`, `rank` and `export` all open
their inputs through it, so a folder gives its images, then its videos, to each alike.
`iter_inputs` reads what it finds as a stream of images to predict.
"""

from __future__ import annotations

import enum
import errno
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from segnet_core.errors import DataError, SegNetError
from segnet_core.io.images import (IMAGE_EXTENSIONS, extension_list, folder_images,
                                   is_image_file, read_image)
from segnet_core.io.video import (VIDEO_EXTENSIONS, VideoFrames, container_frame_count,
                                  folder_videos, frame_count_is_estimate, is_video_file)

#: Called with (path, error) for an input that cannot be used; the others go on.
ErrorHandler = Callable[[Path, SegNetError], None]


class VideoEndsEarly(DataError):
    """A video whose frames stop decoding before the count its container stores; the
    `frames_before` frames before the first that cannot be read were used."""

    def __init__(self, path: str | Path, reason: str, frames_before: int):
        super().__init__(path, reason)
        self.frames_before = int(frames_before)


class InputKind(enum.Enum):
    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True)
class InputFile:
    """An image or video file found among the inputs. `given` is the path the caller
    named: the file itself, or the folder a folder's image was found in."""

    path: Path
    kind: InputKind
    given: Path


def _unknown_type(path: Path) -> str:
    """Why `path` is no input: its suffix, and the suffixes that are."""
    return (f"unknown file type {path.suffix or '(no suffix)'!r}; images: "
            f"{extension_list(IMAGE_EXTENSIONS)}; videos: {extension_list(VIDEO_EXTENSIONS)}")


def _dead_links(folder: Path) -> list[tuple[Path, str]]:
    """The symbolic links among `folder`'s images and videos (by name, hidden ones left out)
    that lead to no file, each with why: they are inputs that cannot be read."""
    dead = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not entry.is_symlink() or not (
                is_image_file(entry) or is_video_file(entry)):
            continue
        try:
            entry.stat()
        except OSError as error:
            if error.errno == errno.ELOOP:
                why = "a symbolic link that loops back on itself"
            elif error.errno == errno.ENOENT:
                why = f"a symbolic link to {os.readlink(entry)}, which does not exist"
            else:
                why = f"a symbolic link to {os.readlink(entry)} ({error.strerror or error})"
            dead.append((entry, f"cannot be read: {why}"))
    return dead


def find_inputs(paths: Iterable[str | Path],
                on_error: ErrorHandler | None = None) -> Iterator[InputFile]:
    """The image and video files of `paths`, in the given order: a folder gives its images,
    then its videos (each sorted by name, hidden files left out, not recursing), and a file
    gives itself.

    A path that cannot be used (missing, of an unknown suffix, a folder that cannot be
    listed or holds no images or videos, and in a folder a symbolic link named as an image or
    video that leads to no file: it loops, or its target is gone) is passed to
    `on_error(path, DataError)` and skipped; without `on_error` the DataError is raised.
    Files are not opened here.
    """
    def failed(path: Path, reason: str) -> None:
        error = DataError(path, reason)
        if on_error is None:
            raise error
        on_error(path, error)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                files = ([(f, InputKind.IMAGE) for f in folder_images(path)]
                         + [(f, InputKind.VIDEO) for f in folder_videos(path)])
                dead = _dead_links(path)
            except OSError as error:
                failed(path, f"cannot list folder: {error.strerror or error}")
                continue
            for link, reason in dead:
                failed(link, reason)
            if not files:
                kinds = extension_list(IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)
                failed(path, f"folder holds no images or videos ({kinds})")
            for file, kind in files:
                yield InputFile(file, kind, path)
        elif not path.exists():
            failed(path, "no such file or folder")
        elif is_image_file(path):
            yield InputFile(path, InputKind.IMAGE, path)
        elif is_video_file(path):
            yield InputFile(path, InputKind.VIDEO, path)
        else:
            failed(path, _unknown_type(path))


@dataclass
class InputItem:
    """One image to predict: from an image file (frame None) or a video's frame."""

    source: Path  # the image or video file
    stem: str  # the file's stem, the base of the output name
    frame: int | None  # frame index in the video, None for an image file
    image: np.ndarray  # HxWx3 uint8 RGB


def output_name(item: InputItem) -> str:
    """`<stem>.png` for an image file, `<stem>_<frame:06d>.png` for a video frame: the same
    name the labels folder gives its mask."""
    from segnet_core.masks.labels_folder import mask_name

    return mask_name(item.source, item.frame)


def iter_inputs(paths: Iterable[str | Path], every: int = 1,
                on_error: ErrorHandler | None = None) -> Iterator[InputItem]:
    """Images to predict from image files, folders (their images, then their videos, by
    name, not recursing) and video files (frames 0, every, 2*every, ...), read lazily in the
    given order.

    An input that cannot be used (missing path, unknown suffix, corrupt image, unreadable
    video, folder without images or videos) is passed to `on_error(path, error)` and
    skipped, and the rest continue; without `on_error` the error is raised. So is a video
    whose frames stop decoding before the count its container stores, once the frames before
    are yielded, when a frame `every` takes is among those lost (`VideoEndsEarly`; not for
    Matroska, whose count OpenCV estimates: `frame_count_is_estimate`).
    """
    if int(every) < 1:
        raise ValueError(f"every must be at least 1, got {every}")

    def failed(path: Path, error: SegNetError) -> None:
        if on_error is None:
            raise error
        on_error(error.path or path, error)

    for found in find_inputs(paths, failed):
        if found.kind is InputKind.IMAGE:
            yield from _image_item(found.path, failed)
        else:
            yield from _video_items(found.path, int(every), failed)


def _image_item(path: Path, failed: ErrorHandler) -> Iterator[InputItem]:
    try:
        image = read_image(path)
    except SegNetError as error:
        failed(path, error)
        return
    yield InputItem(path, path.stem, None, image)


def _video_items(path: Path, every: int, failed: ErrorHandler) -> Iterator[InputItem]:
    try:
        video = VideoFrames(path)
    except SegNetError as error:
        failed(path, error)
        return
    with video:
        for index, frame in video.frames(every):
            yield InputItem(path, path.stem, index, frame)
        first, last = video.frames_read, video.frame_count - 1
        next_taken = first + (-first) % every  # the first frame at or after `first` taken
        if next_taken <= last and not frame_count_is_estimate(path):  # it does not decode
            which = (f"frame {first} (counted from 0; the window's {first + 1})" if first == last
                     else f"frames {first}-{last} (counted from 0; the window's "
                          f"{first + 1}-{last + 1})")
            failed(path, VideoEndsEarly(path, f"{which} of the {video.frame_count} its "
                                              "container announces cannot be read (damaged, or "
                                              "it ends early)", first))


def count_inputs(paths: Iterable[str | Path], every: int = 1) -> int:
    """About how many items `iter_inputs` will yield (video lengths come from the
    container), for progress bars; unusable inputs count as nothing."""
    total = 0
    for found in find_inputs(paths, on_error=lambda path, error: None):
        if found.kind is InputKind.IMAGE:
            total += 1
        else:
            total += math.ceil(container_frame_count(found.path) / max(1, int(every)))
    return total


__all__ = ["ErrorHandler", "InputFile", "InputItem", "InputKind", "VideoEndsEarly",
           "count_inputs", "find_inputs", "iter_inputs", "output_name"]
