"""The project's own exceptions. Every error about a file names the file."""

from __future__ import annotations

from pathlib import Path


class SegNetError(Exception):
    """Base class of every error the project raises on purpose."""


class FileFormatError(SegNetError):
    """A file that cannot be read as what it should be. `path` names it."""

    def __init__(self, path: str | Path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class LabelSetError(FileFormatError):
    """A label-set file (label_colors.txt or JSON) with a bad line or value."""


class DataError(FileFormatError):
    """An image, mask, list file or data set that cannot be used."""


class CheckpointError(FileFormatError):
    """A checkpoint that is truncated, foreign, hostile or does not fit the model."""


class ModelError(SegNetError):
    """A model that cannot be built as asked (unknown name, bad options, bad input shape)."""


class ExportError(FileFormatError):
    """A file an export could not write (disk full, no permission...). `path` names it; no
    partial file is left under that name."""
