import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CAMVID = PROJECT_ROOT.parent / "shared" / "data" / "camvid"


@pytest.fixture
def camvid_root() -> Path:
    """The shared CamVid folder; tests that need it skip cleanly when it is absent."""
    if not (CAMVID / "train.txt").is_file():
        pytest.skip("../shared/data/camvid is not present")
    return CAMVID
