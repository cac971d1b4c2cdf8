"""How well the estimated per-frame accuracy tracks the real one, on a drive the model has
not seen.

    python benchmarks/frame_quality.py --model runs/base-no-0006R0.pt [--drive 0006R0]
        [--store OUT.pt]

Every frame of the drive is segmented; its real pixel accuracy (void ignored) is compared
with the estimates: the baseline (mean top probability) and the share of pixels whose top
probability reaches a threshold, mapped by a line. The line is fitted on one half of the
drive (frames in time order) and scored on the other half, both ways round (2-fold, so no
frame is scored by a line fitted on it). Prints Spearman's rank correlation and the mean
absolute error in points. `--store` writes a copy of the model with the line fitted on all
the drive's frames in its training record ("quality"), which `rank` and the window use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from segnet_core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from segnet_core.data import drives, open_dataset
from segnet_core.inference import Predictor
from segnet_core.quality import (CONFIDENT_SHARE, MEAN_CONFIDENCE, AccuracyCalibration,
                                 fit_calibration, pixel_accuracy, spearman)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"
THRESHOLDS = (0.5, 0.7, 0.9)


def two_fold(features: np.ndarray, accuracy: np.ndarray, feature: str, threshold: float):
    half = len(features) // 2
    estimates = np.empty_like(accuracy)
    for fit, test in ((slice(0, half), slice(half, None)), (slice(half, None), slice(0, half))):
        line = fit_calibration(features[fit], accuracy[fit], feature=feature,
                               threshold=threshold, fitted_on="fold")
        estimates[test] = [line.estimate_from_feature(v) for v in features[test]]
    return estimates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--drive", default="0006R0")
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()

    checkpoint = load_checkpoint(args.model)
    label_set = checkpoint.label_set()
    held = drives.drive_frames(args.data, args.drive, label_set)
    predictor = Predictor.from_checkpoint(args.model)
    accuracy, confidences = [], []
    for i in range(len(held)):
        image, truth = held[i]
        found = predictor.predict(image)
        accuracy.append(pixel_accuracy(found.labels, truth, label_set.void_index))
        confidences.append(found.confidence)
    accuracy = np.asarray(accuracy)
    print(f"model {args.model}; drive {args.drive}: {len(accuracy)} frames, real accuracy "
          f"{100 * accuracy.mean():.1f} % on average ({100 * accuracy.min():.1f}-"
          f"{100 * accuracy.max():.1f})\n")
    print("| estimate | Spearman | MAE (points) |")
    print("|---|---|---|")
    baseline = np.array([AccuracyCalibration().estimate(c) for c in confidences])
    print(f"| mean confidence, as it is (baseline) | {spearman(baseline, accuracy):.3f} | "
          f"{100 * np.abs(baseline - accuracy).mean():.1f} |")
    candidates = [(MEAN_CONFIDENCE, 0.5)] + [(CONFIDENT_SHARE, t) for t in THRESHOLDS]
    best = None
    for feature, threshold in candidates:
        probe = AccuracyCalibration(feature=feature, threshold=threshold)
        values = np.array([probe.feature_of(c) for c in confidences])
        estimates = two_fold(values, accuracy, feature, threshold)
        mae = float(np.abs(estimates - accuracy).mean())
        name = feature if feature == MEAN_CONFIDENCE else f"{feature} >= {threshold:g}"
        print(f"| {name}, line fitted on the other half | {spearman(values, accuracy):.3f} | "
              f"{100 * mae:.1f} |")
        if best is None or mae < best[0]:
            best = (mae, feature, threshold, values)
    if args.store:
        _, feature, threshold, values = best
        line = fit_calibration(values, accuracy, feature=feature, threshold=threshold,
                               fitted_on=f"{len(values)} frames of CamVid drive {args.drive}, "
                                         f"not trained on")
        training = dict(checkpoint.training, quality=line.to_dict())
        save_checkpoint(args.store, Checkpoint(
            architecture=dict(checkpoint.architecture), state_dict=checkpoint.state_dict,
            labels=checkpoint.labels, input_size=checkpoint.input_size,
            normalization=dict(checkpoint.normalization), training=training))
        print(f"\nstored {line} in {args.store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
