"""The images masks are imported for: the image files of a folder by stem, and the frames of
its videos as ``<video stem>_<frame:06d>`` (the names the labels folder gives them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from segnet_core.errors import DataError, SegNetError
from segnet_core.io.video import VideoFrames, is_video_file
from segnet_core.io.images import is_image_file

_FRAME = re.compile(r"(.+)_(\d{6,})")


@dataclass(frozen=True)
class ImageTarget:
    """An image file (`frame` None) or a frame of a video file that a mask belongs to."""

    stem: str
    path: Path
    frame: int | None = None


class ImageFolder:
    """The images and videos directly in a folder (hidden files left out)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DataError(self.folder, "no such folder" if not self.folder.exists()
                            else f"not a folder: give the folder that holds it "
                                 f"({self.folder.parent}); its masks are matched by name to "
                                 f"every image and video frame there")
        try:
            files = sorted(f for f in self.folder.iterdir()
                           if not f.name.startswith(".") and f.is_file())
        except OSError as error:
            raise DataError(self.folder, f"cannot list: {error.strerror or error}") from None
        self.images: dict[str, Path] = {}
        self.videos: dict[str, Path] = {}
        for file in files:
            if is_image_file(file):
                self.images.setdefault(file.stem, file)
            elif is_video_file(file):
                self.videos.setdefault(file.stem, file)
        if not self.images and not self.videos:
            raise DataError(self.folder, "holds no images or videos")
        self._video_info: dict[Path, tuple[int, tuple[int, int]] | None] = {}

    def match(self, stem: str) -> ImageTarget | None:
        """The image or video frame a mask named `stem` belongs to, or None."""
        image = self.images.get(stem)
        if image is not None:
            return ImageTarget(stem, image)
        found = _FRAME.fullmatch(stem)
        if found and found.group(1) in self.videos:
            video, frame = self.videos[found.group(1)], int(found.group(2))
            info = self._info(video)
            if info is None or not info[0] or frame < info[0]:
                return ImageTarget(stem, video, frame)
        return None

    def size(self, target: ImageTarget) -> tuple[int, int] | None:
        """(height, width) of the target, or None when it cannot be read cheaply."""
        if target.frame is not None:
            info = self._info(target.path)
            return None if info is None else info[1]
        try:
            with Image.open(target.path) as image:
                return image.height, image.width
        except Exception:  # an image Pillow cannot open: no size check
            return None

    def _info(self, video: Path) -> tuple[int, tuple[int, int]] | None:
        """(frame count, (height, width)) of a video, or None when it cannot be opened."""
        if video not in self._video_info:
            try:
                with VideoFrames(video) as frames:
                    self._video_info[video] = (frames.frame_count, frames.size)
            except SegNetError:
                self._video_info[video] = None
        return self._video_info[video]
