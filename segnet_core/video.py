"""Frame sources: video files through OpenCV, and a stream of images from files, folders and
videos for batch prediction.

Frames are HxWx3 uint8 RGB arrays, as `read_image` gives. Every failure about a file is a
DataError naming it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import cv2
import numpy as np

from segnet_core.errors import DataError, FileFormatError, SegNetError
from segnet_core.masks.io import IMAGE_EXTENSIONS, read_image

#: File suffixes (lower case) taken as videos.
VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv")


def _open_capture(path: Path) -> cv2.VideoCapture:
    # FFmpeg explicitly: with CAP_ANY a name holding '%' would be read as an image sequence
    if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
        return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    return cv2.VideoCapture(str(path))


class VideoFrames:
    """The frames of a video file, as (index, RGB frame) when iterated or one by `read`.

    `frame_count` comes from the container and may be approximate (0 when unknown); `fps`
    is 0.0 when unknown; `size` is (height, width) of the first frame. Iteration starts at
    frame 0 every time and stops quietly at the last frame that decodes (a truncated file
    ends early); `frames_read` counts the frames the last iteration yielded or skipped past.
    Opening raises DataError naming the file when it is missing, cannot be opened as a video
    or has no readable frame.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.is_dir():
            raise DataError(self.path, "is a folder, not a video file")
        if not self.path.is_file():
            raise DataError(self.path, "file not found")
        self._capture = _open_capture(self.path)
        if not self._capture.isOpened():
            self._capture.release()
            raise DataError(self.path, "cannot open as a video (not a video file, or a codec "
                                       "this OpenCV lacks)")
        ok, frame = self._capture.read()
        if not ok or frame is None or frame.size == 0:
            self._capture.release()
            raise DataError(self.path, "no readable frames (empty or corrupt video)")
        self._first: np.ndarray | None = _to_rgb(frame)
        self._position = 1  # index of the frame the capture delivers next
        self.size: tuple[int, int] = (int(frame.shape[0]), int(frame.shape[1]))
        self.frame_count = max(0, int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if math.isfinite(fps) and fps > 0 else 0.0
        self.frames_read = 0

    def __repr__(self) -> str:
        return (f"VideoFrames({str(self.path)!r}, ~{self.frame_count} frames, "
                f"{self.size[1]}x{self.size[0]}, {self.fps:g} fps)")

    def __len__(self) -> int:
        return self.frame_count

    def __enter__(self) -> "VideoFrames":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the file; further reads raise DataError."""
        self._capture.release()
        self._first = None

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        return self.frames()

    def frames(self, every: int = 1) -> Iterator[tuple[int, np.ndarray]]:
        """(index, RGB frame) for frames 0, every, 2*every, ... until the video ends.

        Skipped frames are only grabbed, not decoded.
        """
        if int(every) < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        every = int(every)
        self._check_open()
        self.frames_read = 0
        index = 0
        if self._position == 1 and self._first is not None:
            first = self._first
            self._first = None  # yielded once; later passes decode it again
            self.frames_read = 1
            yield 0, first
            index = 1
        else:
            self._seek(0)
        while True:
            if (index % every) == 0:
                ok, frame = self._capture.read()
                if not ok or frame is None or frame.size == 0:
                    return
                self._position = index + 1
                self.frames_read = index + 1
                yield index, _to_rgb(frame)
            else:
                if not self._capture.grab():
                    return
                self._position = index + 1
                self.frames_read = index + 1
            index += 1

    def read(self, index: int) -> np.ndarray:
        """Frame `index` (counted from 0) as RGB; DataError naming the file and the index
        when there is no such frame or it does not decode."""
        index = int(index)
        self._check_open()
        if index < 0:
            raise DataError(self.path, f"cannot read frame {index}: frame indices start at 0")
        if index == 0 and self._position == 1 and self._first is not None:
            return self._first.copy()
        if index != self._position:
            self._seek(index)
        ok, frame = self._capture.read()
        if not ok or frame is None or frame.size == 0:
            self._position = -1  # unknown: seek next time
            known = f" (the video has about {self.frame_count})" if self.frame_count else ""
            raise DataError(self.path, f"cannot read frame {index + 1} (index {index}){known}")
        self._position = index + 1
        return _to_rgb(frame)

    def _seek(self, index: int) -> None:
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, float(index))
        self._position = index

    def _check_open(self) -> None:
        if not self._capture.isOpened():
            raise DataError(self.path, "video is closed")


def _to_rgb(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


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


def is_video_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def folder_images(folder: str | Path) -> list[Path]:
    """The image files directly in `folder` (hidden files left out), sorted by name."""
    return _folder_files(folder, is_image_file)


def folder_videos(folder: str | Path) -> list[Path]:
    """The video files directly in `folder` (hidden files left out), sorted by name."""
    return _folder_files(folder, is_video_file)


def _folder_files(folder: str | Path, wanted) -> list[Path]:
    return sorted(f for f in Path(folder).iterdir()
                  if f.is_file() and not f.name.startswith(".") and wanted(f))


def _unknown_type(path: Path) -> DataError:
    images = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
    videos = ", ".join(e.lstrip(".") for e in VIDEO_EXTENSIONS)
    return DataError(path, f"unknown file type {path.suffix or '(no suffix)'!r}; "
                           f"images: {images}; videos: {videos}")


ErrorHandler = Callable[[Path, SegNetError], None]


def iter_inputs(paths: Iterable[str | Path], every: int = 1,
                on_error: ErrorHandler | None = None) -> Iterator[InputItem]:
    """Images to predict from image files, folders (their images, by name, not recursing)
    and video files (frames 0, every, 2*every, ...), read lazily in the given order.

    An input that cannot be used (missing path, unknown suffix, corrupt image, unreadable
    video, folder without images) is passed to `on_error(path, error)` and skipped, and the
    rest continue; without `on_error` the error is raised.
    """
    if int(every) < 1:
        raise ValueError(f"every must be at least 1, got {every}")

    def failed(path: Path, error: SegNetError) -> None:
        if on_error is None:
            raise error
        on_error(Path(error.path) if isinstance(error, FileFormatError) else path, error)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                files = folder_images(path)
            except OSError as error:
                failed(path, DataError(path, f"cannot list folder: {error.strerror or error}"))
                continue
            if not files:
                extensions = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
                failed(path, DataError(path, f"folder holds no images ({extensions})"))
            for file in files:
                yield from _image_item(file, failed)
        elif not path.exists():
            failed(path, DataError(path, "no such file or folder"))
        elif is_image_file(path):
            yield from _image_item(path, failed)
        elif is_video_file(path):
            yield from _video_items(path, int(every), failed)
        else:
            failed(path, _unknown_type(path))


def _image_item(path: Path, failed) -> Iterator[InputItem]:
    try:
        image = read_image(path)
    except SegNetError as error:
        failed(path, error)
        return
    yield InputItem(path, path.stem, None, image)


def _video_items(path: Path, every: int, failed) -> Iterator[InputItem]:
    try:
        video = VideoFrames(path)
    except SegNetError as error:
        failed(path, error)
        return
    with video:
        for index, frame in video.frames(every):
            yield InputItem(path, path.stem, index, frame)


def count_inputs(paths: Iterable[str | Path], every: int = 1) -> int:
    """About how many items `iter_inputs` will yield (video lengths come from the
    container), for progress bars; unusable inputs count as nothing."""
    total = 0
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                total += len(folder_images(path))
            elif path.is_file() and is_image_file(path):
                total += 1
            elif path.is_file() and is_video_file(path):
                capture = _open_capture(path)
                try:
                    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
                finally:
                    capture.release()
                total += math.ceil(max(0, frames) / max(1, int(every)))
        except OSError:
            continue
    return total


__all__ = ["VIDEO_EXTENSIONS", "InputItem", "VideoFrames", "count_inputs", "folder_images",
           "is_image_file", "is_video_file", "iter_inputs", "output_name"]
