"""The open frames: image files, folder contents and video frames, each with a status.

Qt-free. A frame is a `FrameRef` (a path, and a frame index for a video); refs are plain
frozen dataclasses, so they serve as keys everywhere (caches, worker requests, list rows)
and may cross threads. `FrameReader` turns a ref into an RGB array; each thread that reads
frames owns its own reader, because an OpenCV capture must not be shared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from PIL import Image, UnidentifiedImageError

from segnet_core.errors import DataError, SegNetError
from segnet_core.io.images import read_image
from segnet_core.io.inputs import InputKind, find_inputs
from segnet_core.io.video import VideoFrames
from segnet_core.masks.labels_folder import MaskOwners, frame_name

DEFAULT_FPS = 25.0  # a video's frame rate when the file does not say
#: Places (`FrameList.place_of`) between two sources' first frames: far more than a list's
#: length, so nothing that spreads over nearby places (a Gaussian a share of the list's
#: length wide) reaches from one source into another. A constant, so a frame's place stays
#: the same as more frames are opened.
SOURCE_GAP = 10 ** 9

class FrameStatus(enum.Enum):
    NOT_SEGMENTED = "not segmented"
    SEGMENTED = "segmented"
    CORRECTED = "corrected"  # its labels are saved in the labels folder
    UNSAVED = "unsaved changes"  # edited, and the edits are not saved yet
    UNREADABLE = "unreadable"  # listed, but reading it failed after it was opened


#: The statuses of frames with corrections, saved or not (`FrameList.corrected`).
LABELLED = (FrameStatus.CORRECTED, FrameStatus.UNSAVED)


@dataclass(frozen=True)
class FrameRef:
    """One frame: an image file (`index` None) or frame `index` of a video file."""

    path: Path
    index: int | None = None

    @property
    def is_video_frame(self) -> bool:
        return self.index is not None

    @property
    def source(self) -> Path:
        """What the frame is part of: its video file, or the folder an image file is in."""
        return self.path if self.is_video_frame else self.path.parent

    @property
    def number(self) -> int | None:
        """A video frame's number as people count: from 1 (`index` counts from 0, as the
        mask file names do: frame 1 is `<video stem>_000000.png`)."""
        return None if self.index is None else self.index + 1

    @property
    def name(self) -> str:
        return frame_name(self.path, self.index)  # as `rank` names it


@dataclass(frozen=True)
class Problem:
    """A path that could not be opened, and why."""

    path: Path
    reason: str


@dataclass
class OpenReport:
    """What `FrameList.add_paths` did: rows added, the row to show, paths that failed."""

    added: int = 0
    first_row: int | None = None  # first new frame, or the already open frame of a path
    opened: list[Path] = field(default_factory=list)  # paths that contributed frames
    problems: list[Problem] = field(default_factory=list)
    already_open: list[Path] = field(default_factory=list)  # every frame was open already
    videos: list[Path] = field(default_factory=list)  # videos opened (also from folders)


def probe_image(path: Path) -> None:
    """Raise DataError naming `path` when it is plainly not a readable image.

    Only the header is read (cheap enough for big folders); a file truncated after its
    header passes here and is reported when it is shown.
    """
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        read_image(path)  # Pillow may not know every format OpenCV reads: let it decide
        return
    if width < 1 or height < 1:
        raise DataError(path, f"image has zero size {width}x{height}")


class FrameList:
    """The open frames in display order, their statuses, and where each video's frames are."""

    def __init__(self) -> None:
        self._refs: list[FrameRef] = []
        self._rows: dict[FrameRef, int] = {}
        self._status: dict[FrameRef, FrameStatus] = {}
        # frames by status, so a 9,000-frame video's corrected frames are found without
        # walking all its rows (the timeline asks at every status change)
        self._by_status: dict[FrameStatus, set[FrameRef]] = {s: set() for s in FrameStatus}
        self._videos: dict[Path, tuple[int, int]] = {}  # path -> (first row, frame count)
        self._fps: dict[Path, float] = {}
        self._sources: dict[Path, int] = {}  # `FrameRef.source` -> its order of opening
        self._unreadable: set[FrameRef] = set()  # reading failed, and has not worked since
        self._masks = MaskOwners()  # no two frames open share a mask file

    def __len__(self) -> int:
        return len(self._refs)

    def __getitem__(self, row: int) -> FrameRef:
        return self._refs[row]

    def __iter__(self) -> Iterator[FrameRef]:
        return iter(self._refs)

    def row_of(self, ref: FrameRef) -> int | None:
        return self._rows.get(ref)

    def place_of(self, ref: FrameRef) -> int | None:
        """A frame's place in its source's sequence (`FrameRef.source`: a video, or the
        images of one folder), with the sources `SOURCE_GAP` places apart: its row plus
        `SOURCE_GAP` times how many sources were opened before its own. Frames of one source
        are as far apart as their rows; frames of different sources, far apart."""
        row = self._rows.get(ref)
        return None if row is None else row + SOURCE_GAP * self._sources[ref.source]

    def status(self, ref: FrameRef) -> FrameStatus:
        return self._status[ref]

    def set_status(self, ref: FrameRef, status: FrameStatus) -> bool:
        """Set a frame's status; False when the frame is not open or already had it."""
        old = self._status.get(ref)
        if old is None or old == status:
            return False
        self._status[ref] = status
        self._by_status[old].discard(ref)
        self._by_status[status].add(ref)
        return True

    def mark_unreadable(self, ref: FrameRef) -> bool:
        """Record that reading `ref` failed; True the first time since it was last read
        (`mark_read`), so that the failure is said once. A frame with labels (CORRECTED,
        UNSAVED) keeps its status, since its labels are still there; another becomes
        UNREADABLE (see `FrameListModel.mark_unreadable`, which also redraws its row)."""
        if ref not in self._status:
            return False
        news = ref not in self._unreadable
        self._unreadable.add(ref)
        # again when already known: its labels may have gone since (a mask deleted on disk)
        if self._status[ref] in (FrameStatus.NOT_SEGMENTED, FrameStatus.SEGMENTED):
            self.set_status(ref, FrameStatus.UNREADABLE)
        return news

    def mark_read(self, ref: FrameRef) -> bool:
        """Reading `ref` worked (again): a later failure is news. True when it had failed."""
        mended = ref in self._unreadable
        self._unreadable.discard(ref)
        return mended

    def unreadable_in(self, path: Path) -> bool:
        """Whether reading some frame of the file at `path` failed last time it was tried."""
        return any(ref.path == path for ref in self._unreadable)

    def unreadable(self, ref: FrameRef) -> bool:
        """Whether reading `ref` failed last time it was tried (whatever its status)."""
        return ref in self._unreadable

    def with_status(self, status: FrameStatus) -> list[FrameRef]:
        """The frames with `status`, in row order."""
        return sorted(self._by_status[status], key=self._rows.__getitem__)

    def corrected(self) -> list[FrameRef]:
        """The frames with corrections, saved (CORRECTED) or not yet (UNSAVED), in row
        order: what the list shows as corrected, fine-tuning trains on and export writes."""
        refs = set().union(*(self._by_status[status] for status in LABELLED))
        return sorted(refs, key=self._rows.__getitem__)

    def video_frames_with_status(self, path: Path, status: FrameStatus) -> list[int]:
        """Frame indices (from 0) of the open video `path` whose frames have `status`."""
        span = self.video_span(path)
        if span is None:
            return []
        first, count = span
        rows = (self._rows[ref] for ref in self._by_status[status])
        return sorted(row - first for row in rows if first <= row < first + count)

    def video_span(self, path: Path) -> tuple[int, int] | None:
        """(first row, frame count) of an open video."""
        return self._videos.get(Path(path))

    def video_fps(self, path: Path) -> float | None:
        """Frames per second of an open video (DEFAULT_FPS when it does not say)."""
        return self._fps.get(Path(path))

    def add_paths(self, paths: Iterable[str | Path]) -> OpenReport:
        """Open image files, folders (their images, then their videos, each sorted by name,
        not recursing) and videos (one frame per row). Paths already open are not added
        twice. Unusable paths are reported in the result and skipped."""
        report = OpenReport()
        for raw in paths:
            path = Path(raw)
            added, opened = report.added, len(report.opened)
            try:
                self._add_path(path, report)
                if report.added == added and len(report.opened) > opened:
                    report.already_open.append(path)
            except SegNetError as error:
                report.problems.append(Problem(error.path or path, error.reason))
            except OSError as error:
                report.problems.append(Problem(path, error.strerror or str(error)))
        return report

    def _add_path(self, path: Path, report: OpenReport) -> None:
        usable = 0

        def unusable(where: Path, error: SegNetError) -> None:
            report.problems.append(Problem(error.path or where, error.reason))

        for found in find_inputs([path], unusable):
            try:
                if found.kind is InputKind.VIDEO:
                    self._add_video(found.path, report)
                else:
                    self._add_image(found.path, report)
                usable += 1
            except SegNetError as error:
                report.problems.append(Problem(error.path or found.path, error.reason))
        if usable:
            report.opened.append(path)

    def _add_image(self, path: Path, report: OpenReport) -> None:
        ref = FrameRef(path.resolve())
        if ref in self._rows:
            self._note_first(report, self._rows[ref])
            return
        clash = self._masks.clash(ref.path)
        if clash:
            raise DataError(path, clash)
        probe_image(path)
        self._append(ref, report)

    def _add_video(self, path: Path, report: OpenReport) -> None:
        path = path.resolve()
        if path in self._videos:
            self._note_first(report, self._videos[path][0])
            return
        with VideoFrames(path) as video:
            count, fps = video.frame_count, video.fps
        if count < 1:
            raise DataError(path, "the video does not say how many frames it has")
        clash = self._masks.clash(path, range(count))
        if clash:
            raise DataError(path, clash)
        report.videos.append(path)
        self._videos[path] = (len(self._refs), count)
        self._fps[path] = fps or DEFAULT_FPS
        for index in range(count):
            self._append(FrameRef(path, index), report)

    def _append(self, ref: FrameRef, report: OpenReport) -> None:
        self._masks.claim(ref.path, ref.index, ref.name)
        self._note_first(report, len(self._refs))
        self._rows[ref] = len(self._refs)
        self._refs.append(ref)
        self._sources.setdefault(ref.source, len(self._sources))
        self._status[ref] = FrameStatus.NOT_SEGMENTED
        self._by_status[FrameStatus.NOT_SEGMENTED].add(ref)
        report.added += 1

    @staticmethod
    def _note_first(report: OpenReport, row: int) -> None:
        if report.first_row is None:
            report.first_row = row


class FrameReader:
    """Reads frames as HxWx3 uint8 RGB; keeps each video open between reads.

    Not thread-safe: one reader per thread. Failures are DataError naming the file.
    """

    def __init__(self, max_open_videos: int = 4) -> None:
        self._videos: dict[Path, VideoFrames] = {}
        self._max_open = max_open_videos

    def read(self, ref: FrameRef) -> np.ndarray:
        if ref.index is None:
            return read_image(ref.path)
        video = self._videos.pop(ref.path, None) or VideoFrames(ref.path)
        self._videos[ref.path] = video  # most recently used last
        while len(self._videos) > self._max_open:
            oldest = next(iter(self._videos))
            self._videos.pop(oldest).close()
        return video.read(ref.index)

    def close(self) -> None:
        for video in self._videos.values():
            video.close()
        self._videos.clear()
