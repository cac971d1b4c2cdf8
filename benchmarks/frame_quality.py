"""How well the estimated per-frame accuracy tracks the real one, on a drive the model has
not seen.

    python benchmarks/frame_quality.py --model runs/base-no-0006R0.pt [--drive 0006R0]
        [--store OUT.pt [--into SHIPPED.pt]]

Every frame of the drive is segmented; its real pixel accuracy (void ignored) is compared
with the estimates: the baseline (mean top probability) and the share of pixels whose top
probability reaches a threshold, mapped by a line, and the mean confidence together with the
share of the frame's pixels given each class (a ridge fit: what the frame shows tells how hard
it is). Each fit is made on one half of the drive (frames in time order) and scored on the
other half, both ways round (2-fold, so no frame is scored by a fit made on it). Prints
Spearman's rank correlation of those out-of-fold estimates with the real accuracy, and the
mean absolute error in points. `--store` writes a copy of the model with the best fit (by
error) made on all the drive's frames in its training record ("quality"), which `rank` and
the window use; with `--into`, a copy of that model instead: the shipped model is trained on
every drive, so its fit is the one made with a model of the same recipe trained without the
drive.

Then the level from the user's own frames: the first k frames `priorities` puts first (what
Go > Next suggested frame offers) count as corrected, their real accuracy moves every estimate
(`quality.level_offset`), and the mean absolute error is taken on the other frames, for the
model's stored estimate and for the baseline. On a drive the stored fit was not made on (e.g.
`--model runs/base-no0001TP-cal.pt --drive 0001TP`) this is the figure the window shows.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from segnet_core.checkpoint import load_checkpoint, save_checkpoint
from segnet_core.data import drives, open_dataset
from segnet_core.inference import Predictor
from segnet_core.quality import (QUALITY_KEY, CONFIDENT_SHARE, MEAN_CONFIDENCE, AccuracyCalibration,
                                 class_shares, fit_calibration, level_offset, pixel_accuracy,
                                 priorities, spearman)
from segnet_core.ranking import model_calibration

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"
THRESHOLDS = (0.5, 0.7, 0.9)
LEVEL_FRAMES = (1, 2, 3, 5, 10)


def two_fold(features: np.ndarray, accuracy: np.ndarray, feature: str, threshold: float,
             shares: np.ndarray | None = None):
    half = len(features) // 2
    estimates = np.empty_like(accuracy)
    for fit, test in ((slice(0, half), slice(half, None)), (slice(half, None), slice(0, half))):
        line = fit_calibration(features[fit], accuracy[fit], feature=feature,
                               threshold=threshold, fitted_on="fold",
                               shares=None if shares is None else shares[fit])
        test_shares = [None] * len(features[test]) if shares is None else shares[test]
        estimates[test] = [line.estimate_from_feature(v, s)
                           for v, s in zip(features[test], test_shares)]
    return estimates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--drive", default="0006R0")
    parser.add_argument("--store", type=Path)
    parser.add_argument("--into", type=Path, help="the model --store copies (default --model)")
    args = parser.parse_args()

    checkpoint = load_checkpoint(args.model)
    label_set = checkpoint.label_set()
    held = drives.drive_frames(args.data, args.drive, label_set)
    predictor = Predictor.from_checkpoint(args.model)
    accuracy, confidences, shares, labels = [], [], [], []
    for i in range(len(held)):
        image, truth = held[i]
        found = predictor.predict(image)
        accuracy.append(pixel_accuracy(found.labels, truth, label_set.void_index))
        confidences.append(found.confidence)
        labels.append(found.labels)
        shares.append(class_shares(found.labels, label_set.num_classes))
    accuracy, shares = np.asarray(accuracy), np.asarray(shares)
    print(f"model {args.model}; drive {args.drive}: {len(accuracy)} frames, real accuracy "
          f"{100 * accuracy.mean():.1f} % on average ({100 * accuracy.min():.1f}-"
          f"{100 * accuracy.max():.1f})\n")
    print("| estimate | Spearman | MAE (points) |")
    print("|---|---|---|")
    baseline = np.array([AccuracyCalibration().estimate(c) for c in confidences])
    print(f"| mean confidence, as it is (baseline) | {spearman(baseline, accuracy):.3f} | "
          f"{100 * np.abs(baseline - accuracy).mean():.1f} |")
    candidates = ([(MEAN_CONFIDENCE, 0.5, False)]
                  + [(CONFIDENT_SHARE, t, False) for t in THRESHOLDS]
                  + [(MEAN_CONFIDENCE, 0.5, True)])
    best = None
    for feature, threshold, with_classes in candidates:
        probe = AccuracyCalibration(feature=feature, threshold=threshold)
        values = np.array([probe.feature_of(c) for c in confidences])
        estimates = two_fold(values, accuracy, feature, threshold,
                             shares if with_classes else None)
        mae = float(np.abs(estimates - accuracy).mean())
        name = feature if feature == MEAN_CONFIDENCE else f"{feature} >= {threshold:g}"
        name += " and class shares (ridge)" if with_classes else ", line"
        print(f"| {name}, fitted on the other half | {spearman(estimates, accuracy):.3f} | "
              f"{100 * mae:.1f} |")
        if best is None or mae < best[0]:
            best = (mae, feature, threshold, values, with_classes)
    stored = model_calibration(checkpoint.training)
    estimates = {"the model's stored estimate": np.array(
        [stored.estimate(c, l) for c, l in zip(confidences, labels)]), "mean confidence":
        baseline}
    if stored.fitted_on:
        print(f"| the model's stored estimate ({stored.fitted_on}) | "
              f"{spearman(estimates[next(iter(estimates))], accuracy):.3f} | "
              f"{100 * np.abs(estimates[next(iter(estimates))] - accuracy).mean():.1f} |")
    else:
        del estimates["the model's stored estimate"]
    print("\nlevelled by the first k frames Next suggested offers, once corrected "
          "(mean absolute error on the other frames, points):\n")
    print("| k | " + " | ".join(f"{name}: as stored | levelled" for name in estimates) + " |")
    print("|---" * (1 + 2 * len(estimates)) + "|")
    for k in LEVEL_FRAMES:
        cells = []
        for values in estimates.values():
            order = priorities(values)
            chosen = np.array([rank <= k for rank in order])
            offset = level_offset(values[chosen], accuracy[chosen])
            moved = np.clip(values[~chosen] + offset, 0, 1)
            cells += [f"{100 * np.abs(values[~chosen] - accuracy[~chosen]).mean():.1f}",
                      f"{100 * np.abs(moved - accuracy[~chosen]).mean():.1f}"]
        print(f"| {k} | " + " | ".join(cells) + " |")
    if args.store:
        _, feature, threshold, values, with_classes = best
        line = fit_calibration(values, accuracy, feature=feature, threshold=threshold,
                               shares=shares if with_classes else None,
                               fitted_on=f"{len(values)} frames of CamVid drive {args.drive}, "
                                         f"not trained on")
        if args.into:
            line = replace(line, fitted_on=f"{line.fitted_on} by {args.model.name}, a model "
                                           f"of the same recipe trained without them")
        target = load_checkpoint(args.into) if args.into else checkpoint
        save_checkpoint(args.store, replace(target, training=dict(
            target.training, **{QUALITY_KEY: line.to_dict()}), resume=None))
        print(f"\nstored {line} in {args.store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
