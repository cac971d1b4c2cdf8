"""End-to-end time per frame of trained models side by side (e.g. the shipped model and the
one it replaced), in one process, on the same CamVid frames.

    python benchmarks/model_speed.py --models resources/models/segnet-basic-lcn-camvid.pt \
        OLD.pt [--frames 20] [--repeats 3] [--precision auto fp32] [--estimate]

Each model runs `Predictor.predict` (resizing to its input size, the fast path, softmax,
outputs scaled back to 360x480) on the same frames; the models take turns pass by pass so a
busy moment hits them alike. Prints the best pass's ms/frame per model and precision, and the
ratio to the first model, and with several precisions, the share of pixels whose class
agrees with the model's first precision (e.g. bf16 against fp32). With `--estimate` each
frame's time includes its estimated accuracy by the model's stored calibration, as `rank` and
the window compute it (`inference.agreement.estimated_accuracy`: a calibration on scale
agreement runs the model at two more scales).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from segnet_core.checkpoint import load_checkpoint
from segnet_core.data import open_dataset
from segnet_core.inference import Predictor
from segnet_core.inference.agreement import estimated_accuracy
from segnet_core.ranking import predictor_calibration

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, nargs="+", required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precision", nargs="+", default=["auto"])
    parser.add_argument("--estimate", action="store_true",
                        help="time each frame's estimated accuracy too")
    args = parser.parse_args()

    val = open_dataset(args.data, "val")
    step = max(1, len(val) // args.frames)
    images = [val[i][0] for i in range(0, len(val), step)][:args.frames]
    runs = {}
    for path in args.models:
        for precision in args.precision:
            predictor = Predictor.from_checkpoint(path, device="cpu", precision=precision)
            predictor.predict(images[0])  # warm-up
            runs[(path, precision)] = [predictor, float("inf"), [],
                                       predictor_calibration(predictor)]
    for _ in range(args.repeats):
        for entry in runs.values():
            predictor, calibration = entry[0], entry[3]
            start = time.perf_counter()
            entry[2] = []
            for image in images:
                prediction = predictor.predict(image)
                if args.estimate:
                    estimated_accuracy(calibration, predictor, image, prediction)
                entry[2].append(prediction.labels)
            entry[1] = min(entry[1], (time.perf_counter() - start) / len(images))
    print(f"{len(images)} CamVid val frames ({images[0].shape[0]}x{images[0].shape[1]}), "
          f"best of {args.repeats} passes, {torch.get_num_threads()} torch threads"
          + (", each frame with its estimated accuracy" if args.estimate else "") + "\n")
    print("| model | network | input | precision | estimate | ms/frame | frames/s | ratio "
          "| class agreement |")
    print("|---|---|---|---:|---|---:|---:|---:|---:|")
    first = next(iter(runs.values()))[1]
    for (path, precision), (predictor, seconds, labels, calibration) in runs.items():
        checkpoint = load_checkpoint(path)
        size = "x".join(map(str, checkpoint.input_size))
        reference = runs[(path, args.precision[0])][2]
        agree = sum(int((a == b).sum()) for a, b in zip(labels, reference)) / \
            sum(a.size for a in labels)
        estimate = calibration.feature if args.estimate else "-"
        print(f"| {path} | {checkpoint.architecture['name']} | {size} | {predictor.precision} | "
              f"{estimate} | "
              f"{1000 * seconds:.0f} | {1 / seconds:.2f} | {seconds / first:.2f}x | "
              f"{100 * agree:.2f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
