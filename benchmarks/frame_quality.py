"""How well the estimated per-frame accuracy tracks the real one, on a drive the model has
not seen.

    python benchmarks/frame_quality.py --model runs/base-no-0006R0.pt [--drive 0006R0]
        [--across runs/base-no-0001TP.pt 0001TP] [--store OUT.pt [--into SHIPPED.pt]]

Every frame of the drive is segmented; its real pixel accuracy (void ignored) is compared
with the estimates: the baseline (mean top probability) and the share of pixels whose top
probability reaches a threshold, mapped by a line, and the mean confidence together with the
share of the frame's pixels given each class (a ridge fit: what the frame shows tells how hard
it is), and the mean confidence times the frame's scale agreement (`inference.agreement`: the
share of its labels that hold when the model sees it at 0.75 and 1.33 of its input size;
2.3 passes more), by a line.
Each fit is made on one half of the drive (frames in time order) and scored on the other
half, both ways round (2-fold, so no frame is scored by a fit made on it). Prints
Spearman's rank correlation of those out-of-fold estimates with the real accuracy, and the
mean absolute error in points. `--store` writes a copy of the model with the best fit (by
error) made on all the drive's frames in its training record ("quality"), which `rank` and
the window use; with `--into`, a copy of that model instead: the shipped model is trained on
every drive, so its fit is the one made with a model of the same recipe trained without the
drive. `--across MODEL DRIVE` (repeatable) adds a drive with the model trained without it: every
estimate is fitted on all drives but one and scored on that one, each drive in turn (with
two drives: fitted on one, scored on the other, both ways round), and `--store` keeps the one
with the lowest summed error (mean confidence as it is, not fitted, among them), fitted on
every drive's frames: the choice a new street puts to the test.

Then the level from the user's own frames: the first k frames Go > Next suggested frame
offers (the plan, `frame_order.next_plan_pick`), each corrected before the next is asked for
(`frame_order.picks_in_turn`), count as
corrected; their real accuracy moves every estimate (`quality.levelling`: level and tilt, and
with the frames' places the local part, as the window and `rank` do), and the mean absolute
error and Spearman are taken on the other frames, for the model's stored estimate and for
the baseline. On a drive the stored fit was not made on (e.g.
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
from segnet_core.frame_order import picks_in_turn
from segnet_core.inference import Predictor
from segnet_core.inference.agreement import scale_agreement
from segnet_core.quality import (QUALITY_KEY, CONFIDENCE_X_AGREEMENT, CONFIDENT_SHARE,
                                 MEAN_CONFIDENCE, AccuracyCalibration,
                                 class_shares, fit_calibration, levelling, pixel_accuracy,
                                 spearman)
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


class Measured:
    """Every frame of a drive segmented by a model: real accuracy, top-probability maps,
    label maps, class shares and scale agreements (`inference.agreement`)."""

    def __init__(self, model: Path, data: Path, drive: str):
        self.model, self.drive = model, drive
        self.checkpoint = load_checkpoint(model)
        label_set = self.checkpoint.label_set()
        held = drives.drive_frames(data, drive, label_set)
        predictor = Predictor.from_checkpoint(model)
        accuracy, self.confidences, shares, self.labels, agreements = [], [], [], [], []
        for i in range(len(held)):
            image, truth = held[i]
            found = predictor.predict(image)
            accuracy.append(pixel_accuracy(found.labels, truth, label_set.void_index))
            self.confidences.append(found.confidence)
            self.labels.append(found.labels)
            shares.append(class_shares(found.labels, label_set.num_classes))
            agreements.append(scale_agreement(predictor, image, found.labels))
        self.accuracy, self.shares = np.asarray(accuracy), np.asarray(shares)
        self.agreements = np.asarray(agreements)

    def values(self, feature: str, threshold: float) -> np.ndarray:
        probe = AccuracyCalibration(feature=feature, threshold=threshold)
        return np.array([probe.feature_of(c, a)
                         for c, a in zip(self.confidences, self.agreements)])


#: (name, feature, threshold, with class shares); None: mean confidence as it is, no fit.
CANDIDATES = ([(f"{MEAN_CONFIDENCE}, line", MEAN_CONFIDENCE, 0.5, False)]
              + [(f"{CONFIDENT_SHARE} >= {t:g}, line", CONFIDENT_SHARE, t, False)
                 for t in THRESHOLDS]
              + [(f"{MEAN_CONFIDENCE} and class shares (ridge)", MEAN_CONFIDENCE, 0.5, True),
                 (f"{MEAN_CONFIDENCE} x scale agreement, line", CONFIDENCE_X_AGREEMENT, 0.5,
                  False)])
AS_IT_IS = ("mean confidence, as it is", None, 0.5, False)


def fit_on(frames: list[Measured], candidate, fitted_on: str) -> AccuracyCalibration:
    name, feature, threshold, with_classes = candidate
    if feature is None:
        return AccuracyCalibration(fitted_on=fitted_on)
    return fit_calibration(np.concatenate([m.values(feature, threshold) for m in frames]),
                           np.concatenate([m.accuracy for m in frames]), feature=feature,
                           threshold=threshold, fitted_on=fitted_on,
                           shares=np.concatenate([m.shares for m in frames]) if with_classes
                           else None)


def estimates_of(line: AccuracyCalibration, frames: Measured) -> np.ndarray:
    return np.array([line.estimate(c, l, a) for c, l, a in zip(frames.confidences, frames.labels,
                                                                frames.agreements)])


def suggested(values: np.ndarray, k: int, accuracy: np.ndarray) -> np.ndarray:
    """Which frames are among the first k Next suggested frame offers, each corrected (its
    real `accuracy` shown) before the next is asked for (`picks_in_turn`)."""
    chosen = np.zeros(len(values), dtype=bool)
    chosen[picks_in_turn(values, accuracy.__getitem__, k, rule="plan")] = True
    return chosen


def levelled_error(values: np.ndarray, frames: Measured, k: int, *, local: bool = False):
    """Mean absolute error on the other frames once the first k frames Next suggested frame
    offers are corrected and every estimate is levelled by them; with `local`, (that error,
    Spearman on the other frames) with the levelling's local part (frames near a corrected
    one move by its miss), as the window and `rank` level."""
    accuracy = frames.accuracy
    chosen = suggested(values, k, accuracy)
    places = np.arange(len(values))
    if not local:
        level = levelling(values[chosen], accuracy[chosen])
        moved = np.array([level.apply(v) for v in values[~chosen]])
        return float(np.abs(moved - accuracy[~chosen]).mean())
    level = levelling(values[chosen], accuracy[chosen], positions=places[chosen],
                      length=len(values))
    moved = np.array([level.apply(v, p) for v, p in zip(values[~chosen], places[~chosen])])
    return (float(np.abs(moved - accuracy[~chosen]).mean()),
            spearman(moved, accuracy[~chosen]))


def across_drives(drives_measured: list[Measured]):
    """Each candidate fitted on all drives but one and scored on that one, each drive in
    turn (with two drives: one way, then the other); the candidate with the lowest summed
    error comes back."""
    names = [m.drive for m in drives_measured]
    models = ", ".join(f"{m.drive}: {m.model}" for m in drives_measured)
    print(f"\nacross drives: each estimate fitted on the other drives' frames and scored on "
          f"one, by the model trained without it ({models})\n")
    print("| estimate | " + " | ".join(f"-> {name}: Spearman / MAE / levelled by 3"
                                     for name in names) + " | mean Spearman / MAE |")
    print("|---|" + "---|" * (len(names) + 1))
    best = None
    for candidate in [AS_IT_IS] + CANDIDATES:
        cells, ranks, errors = [], [], []
        for target in drives_measured:
            sources = [m for m in drives_measured if m is not target]
            values = estimates_of(fit_on(sources, candidate, "fold"), target)
            errors.append(float(np.abs(values - target.accuracy).mean()))
            ranks.append(spearman(values, target.accuracy))
            cells.append(f"{ranks[-1]:.3f} / {100 * errors[-1]:.1f} / "
                         f"{100 * levelled_error(values, target, 3):.1f}")
        print(f"| {candidate[0]} | " + " | ".join(cells)
              + f" | {np.mean(ranks):.3f} / {100 * np.mean(errors):.1f} |")
        if best is None or sum(errors) < best[0]:
            best = (sum(errors), candidate)
    print(f"\nlowest summed error across drives: {best[1][0]}")
    return best[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--drive", default="0006R0")
    parser.add_argument("--across", nargs=2, metavar=("MODEL", "DRIVE"), action="append",
                        help="another held-out drive and the model trained without it "
                             "(repeatable): each fit is also made on all drives but one and "
                             "scored on that one, and --store keeps the estimate that "
                             "transfers best, fitted on all of them")
    parser.add_argument("--store", type=Path)
    parser.add_argument("--into", type=Path, help="the model --store copies (default --model)")
    args = parser.parse_args()

    here = Measured(args.model, args.data, args.drive)
    accuracy, confidences = here.accuracy, here.confidences
    print(f"model {args.model}; drive {args.drive}: {len(accuracy)} frames, real accuracy "
          f"{100 * accuracy.mean():.1f} % on average ({100 * accuracy.min():.1f}-"
          f"{100 * accuracy.max():.1f})\n")
    print("| estimate | Spearman | MAE (points) |")
    print("|---|---|---|")
    baseline = np.array([AccuracyCalibration().estimate(c) for c in confidences])
    print(f"| mean confidence, as it is (baseline) | {spearman(baseline, accuracy):.3f} | "
          f"{100 * np.abs(baseline - accuracy).mean():.1f} |")
    best = None
    for candidate in CANDIDATES:
        name, feature, threshold, with_classes = candidate
        estimates = two_fold(here.values(feature, threshold), accuracy, feature, threshold,
                             here.shares if with_classes else None)
        mae = float(np.abs(estimates - accuracy).mean())
        print(f"| {name}, fitted on the other half | {spearman(estimates, accuracy):.3f} | "
              f"{100 * mae:.1f} |")
        if best is None or mae < best[0]:
            best = (mae, candidate)
    stored = model_calibration(here.checkpoint.training)
    estimates = {"the model's stored estimate": estimates_of(stored, here),
                 "mean confidence": baseline}
    if stored.fitted_on:
        values = estimates["the model's stored estimate"]
        print(f"| the model's stored estimate ({stored.fitted_on}) | "
              f"{spearman(values, accuracy):.3f} | "
              f"{100 * np.abs(values - accuracy).mean():.1f} |")
    else:
        del estimates["the model's stored estimate"]
    print("\nlevelled by the first k frames Next suggested offers, once corrected "
          "(on the other frames: mean absolute error in points, and Spearman; 'local': frames "
          "near a corrected one also move by its miss, as the window and rank do):\n")
    print("| k | " + " | ".join(f"{name}: as stored | levelled | local | Spearman as stored "
                                f"| local" for name in estimates) + " |")
    print("|---" * (1 + 5 * len(estimates)) + "|")
    for k in LEVEL_FRAMES:
        cells = []
        for values in estimates.values():
            chosen = suggested(values, k, accuracy)
            local_error, local_rank = levelled_error(values, here, k, local=True)
            cells += [f"{100 * np.abs(values[~chosen] - accuracy[~chosen]).mean():.1f}",
                      f"{100 * levelled_error(values, here, k):.1f}",
                      f"{100 * local_error:.1f}",
                      f"{spearman(values[~chosen], accuracy[~chosen]):.3f}",
                      f"{local_rank:.3f}"]
        print(f"| {k} | " + " | ".join(cells) + " |")
    chosen, frames = best[1], [here]
    if args.across:
        frames = [here] + [Measured(Path(model), args.data, drive)
                           for model, drive in args.across]
        chosen = across_drives(frames)
    if args.store:
        described = " and ".join(f"{len(m.accuracy)} frames of CamVid drive {m.drive} (by "
                                 f"{m.model})" for m in frames)
        if chosen[1] is None:
            text = (f"not fitted: mean confidence as it is transferred best across "
                    f"{described}, each by a model of this recipe trained without it")
        else:
            text = f"{described}, not trained on"
            if args.into or len(frames) > 1:
                text += ", each by a model of the same recipe trained without it"
        line = fit_on(frames, chosen, text)
        target = load_checkpoint(args.into) if args.into else here.checkpoint
        save_checkpoint(args.store, replace(target, training=dict(
            target.training, **{QUALITY_KEY: line.to_dict()}), resume=None))
        print(f"\nstored {line} in {args.store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
