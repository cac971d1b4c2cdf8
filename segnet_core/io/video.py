"""Video files through OpenCV: their frames as HxWx3 uint8 RGB arrays, as `read_image`
gives images. Every failure about a file is a DataError naming it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from segnet_core.errors import DataError

#: File suffixes (lower case) taken as videos.
VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv")
#: Matroska stores no frame count: OpenCV estimates one from the duration (the longest
#: stream's, audio included) times the frame rate, so it may be more than the frames there
ESTIMATED_COUNT_EXTENSIONS: tuple[str, ...] = (".mkv", ".webm")


def frame_count_is_estimate(path: str | Path) -> bool:
    """Whether the frame count OpenCV reports for the video is an estimate, not stored."""
    return Path(path).suffix.lower() in ESTIMATED_COUNT_EXTENSIONS


def quiet_native_logs() -> None:
    """Keep the terminal quiet about files the window (its Problems dock) or a command (its
    "skipped" lines) names already: OpenCV's own log and FFmpeg's (OpenCV passes
    OPENCV_FFMPEG_LOGLEVEL to av_log_set_level when it first opens a video) stay silent
    unless the environment asks for them (OPENCV_LOG_LEVEL, OPENCV_FFMPEG_LOGLEVEL). libpng
    has no such switch: `segnet_core.io.images.read_image` refuses a broken PNG before
    libpng reads it."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    if "OPENCV_LOG_LEVEL" not in os.environ:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def is_video_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def folder_videos(folder: str | Path) -> list[Path]:
    """The video files directly in `folder` (hidden files left out), sorted by name."""
    return sorted(f for f in Path(folder).iterdir()
                  if f.is_file() and not f.name.startswith(".") and is_video_file(f))


def _why_not_opened(path: Path) -> str:
    """The likely reasons OpenCV could not open the file `path` as a video, in brackets: an
    empty file is said to be one, and a file named as a video with something in it may be
    damaged (an mp4 cut short loses its index, the moov atom, and opens as nothing)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = None
    if size == 0:
        return "(the file is empty)"
    if size and is_video_file(path):
        return "(not a video file, a codec this OpenCV lacks, or it is damaged or truncated)"
    return "(not a video file, or a codec this OpenCV lacks)"


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
            raise DataError(self.path, f"cannot open as a video {_why_not_opened(self.path)}")
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
            count = self.frame_count
            about = "about " if frame_count_is_estimate(self.path) else ""
            if count and index >= count:
                why = f": the video has {about}{count} frames"
            elif count:
                why = f" of {about}{count} (damaged, or the video ends early)"
            else:
                why = ""
            raise DataError(self.path, f"cannot read frame {index + 1}{why}")
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


def container_frame_count(path: str | Path) -> int:
    """The frame count the container states (0 when unknown or unreadable), without
    decoding a frame."""
    capture = _open_capture(Path(path))
    try:
        return max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
    finally:
        capture.release()


__all__ = ["VIDEO_EXTENSIONS", "VideoFrames", "container_frame_count", "is_video_file"]
