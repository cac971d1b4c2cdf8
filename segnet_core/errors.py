"""The project's own exceptions. Every error about a file names the file.

Every `SegNetError` has a `path` (the file it is about, None when it is about no file) and
a `reason` (the message without the file's name), so a caller that lists problems per file
reads both without asking which kind of error it holds.
"""

from __future__ import annotations

from pathlib import Path


class SegNetError(Exception):
    """Base class of every error the project raises on purpose."""

    #: The file the error is about; None when it is about no file.
    path: Path | None = None

    @property
    def reason(self) -> str:
        """Why, without the file's name (the whole message when there is no file)."""
        return str(self)


class FileFormatError(SegNetError):
    """A file that cannot be read as what it should be. `path` names it."""

    def __init__(self, path: str | Path, reason: str):
        self.path = Path(path)
        self._why = reason
        super().__init__(f"{self.path}: {reason}")

    @property
    def reason(self) -> str:
        return self._why


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
