"""What several commands parse alike: number and size types, the model options (--model,
--device, --precision, --batch-size, --compile) and the model they name.

Not a command: the commands import it, never each other.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from segnet_core.errors import CheckpointError, SegNetError

#: The help of --device, in every command that has one.
DEVICE_HELP = "auto (default: CUDA when there is one), cpu, cuda or cuda:N"


def _parsed(text: str, convert, expected: str):
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def positive_int(text: str) -> int:
    value = _parsed(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_number(text: str) -> float:
    value = _parsed(text, float, "a number")
    if not value > 0 or value == math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def fraction(text: str) -> float:
    value = _parsed(text, float, "a number")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def image_size(text: str) -> tuple[int, int]:
    """`HxW`, e.g. 360x480, each side at least the networks' minimum input size."""
    from segnet_core.models.blocks import MIN_INPUT_SIZE

    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be HxW, e.g. 360x480, not {text!r}")
    if height < MIN_INPUT_SIZE or width < MIN_INPUT_SIZE:
        raise argparse.ArgumentTypeError(
            f"size must be at least {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE}")
    return height, width


def add_model_arguments(parser: argparse.ArgumentParser, model: bool = True,
                        batch: bool = True) -> None:
    """--model (unless `model` is False), --device, --precision, and with `batch`
    --batch-size and --compile."""
    from segnet_core.device import PRECISIONS

    if model:
        parser.add_argument("--model", metavar="CKPT",
                            help="checkpoint of a trained model (default: the shipped model)")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="auto (default: bf16 or fp16 on a GPU, bf16 on CPUs with native "
                             "bf16, else fp32), fp32, bf16 or fp16")
    if not batch:
        return
    parser.add_argument("--batch-size", type=positive_int, default=4, metavar="B",
                        help="images per forward pass (default: 4)")
    parser.add_argument("--compile", action="store_true",
                        help="run the model through torch.compile: faster after a one-time "
                             "compilation per image size (tens of seconds; needs a C++ "
                             "compiler on a CPU)")


def model_path(args: argparse.Namespace) -> Path:
    """--model, else the shipped model."""
    from segnet_core.resources import default_model_path

    return Path(args.model) if args.model else default_model_path()


def load_model_checkpoint(args: argparse.Namespace):
    """The Checkpoint of --model (else the shipped model); an error says it came from
    --model."""
    from segnet_core.checkpoint import load_checkpoint

    try:
        return load_checkpoint(model_path(args))
    except CheckpointError as error:
        raise SegNetError(f"--model {error}") from None


def load_predictor(args: argparse.Namespace):
    """The Predictor for --model (else the shipped model), --device, --precision,
    --batch-size and --compile; an error says it came from --model."""
    from segnet_core.inference import Predictor

    try:
        return Predictor.from_checkpoint(model_path(args), device=args.device,
                                         precision=args.precision,
                                         batch_size=args.batch_size, compile=args.compile)
    except CheckpointError as error:
        raise SegNetError(f"--model {error}") from None
