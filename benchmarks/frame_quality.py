"""How well the estimated per-frame accuracy tracks the real one, on a drive the model has
not seen.

    python benchmarks/frame_quality.py --model runs/base-no-0006R0.pt [--drive 0006R0]
        [--across runs/base-no-0001TP.pt 0001TP] [--store OUT.pt [--into SHIPPED.pt]]
        [--sweep-levelling]

Every frame of the drive is segmented; its real pixel accuracy (void ignored) is compared
with the estimates: the baseline (mean top probability) and the share of pixels whose top
probability reaches a threshold, mapped by a line, and the mean confidence together with the
share of the frame's pixels given each class (a ridge fit: what the frame shows tells how hard
it is), and the mean confidence times the frame's scale agreement (`inference.agreement`: the
share of its labels that hold when the model sees it at 0.75 and 1.33 of its input size;
2.3 passes more), by a line; and the same two with the model's class weights undone (the
"unweighted confidence": `inference.images.unweighted_confidence`, the probability of each
pixel's label once the median-frequency weights its loss used are divided out), as it is and
by a line.
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

Beside it, the Spearman of mean confidence and of mean confidence x scale agreement within
each half of the drive: a drive-wide figure can rest on one stretch being worse than another.

Then the level from the user's own frames: the first k frames Go > Next suggested frame
offers (the plan, `frame_order.next_plan_pick`), each corrected before the next is asked for
(`frame_order_trials.picks_in_turn`), count as
corrected; their real accuracy moves every estimate (`quality.levelling`: level and tilt, and
with the frames' places the local part, as the window and `rank` do), and the mean absolute
error and Spearman are taken on the other frames, for the model's stored estimate and for
the baseline. On a drive the stored fit was not made on (e.g.
`--model runs/base-no0001TP-cal.pt --drive 0001TP`) this is the figure the window shows.

`--sweep-levelling` (with `--across`) measures other priors of that levelling
(`quality.LevellingPriors`, `LEVELLING_SWEEP`) leave one drive out: for each drive, the priors
with the lowest mean error over k = 1, 2, 3, 5, 10 on the other drives (both the estimate
chosen across drives, fitted on the other drives (the line of mean confidence x scale
agreement when the choice is mean confidence as it is), and mean confidence as it is) are
scored on it, against the shipped priors and the ones before them.
A drive may come more than once (bases of several training seeds trained without it): a fit
or a choice for a drive never uses any of its frames.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from segnet_core.checkpoint import load_checkpoint, save_checkpoint
from segnet_core.data import drives, open_dataset
from segnet_core.frame_order_trials import picks_in_turn
from segnet_core.inference import Prediction, Predictor
from segnet_core.inference.agreement import scale_agreement
from segnet_core.quality import (QUALITY_KEY, CONFIDENCE_X_AGREEMENT, CONFIDENT_SHARE,
                                 MEAN_CONFIDENCE, UNWEIGHTED_CONFIDENCE, UNWEIGHTED_X_AGREEMENT,
                                 AccuracyCalibration, LevellingPriors,
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
        if not predictor.undoes_class_weights:
            raise SystemExit(f"{model}: its training record has no class weights for its "
                             f"classes (the unweighted confidence needs them)")
        accuracy, self.confidences, shares, self.labels, agreements = [], [], [], [], []
        self.unweighted = []
        for i in range(len(held)):
            image, truth = held[i]
            found = predictor.predict(image)
            accuracy.append(pixel_accuracy(found.labels, truth, label_set.void_index))
            self.confidences.append(found.confidence)
            self.unweighted.append(found.unweighted_confidence)
            self.labels.append(found.labels)
            shares.append(class_shares(found.labels, label_set.num_classes))
            agreements.append(scale_agreement(predictor, image, found.labels))
        self.accuracy, self.shares = np.asarray(accuracy), np.asarray(shares)
        self.agreements = np.asarray(agreements)

    def prediction(self, i: int) -> Prediction:
        return Prediction(self.labels[i], self.confidences[i], self.unweighted[i])

    def values(self, feature: str, threshold: float) -> np.ndarray:
        probe = AccuracyCalibration(feature=feature, threshold=threshold)
        return np.array([probe.feature_from_summary(probe.summary_of_prediction(
            self.prediction(i)), a) for i, a in enumerate(self.agreements)])


#: (name, feature, threshold, with class shares); None: mean confidence as it is, no fit.
CANDIDATES = ([(f"{MEAN_CONFIDENCE}, line", MEAN_CONFIDENCE, 0.5, False)]
              + [(f"{CONFIDENT_SHARE} >= {t:g}, line", CONFIDENT_SHARE, t, False)
                 for t in THRESHOLDS]
              + [(f"{MEAN_CONFIDENCE} and class shares (ridge)", MEAN_CONFIDENCE, 0.5, True),
                 (f"{MEAN_CONFIDENCE} x scale agreement, line", CONFIDENCE_X_AGREEMENT, 0.5,
                  False),
                 (f"{UNWEIGHTED_CONFIDENCE}, line", UNWEIGHTED_CONFIDENCE, 0.5, False),
                 (f"{UNWEIGHTED_X_AGREEMENT}, line", UNWEIGHTED_X_AGREEMENT, 0.5, False)])
AS_IT_IS = ("mean confidence, as it is", None, 0.5, False)
#: The confidence with the model's class weights undone, as it is (not fitted).
UNWEIGHTED_AS_IT_IS = ("unweighted confidence, as it is", UNWEIGHTED_CONFIDENCE, 0.5, False)


def fit_on(frames: list[Measured], candidate, fitted_on: str) -> AccuracyCalibration:
    name, feature, threshold, with_classes = candidate
    if feature is None or candidate == UNWEIGHTED_AS_IT_IS:
        return AccuracyCalibration(feature=feature or MEAN_CONFIDENCE, fitted_on=fitted_on)
    return fit_calibration(np.concatenate([m.values(feature, threshold) for m in frames]),
                           np.concatenate([m.accuracy for m in frames]), feature=feature,
                           threshold=threshold, fitted_on=fitted_on,
                           shares=np.concatenate([m.shares for m in frames]) if with_classes
                           else None)


def estimates_of(line: AccuracyCalibration, frames: Measured) -> np.ndarray:
    return np.array([line.estimate_from_summary(line.summary_of_prediction(frames.prediction(i)),
                                                frames.labels[i], frames.agreements[i])
                     for i in range(len(frames.accuracy))])


def suggested(values: np.ndarray, k: int, accuracy: np.ndarray,
              priors: LevellingPriors = LevellingPriors()) -> np.ndarray:
    """Which frames are among the first k Next suggested frame offers, each corrected (its
    real `accuracy` shown) before the next is asked for (`picks_in_turn`)."""
    chosen = np.zeros(len(values), dtype=bool)
    chosen[picks_in_turn(values, accuracy.__getitem__, k, rule="plan", priors=priors)] = True
    return chosen


def levelled_error(values: np.ndarray, frames: Measured, k: int, *, local: bool = False,
                   priors: LevellingPriors = LevellingPriors()):
    """Mean absolute error on the other frames once the first k frames Next suggested frame
    offers are corrected and every estimate is levelled by them; with `local`, (that error,
    Spearman on the other frames) with the levelling's local part (frames near a corrected
    one move by its miss), as the window and `rank` level."""
    accuracy = frames.accuracy
    chosen = suggested(values, k, accuracy, priors)
    places = np.arange(len(values))
    if not local:
        level = levelling(values[chosen], accuracy[chosen], priors=priors)
        moved = np.array([level.apply(v) for v in values[~chosen]])
        return float(np.abs(moved - accuracy[~chosen]).mean())
    level = levelling(values[chosen], accuracy[chosen], positions=places[chosen],
                      length=len(values), priors=priors)
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
    for candidate in [AS_IT_IS, UNWEIGHTED_AS_IT_IS] + CANDIDATES:
        cells, ranks, errors = [], [], []
        for target in drives_measured:
            sources = [m for m in drives_measured if m.drive != target.drive]
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


#: The priors `--sweep-levelling` tries: every combination of these.
LEVELLING_SWEEP = {"level_frames": (1.0, 2.0), "tilt_frames": (2.0, 5.0, 10.0, float("inf")),
                   "tilt_min_frames": (3, 5), "local_frames": (1.0, 2.0)}
#: The priors shipped before December 2026 (tuned for mean confidence on two drives).
EARLIER_PRIORS = LevellingPriors(level_frames=1.0, tilt_frames=2.0)


def sweep_levelling(measured: list[Measured], line) -> LevellingPriors:
    """Every `LEVELLING_SWEEP` combination, leave one drive out (see the module's docstring),
    for the estimate `line` (a candidate, fitted on the other drives) and the mean confidence
    as it is; returns the priors with the lowest error over all drives."""
    estimates = []  # (measured, {estimate: values}) with each line fitted on the other drives
    for m in measured:
        others = [o for o in measured if o.drive != m.drive]
        estimates.append((m, {line[0]: estimates_of(fit_on(others, line, "fold"), m),
                              "mean confidence, as it is":
                              estimates_of(AccuracyCalibration(), m)}))
    names = list(estimates[0][1])
    keys = list(LEVELLING_SWEEP)
    grid = [LevellingPriors(**dict(zip(keys, values)))
            for values in itertools.product(*LEVELLING_SWEEP.values())]
    grid += [p for p in (EARLIER_PRIORS, LevellingPriors()) if p not in grid]
    errors = {}  # (priors, measured index, estimate) -> error at each of LEVEL_FRAMES
    for priors in grid:
        for i, (m, values) in enumerate(estimates):
            for name in names:
                errors[priors, i, name] = np.array(
                    [levelled_error(values[name], m, k, local=True, priors=priors)[0]
                     for k in LEVEL_FRAMES])

    def per_k(priors, drive_names, name=None) -> np.ndarray:
        return np.mean([errors[priors, i, n] for i, (m, _) in enumerate(estimates)
                        if m.drive in drive_names for n in ([name] if name else names)], axis=0)

    def error(priors, drive_names, name=None) -> float:
        return float(per_k(priors, drive_names, name).mean())

    def label(priors: LevellingPriors) -> str:
        return (f"level {priors.level_frames:g}, tilt {priors.tilt_frames:g} from "
                f"{priors.tilt_min_frames}, local {priors.local_frames:g}")

    drive_names = sorted({m.drive for m in measured})
    print(f"\nlevelling priors, leave one drive out ({len(grid)} tried): mean error in points "
          f"over k = {', '.join(map(str, LEVEL_FRAMES))} corrected frames, on the drive's "
          f"other frames\n")
    print("| drive | priors chosen on the other drives | " + " | ".join(
        f"{name}: before / shipped / chosen" for name in names) + " |")
    print("|---|---|" + "---|" * len(names))
    for drive in drive_names:
        chosen = min(grid, key=lambda p: error(p, set(drive_names) - {drive}))
        cells = [" / ".join(f"{100 * error(p, {drive}, name):.2f}"
                            for p in (EARLIER_PRIORS, LevellingPriors(), chosen))
                 for name in names]
        print(f"| {drive} | {label(chosen)} | " + " | ".join(cells) + " |")
    best = min(grid, key=lambda p: error(p, set(drive_names)))
    print(f"\nchosen on all drives: {label(best)}; over all drives "
          + ", ".join(f"{label(p)}: {100 * error(p, set(drive_names)):.2f}"
                      for p in (EARLIER_PRIORS, LevellingPriors(), best)))
    for name in names:
        print(f"  {name}, per k (mean over the bases): " + "; ".join(
            f"{tag} " + " / ".join(f"{100 * v:.1f}" for v in per_k(p, set(drive_names), name))
            for tag, p in (("before", EARLIER_PRIORS), ("shipped", LevellingPriors()))))
    return best


def print_within_halves(here: Measured, baseline: np.ndarray) -> None:
    """Spearman over the whole drive against within each half of it (frames in time order),
    with each half's mean real accuracy: a drive-wide figure can come from seeing that one
    stretch is worse than another while frames within a stretch are ranked poorly, and which
    frame of a stretch to correct needs the ranking within it."""
    accuracy, half = here.accuracy, len(here.accuracy) // 2
    parts = {"all": slice(None), "first half": slice(0, half), "second half": slice(half, None)}
    print("\nwithin each half of the drive (frames in time order; real accuracy "
          + " / ".join(f"{100 * accuracy[part].mean():.1f} %" for part in list(parts.values())[1:])
          + "), Spearman of the estimates as they are:\n")
    print("| estimate | " + " | ".join(f"{name} ({len(accuracy[part])})"
                                       for name, part in parts.items()) + " |")
    print("|---|" + "---|" * len(parts))
    for name, values in (("mean confidence", baseline),
                         ("mean confidence x scale agreement",
                          here.values(CONFIDENCE_X_AGREEMENT, 0.5)),
                         ("unweighted confidence", here.values(UNWEIGHTED_CONFIDENCE, 0.5)),
                         ("unweighted confidence x scale agreement",
                          here.values(UNWEIGHTED_X_AGREEMENT, 0.5))):
        print(f"| {name} | " + " | ".join(f"{spearman(values[part], accuracy[part]):.3f}"
                                          for part in parts.values()) + " |")


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
    parser.add_argument("--sweep-levelling", action="store_true",
                        help="with --across: other priors of the levelling, leave one drive "
                             "out")
    args = parser.parse_args()
    if args.sweep_levelling and len({args.drive, *(drive for _, drive in args.across or [])}) < 2:
        parser.error("--sweep-levelling needs --across with at least one other drive")

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
    unweighted = here.values(UNWEIGHTED_CONFIDENCE, 0.5)
    print(f"| unweighted confidence, as it is | {spearman(unweighted, accuracy):.3f} | "
          f"{100 * np.abs(unweighted - accuracy).mean():.1f} |")
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
    print_within_halves(here, baseline)
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
        if args.sweep_levelling:
            sweep_levelling(frames, chosen if chosen[1] is not None else
                            next(c for c in CANDIDATES if c[1] == CONFIDENCE_X_AGREEMENT))
    if args.store:
        described = " and ".join(f"{len(m.accuracy)} frames of CamVid drive {m.drive} (by "
                                 f"{m.model})" for m in frames)
        if chosen in (AS_IT_IS, UNWEIGHTED_AS_IT_IS):
            text = (f"not fitted: {chosen[0]} transferred best across "
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
