"""`segnet-studio predict`: segment images, folders and videos and write one PNG per image or
frame (`<stem>.png`, `<stem>_<frame:06d>.png` for video frames).

Formats: index (palette PNG of class indices, what `evaluate --predictions` reads), color
(RGB in the label set's colours), overlay (the image blended with the colours) and confidence
(8-bit grey, 255 = probability 1). Unusable inputs are reported and skipped; the exit code is
1 when any was.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from segnet_core.errors import CheckpointError, FileFormatError, SegNetError

HELP = "Segment images, folders or videos and write masks"
FORMATS = ("index", "color", "overlay", "confidence")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def add_model_arguments(parser: argparse.ArgumentParser, model: bool = True) -> None:
    """--model, --device, --precision, --batch-size and --compile, shared with `evaluate`."""
    from segnet_core.device import PRECISIONS

    if model:
        parser.add_argument("--model", metavar="CKPT",
                            help="checkpoint of a trained model (default: the shipped model)")
    parser.add_argument("--device", default="auto",
                        help="auto (default: CUDA when there is one), cpu, cuda or cuda:N")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="auto (default: bf16 or fp16 on a GPU, bf16 on CPUs with native "
                             "bf16, else fp32), fp32, bf16 or fp16")
    parser.add_argument("--batch-size", type=_positive_int, default=4, metavar="B",
                        help="images per forward pass (default: 4)")
    parser.add_argument("--compile", action="store_true",
                        help="run the model through torch.compile: faster after a one-time "
                             "compilation per image size (tens of seconds; needs a C++ "
                             "compiler on a CPU)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="image files, folders of images or video files")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the outputs")
    parser.add_argument("--format", default="index", choices=FORMATS,
                        help="index (palette PNG, default), color, overlay or confidence")
    parser.add_argument("--every", type=_positive_int, default=1, metavar="N",
                        help="segment every N-th video frame (default: every frame)")
    parser.add_argument("--alpha", type=_fraction, default=0.5,
                        help="weight of the colours in --format overlay (default: 0.5)")
    add_model_arguments(parser)


def load_predictor(args: argparse.Namespace):
    """The Predictor for --model (else the shipped model), --device, --precision,
    --batch-size and --compile; a checkpoint error says it came from --model."""
    from segnet_core.inference import Predictor
    from segnet_core.resources import default_model_path

    path = Path(args.model) if args.model else default_model_path()
    try:
        return Predictor.from_checkpoint(path, device=args.device, precision=args.precision,
                                         batch_size=args.batch_size,
                                         compile=getattr(args, "compile", False))
    except CheckpointError as error:
        raise SegNetError(f"--model {error}") from None


def confidence_image(confidence: np.ndarray) -> np.ndarray:
    """Confidence in [0, 1] as 8-bit grey (255 = 1)."""
    return np.clip(np.rint(confidence * 255.0), 0, 255).astype(np.uint8)


def write_prediction(path: str | Path, fmt: str, image: np.ndarray, prediction, label_set,
                     alpha: float = 0.5) -> None:
    """Write `prediction` of `image` to `path` (a .png) in format `fmt`, atomically."""
    from segnet_core.masks.io import write_color_mask, write_index_mask
    from segnet_core.masks.render import overlay_image, write_png

    path = Path(path)
    if fmt == "index":
        write_index_mask(path, prediction.labels, label_set)
    elif fmt == "color":
        write_color_mask(path, prediction.labels, label_set)
    elif fmt == "overlay":
        write_png(path, overlay_image(image, prediction.labels, label_set, alpha))
    elif fmt == "confidence":
        write_png(path, confidence_image(prediction.confidence))
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _reason(error: SegNetError) -> str:
    return error.reason if isinstance(error, FileFormatError) else str(error)


def run(args: argparse.Namespace) -> int:
    from segnet_core.progress import ProgressBar
    from segnet_core.video import count_inputs, iter_inputs, output_name

    predictor = load_predictor(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SegNetError(f"--out {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)

    skipped = 0

    def report(path: Path, error: SegNetError) -> None:
        nonlocal skipped
        skipped += 1
        print(f"skipped {path}: {_reason(error)}", file=sys.stderr, flush=True)

    total = count_inputs(args.inputs, args.every)
    bar = ProgressBar(total, "predict", stream=sys.stderr)
    items = ((item, item.image) for item in iter_inputs(args.inputs, args.every, report))
    written: dict[str, Path] = {}
    model_seconds = 0.0
    predicted = 0
    for item, prediction in predictor.predict_iter(items):
        predicted += 1
        model_seconds = predictor.last_inference_seconds
        name = output_name(item)
        if name in written:
            report(item.source, SegNetError(f"output {name} was already written for "
                                            f"{written[name]}; rename one of them"))
            continue
        target = out / name
        try:
            write_prediction(target, args.format, item.image, prediction,
                             predictor.label_set, args.alpha)
        except OSError as error:
            raise SegNetError(f"cannot write {target}: {error.strerror or error}") from None
        written[name] = item.source
        done = len(written)
        elapsed = max(1e-9, time.monotonic() - bar.start)
        bar.total = max(bar.total, done)
        bar.update(done, f"{done / elapsed:.1f} images/s")
    bar.close()

    ms = f"{1000.0 * model_seconds / predicted:.1f} ms/image" if predicted else "no images"
    print(f"written {len(written)} files to {out}, skipped {skipped}; "
          f"device {predictor.device_description}, precision {predictor.precision}, {ms}")
    return 1 if skipped else 0
