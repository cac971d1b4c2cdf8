"""What several commands parse alike: number and size types, the model options (--model,
--device, --precision, --batch-size, --compile) and the model they name.

Not a command: the commands import it, never each other.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Sequence

from segnet_core.errors import CheckpointError, SegNetError
from segnet_core.resources import SHIPPED, named_model_path

#: The help of --device, in every command that has one (and the window's).
DEVICE_HELP = "auto (default: CUDA when there is one), cpu, cuda or cuda:N"
#: The help of --precision, in every command that segments (and the window's).
PRECISION_HELP = ("auto (default: bf16 or fp16 on a GPU, bf16 on CPUs with native bf16, else "
                  "fp32), fp32, bf16 or fp16")


def _parsed(text: str, convert, expected: str):
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def choices_help(choices, default: object) -> str:
    """"a (default): what a does; b: what b does" for the members of a `Choice` class whose
    `description` is the panel's wording ("Median-frequency weights")."""
    return "; ".join(f"{member.value}{' (default)' if member.value == str(default) else ''}: "
                     f"{member.description[:1].lower()}{member.description[1:]}"
                     for member in choices)


def path_text(text: str) -> str:
    """A file or folder argument: an empty one would stand for the current folder (a
    tester's check: `predict "" --out X` segmented the folder it was run in)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path; give a file or folder")
    return text


def positive_int(text: str) -> int:
    value = _parsed(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def whole_number(text: str) -> int:
    """A count that may be 0 (`export --min-area`)."""
    value = _parsed(text, int, "a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
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


#: What a command that segments a project's frames uses without --model (`follow_project`).
MODEL_DEFAULT = ("default: the current fine-tuned version of the inputs' project, as the "
                 f"window uses it, else the shipped model; '{SHIPPED}': the shipped model")


def add_model_arguments(parser: argparse.ArgumentParser, model: bool = True,
                        batch: bool = True) -> None:
    """--model (unless `model` is False), --device, --precision, and with `batch`
    --batch-size and --compile."""
    from segnet_core.device import PRECISIONS

    if model:
        parser.add_argument("--model", metavar="CKPT", help="checkpoint of a trained model "
                                                            f"({MODEL_DEFAULT})")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    parser.add_argument("--precision", default="auto", choices=PRECISIONS, help=PRECISION_HELP)
    if not batch:
        return
    parser.add_argument("--batch-size", type=positive_int, default=4, metavar="B",
                        help="images per forward pass (default: 4)")
    parser.add_argument("--compile", action="store_true",
                        help="run the model through torch.compile: faster after a one-time "
                             "compilation per image size (tens of seconds; needs a C++ "
                             "compiler on a CPU)")


def model_path(args: argparse.Namespace) -> Path:
    """--model, else (or named `SHIPPED`) the shipped model."""
    return named_model_path(args.model)


def follow_project(args: argparse.Namespace, inputs: Sequence[str | Path], doing: str) -> None:
    """Without --model, the model the window would use for `inputs`: the current fine-tuned
    version of their project, when there is one (said on stderr once loaded: "`doing` with
    the fine-tuned model v004 of street"); `load_predictor` and `load_model_checkpoint` then fall
    back to the shipped model, with a warning, when it will not load. Inputs from several projects
    (labels folders) get the shipped model, with a warning when one of them has a version of
    its own: one project's model is not meant for another's frames. An index of versions
    that cannot be read is warned about and passed over."""
    from segnet_core.finetune import project_to_follow

    args.followed = ""
    if args.model:
        return

    def unreadable(index: Path, error: SegNetError) -> None:
        print(f"warning: {error}; its fine-tuned models are left out", file=sys.stderr,
              flush=True)

    found, passed_over = project_to_follow(inputs, unreadable)
    if passed_over:
        print(f"warning: {passed_over}: {doing} with the shipped model (--model to choose)",
              file=sys.stderr, flush=True)
    if found is None:
        return
    args.model = str(found.version.path)
    args.followed = found.name
    args.doing = doing  # said once it has loaded (`_loaded`)


def _loaded(args: argparse.Namespace, load):
    """`load(path)` of --model (else the shipped model); an error says it came from --model,
    or for a project's version `follow_project` chose, is warned about and the shipped model
    is loaded instead."""
    followed = getattr(args, "followed", "")
    try:
        loaded = load(model_path(args))
    except CheckpointError as error:
        if not followed:
            raise SegNetError(f"--model {error}") from None
        print(f"warning: {followed} could not be loaded ({error}); using the shipped model",
              file=sys.stderr, flush=True)
        args.model, args.followed = None, ""
        return _loaded(args, load)
    if followed:
        print(f"{args.doing} with {followed}, its current version (--model to choose another)",
              file=sys.stderr, flush=True)
    return loaded


def load_model_checkpoint(args: argparse.Namespace):
    """The Checkpoint of --model (else the shipped model: `_loaded`)."""
    from segnet_core.checkpoint import load_checkpoint

    return _loaded(args, load_checkpoint)


def load_predictor(args: argparse.Namespace):
    """The Predictor for --model (else the shipped model: `_loaded`), --device, --precision,
    --batch-size and --compile."""
    from segnet_core.inference import Predictor

    return _loaded(args, lambda path: Predictor.from_checkpoint(
        path, device=args.device, precision=args.precision, batch_size=args.batch_size,
        compile=args.compile))
