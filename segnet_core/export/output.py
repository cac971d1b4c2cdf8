"""Where exporters write: every file goes through `atomic.py` (temporary file, fsync, rename),
a disk error becomes an `ExportError` naming the file, and each written file is logged for the
manifest."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

import numpy as np

from segnet_core.atomic import atomic_replace, atomic_write_bytes
from segnet_core.errors import ExportError
from segnet_core.labels import LabelSet

from .items import ExportItem


@dataclass(frozen=True)
class ExportOptions:
    """Options some formats read (see `export_masks`)."""

    alpha: float = 0.5
    fps: float | None = None
    #: COCO regions under this many pixels get no annotation (0 keeps every region).
    min_area: int = 0
    #: COCO `segmentation`: "polygons" (RLE where a region has holes), "uncompressed", "compressed".
    coco_segmentation: str = "polygons"


@contextmanager
def disk_errors(path: Path) -> Iterator[None]:
    """Turn an OSError while writing `path` into an ExportError naming it."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise ExportError(path, f"cannot write: {reason}") from None


class FileLog:
    """The files an export wrote, in order, with what each holds (for the manifest)."""

    def __init__(self) -> None:
        self.entries: list[tuple[Path, dict[str, Any]]] = []

    @property
    def paths(self) -> list[Path]:
        return [path for path, _ in self.entries]

    def add(self, path: Path, fmt: str, item: ExportItem | None, extra: dict[str, Any]) -> None:
        info: dict[str, Any] = {"format": fmt}
        if item is not None:
            info.update(item=item.name, source=None if item.source is None else str(item.source),
                        frame=item.frame, corrected=bool(item.corrected),
                        propagated=bool(item.propagated))
        else:
            info.update(item=None, source=None, frame=None, corrected=None, propagated=None)
        info.update(extra)
        self.entries.append((path, info))


class Output:
    """One format's folder: writes files atomically below `root` and logs them."""

    def __init__(self, root: str | Path, fmt: str, log: FileLog):
        self.root = Path(root)
        self.fmt = fmt
        self.log = log

    def path(self, relative: str) -> Path:
        return self.root / relative

    def write_bytes(self, relative: str, data: bytes, item: ExportItem | None = None,
                    **extra: Any) -> Path:
        target = self.path(relative)
        with disk_errors(target):
            atomic_write_bytes(target, data)
        self.log.add(target, self.fmt, item, extra)
        return target

    def write_with(self, relative: str, write: Callable[[Path], None],
                   item: ExportItem | None = None, **extra: Any) -> Path:
        """Write with `write(target)`, a function that writes atomically itself."""
        target = self.path(relative)
        with disk_errors(target):
            write(target)
        self.log.add(target, self.fmt, item, extra)
        return target

    def commit(self, tmp: Path, relative: str, item: ExportItem | None = None,
               **extra: Any) -> Path:
        """Move a finished temporary file onto its final name (fsync, rename)."""
        target = self.path(relative)
        with disk_errors(target):
            atomic_replace(tmp, target)
        self.log.add(target, self.fmt, item, extra)
        return target

    @staticmethod
    def remove_quietly(path: Path) -> None:
        try:
            os.unlink(path)
        except OSError:
            pass


class Exporter:
    """One format: `add` is called for each item in order, `finish` once at the end (also
    after a cancel, for the items added so far), `abort` instead of `finish` after an error."""

    format: ClassVar[str] = ""
    needs_image: ClassVar[bool] = False
    #: whether the format writes a train / val / test split (the CamVid and VOC layouts)
    uses_split: ClassVar[bool] = False

    def __init__(self, out: Output, label_set: LabelSet, options: ExportOptions):
        self.out = out
        self.label_set = label_set
        self.options = options

    def refusal(self, item: ExportItem) -> str:
        """Why this format cannot hold the item (its name breaks the format's own files), or
        "" when it can: such an item is left out of this format only."""
        return ""

    def add(self, item: ExportItem, mask: np.ndarray, image: np.ndarray | None,
            split: str | None) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Write the files that cover every item (list files, JSON...)."""

    def abort(self) -> None:
        """Remove temporary files after an error."""
