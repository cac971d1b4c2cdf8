"""Every SegNetError has a typed `path` and `reason`, so callers list problems per file
without asking which kind of error they hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from segnet_core.errors import (CheckpointError, DataError, ExportError, FileFormatError,
                                LabelSetError, ModelError, SegNetError)


@pytest.mark.parametrize("cls", [FileFormatError, DataError, LabelSetError, CheckpointError,
                                 ExportError])
def test_a_file_error_names_its_file_and_reason_apart(cls):
    error = cls("masks/a.png", "not a readable mask")
    assert error.path == Path("masks/a.png")
    assert error.reason == "not a readable mask"
    assert str(error) == f"{Path('masks/a.png')}: not a readable mask"
    assert isinstance(error, SegNetError)


@pytest.mark.parametrize("cls", [SegNetError, ModelError])
def test_an_error_about_no_file_has_no_path_and_its_message_as_reason(cls):
    error = cls("unknown model 'segnet-xl'")
    assert error.path is None
    assert error.reason == "unknown model 'segnet-xl'"
