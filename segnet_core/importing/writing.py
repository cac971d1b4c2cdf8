"""Writing imported masks all or nothing: each mask is encoded to a hidden temporary file in
the target folder first (`segnet_core.atomic`'s naming, so a killed import leaves nothing a
reader sees and the next writer removes it); only when every mask is there are they renamed
onto their final names, after the label set is saved beside them. An error or a cancel
before that removes the temporary files: nothing is written."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from segnet_core.atomic import atomic_replace, temporary_beside
from segnet_core.errors import FileFormatError
from segnet_core.labels import LabelSet
from segnet_core.masks.labels_folder import LabelsFolder
from segnet_core.masks.render import encode_palette_png


class MaskWriteError(FileFormatError):
    """A mask or label-set file the import could not write (disk full, no permission...)."""


@contextmanager
def _disk_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise MaskWriteError(path, f"cannot write: {error.strerror or error}") from None


class StagedMasks:
    """Index masks (palette PNGs in the label set's colours) waiting to be committed."""

    def __init__(self, folder: Path, label_set: LabelSet):
        self.labels = LabelsFolder(folder)
        self.label_set = label_set
        self.palette = label_set.palette()
        self.staged: list[tuple[Path, Path]] = []  # (temporary file, final path)

    def add(self, name: str, mask: np.ndarray, origin: Path) -> None:
        """Encode `mask` to a temporary file for the final name `name`."""
        self.label_set.check_mask(mask, origin)
        final = self.labels.mask_path(name)
        with _disk_errors(final):
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = temporary_beside(final)
            self.staged.append((Path(tmp), final))
            with os.fdopen(fd, "wb") as handle:
                handle.write(encode_palette_png(mask, self.palette))

    def discard(self) -> None:
        """Remove every temporary file."""
        for tmp, _ in self.staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        self.staged = []

    def commit(self) -> list[Path]:
        """Save the label set beside the masks, then move every mask onto its final name.
        The final paths."""
        written: list[Path] = []
        try:
            with _disk_errors(self.labels.root):
                self.labels.write_label_set(self.label_set)
            for tmp, final in self.staged:
                with _disk_errors(final):
                    atomic_replace(tmp, final)
                written.append(final)
        finally:
            self.staged = self.staged[len(written):]
            self.discard()
        return written
