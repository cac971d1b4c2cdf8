import os
from pathlib import Path

import pytest

from segnet_core.kept_estimates import CACHE_ENV

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CAMVID = PROJECT_ROOT.parent / "shared" / "data" / "camvid"


@pytest.fixture
def camvid_root() -> Path:
    """The shared CamVid folder; tests that need it skip cleanly when it is absent."""
    if not (CAMVID / "train.txt").is_file():
        pytest.skip("../shared/data/camvid is not present")
    return CAMVID


@pytest.fixture(autouse=True)
def kept_estimates_in_tmp(tmp_path, monkeypatch) -> Path:
    """Every test, the window's and `segnet-studio rank`'s alike, keeps the estimates in a
    folder of its own, never in the user's cache."""
    folder = tmp_path / "kept estimates"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder
