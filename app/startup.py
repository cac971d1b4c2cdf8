"""What the window is started with: paths to open, the model, device and precision, and a
hidden option to save a screenshot once the first overlay is drawn (for checks under Xvfb)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from segnet_core.cli import MODEL_ENV, add_window_arguments
from segnet_core.errors import SegNetError
from segnet_core.resources import named_model_path


@dataclass
class WindowOptions:
    paths: list[str]
    model: str | None
    device: str
    precision: str
    screenshot: str | None


def parse_window_args(argv: Sequence[str]) -> WindowOptions:
    parser = argparse.ArgumentParser(prog="segnet-studio",
                                     description="Open images, folders or videos in SegNet "
                                                 "Studio's window.")
    add_window_arguments(parser)
    parser.add_argument("--screenshot", help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv))
    return WindowOptions(args.paths, args.model, args.device, args.precision, args.screenshot)


def model_was_chosen(option: str | None) -> bool:
    """Whether the user named the model to start with (`--model` or $SEGNET_STUDIO_MODEL);
    if not, the window follows the model of each project opened (`app.project_model`)."""
    return bool(option or os.environ.get(MODEL_ENV))


def choose_model(option: str | None) -> tuple[Path | None, str]:
    """The checkpoint to load at start (the option, $SEGNET_STUDIO_MODEL or the shipped
    model; either may name it 'shipped', as the commands' --model does) and, when there is
    none, why."""
    try:
        return named_model_path(option or os.environ.get(MODEL_ENV)), ""
    except SegNetError as error:
        return None, str(error)
