"""Files that ship with the project: the CamVid label set and the default model."""

from __future__ import annotations

from pathlib import Path

from segnet_core.errors import SegNetError

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
DEFAULT_MODEL = RESOURCES / "models" / "segnet-basic-lcn-camvid.pt"
#: A first session in eight steps: the window's Help > Getting started, linked from the README
GETTING_STARTED = RESOURCES / "getting_started.md"
#: --model's name for the shipped model (its file is inside the installed package), in the
#: commands and the window alike.
SHIPPED = "shipped"


def default_model_path() -> Path:
    """The shipped CamVid SegNet-Basic-LCN checkpoint, used when no --model is given."""
    if not DEFAULT_MODEL.is_file():
        raise SegNetError(f"the default model is missing ({DEFAULT_MODEL}); pass --model CKPT")
    return DEFAULT_MODEL


def named_model_path(name: str | Path | None) -> Path:
    """The checkpoint a --model value names: the shipped model for none or `SHIPPED`, else
    the file it names (not checked here: loading it says what is wrong)."""
    if name and str(name) != SHIPPED:
        return Path(name)
    return default_model_path()
