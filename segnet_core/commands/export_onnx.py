"""`segnet-studio export-onnx`: write a checkpoint's network as an ONNX model
(`segnet_core.onnx_export`), then run it in ONNX Runtime on a test image and compare its
class map with PyTorch's."""

from __future__ import annotations

import argparse
from pathlib import Path

from segnet_core.errors import SegNetError

HELP = "Export a model to ONNX (runs in ONNX Runtime; needs the onnx extra)"
#: Least share of the test image's pixels on which ONNX Runtime and PyTorch must agree.
MIN_AGREEMENT = 0.999


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="CKPT",
                        help="checkpoint of a trained model (default: the shipped model)")
    parser.add_argument("--out", required=True, metavar="FILE", help="the .onnx file to write")
    parser.add_argument("--static", action="store_true",
                        help="fix batch 1 and the checkpoint's input size (default: batch, "
                             "height and width are free)")
    parser.add_argument("--no-check", action="store_true",
                        help="do not run the exported model in ONNX Runtime afterwards")


def run(args: argparse.Namespace) -> int:
    from segnet_core.commands.arguments import load_model_checkpoint
    from segnet_core.onnx_export import DEFAULT_SIZE, check_onnx, export_onnx

    out = Path(args.out)
    if out.is_dir():
        raise SegNetError(f"--out {out}: is a folder; give the .onnx file to write")
    checkpoint = load_model_checkpoint(args)  # read once: export and check see the same weights
    metadata = export_onnx(checkpoint, out, dynamic=not args.static)
    arch = metadata["architecture"]
    height, width = metadata["input_size"] or DEFAULT_SIZE
    shape = "(batch, 3, height, width)" if metadata["dynamic"] else f"(1, 3, {height}, {width})"
    print(f"written {out}: {arch['name']}, {arch['num_classes']} classes, input {shape}, fp32")
    if args.no_check:
        return 0
    try:
        agreement = check_onnx(out, checkpoint)
    except SegNetError as error:
        print(f"not checked: {error}")
        return 0
    print(f"ONNX Runtime and PyTorch agree on {100 * agreement:.2f} % of the test image's pixels")
    if agreement < MIN_AGREEMENT:
        raise SegNetError(f"the exported model's class map differs from PyTorch's on "
                          f"{100 * (1 - agreement):.2f} % of the pixels")
    return 0
