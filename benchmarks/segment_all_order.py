"""Segment all with an estimate that needs extra passes: each frame estimated as it is
segmented (the order before) against every frame's labels first and the estimates after (the
inference worker's order now), side by side in one process on the same CamVid frames.

    python benchmarks/segment_all_order.py [--model resources/models/segnet-basic-lcn-camvid.pt]
        [--frames 30] [--repeats 3]

Both orders run the worker's own steps without the window: `Predictor.predict`, then either
`estimated_accuracy` at once, or the labels kept in `DeferredEstimates` (PNG) and
`accuracy_from_summary` once every frame has its labels. Prints, for the best of `--repeats`
turns (the orders take turns so a busy moment hits both): when the last frame's labels came,
the mean wait for a frame's labels, when the last estimate came, the ratios, the kept labels'
bytes per frame, and the largest difference between the two orders' estimates (0: same).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.workers.deferred_estimates import DeferredEstimates  # noqa: E402
from segnet_core.data import open_dataset  # noqa: E402
from segnet_core.inference import Predictor  # noqa: E402
from segnet_core.inference.agreement import (accuracy_from_summary,  # noqa: E402
                                             estimated_accuracy, warm_up_scales)
from segnet_core.ranking import predictor_calibration  # noqa: E402
from segnet_core.resources import default_model_path  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"


def interleaved(predictor, calibration, images):
    """Each frame's labels, then its estimate, frame by frame: (label times, estimate times,
    estimates, kept bytes)."""
    start = time.perf_counter()
    labelled, estimated, values = [], [], []
    for image in images:
        prediction = predictor.predict(image)
        labelled.append(time.perf_counter() - start)
        values.append(estimated_accuracy(calibration, predictor, image, prediction))
        estimated.append(time.perf_counter() - start)
    return labelled, estimated, values, 0


def labels_first(predictor, calibration, images):
    """Every frame's labels, then the estimates (the worker's Segment all)."""
    start = time.perf_counter()
    labelled, estimated, values = [], [], []
    waiting = DeferredEstimates()
    for i, image in enumerate(images):
        prediction = predictor.predict(image)
        labelled.append(time.perf_counter() - start)
        waiting.add(i, prediction.labels, calibration.summary_of_prediction(prediction))
    kept = waiting.bytes_used
    while (frame := waiting.pop()) is not None:
        values.append(accuracy_from_summary(calibration, predictor, images[frame.key],
                                            frame.labels(), frame.summary))
        estimated.append(time.perf_counter() - start)
    return labelled, estimated, values, kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    model = args.model or default_model_path()
    predictor = Predictor.from_checkpoint(model, device="cpu")
    calibration = predictor_calibration(predictor)
    if not calibration.uses_scale_agreement:
        print(f"{model}: its estimate needs no extra passes; both orders are the same")
        return 1
    val = open_dataset(args.data, "val")
    step = max(1, len(val) // args.frames)
    images = [val[i][0] for i in range(0, len(val), step)][:args.frames]
    predictor.warm_up()
    warm_up_scales(predictor)
    orders = {"estimate with each frame (before)": interleaved,
              "labels first, estimates after (now)": labels_first}
    best: dict[str, tuple] = {}
    for _ in range(args.repeats):
        for name, run in orders.items():
            result = run(predictor, calibration, images)
            if name not in best or result[1][-1] < best[name][1][-1]:
                best[name] = result
    print(f"{model.name}, {predictor.device_description}, {predictor.precision}: "
          f"{len(images)} CamVid val frames, best of {args.repeats}\n")
    print("| order | last labels (s) | mean wait for labels (s) | last estimate (s) "
          "| labels kept (KB/frame) |")
    print("|---|---|---|---|---|")
    for name, (labelled, estimated, _, kept) in best.items():
        print(f"| {name} | {labelled[-1]:.2f} | {np.mean(labelled):.2f} | {estimated[-1]:.2f} "
              f"| {kept / 1024 / len(images):.1f} |")
    before, now = best.values()
    print(f"\nlast labels: {before[0][-1] / now[0][-1]:.2f}x sooner; mean wait for labels "
          f"{np.mean(before[0]) / np.mean(now[0]):.2f}x shorter; last estimate "
          f"{now[1][-1] / before[1][-1]:.2f}x the time")
    difference = float(np.max(np.abs(np.subtract(before[2], now[2]))))
    print(f"largest difference between the orders' estimates: {difference:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
