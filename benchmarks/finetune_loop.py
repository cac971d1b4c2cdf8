"""The fine-tuning loop on a drive the model has never seen: k corrected frames -> the rest.

    python benchmarks/finetune_loop.py --model runs/h16-A/last.pt [--drive 0006R0]
        [--frames 5 10 20] [--methods plain shipped] [--choose even priority]

The base model must be trained without the drive (the README's drive-held-out training
command makes one). The drive's frames are sorted by name; k evenly spaced ones are given as
corrections (their CamVid annotations), the others are scored with their annotations before
and after fine-tuning: mIoU and G over those frames, wall time of the whole fine-tuning run
(reading aside), and drift (share of pixels of the uncorrected frames whose class changed).

Methods: `plain` is the loop as it was: the corrected frames alone, whole frames, 20 passes
over them (so its length grows with k). `shipped` is `FineTuneSettings()`: 2,400 samples of
whole corrected frames at 0.02 whatever k. The others are what was measured against it: `adapt`
(batch-norm statistics of all the user's frames, confident pseudo-labels of the uncorrected
ones, half-size crops, 1,600 samples), `no-pseudo` (the same without pseudo-labels),
`plain-bn` (plain with batch-norm adaptation), `plain-long` (60 passes). A method may
override settings: `shipped:epochs=15,lr=0.02`, `shipped:lr_drop=none`.
All train on all k frames (holdout 0): the score comes from the drive's other frames.

`--choose even cover-time cover priority discount` also compares which k frames are given: `even`
(`even-half`: every other one of the k evenly spaced frames, a first round of k/2 that the
evenly spaced k complete: `--keep` its model, then pass it as `--model` with `--choose even`
to measure a second round that starts from the first round's model, as the window's does)
(evenly spaced: the middle frame of each k-th of the drive; `even-early` and `even-late`
take the frame a quarter and three quarters into each k-th instead, to show how much the
lift moves when evenly spaced picks move by a few frames), `cover-time` (the k frames `segnet-studio rank` and Next suggested frame
put first for the base model: coverage of the frames in time weighted by expected error,
`segnet_core.frame_order.cover_priorities`), `cover` (the same also by predicted class
shares), `priority` (the rule before it: the widest stretch first, the hardest
frame within it, `segnet_core.frame_order.priorities`), `discount` (the rule before that:
expected error with a coverage discount) and `in-turn` (the frames Next suggested frame
offers one at a time when each is corrected before the next is asked for: each correction,
its real accuracy from the annotation, levels the estimates before the next pick, as in the
window; `segnet_core.frame_order_trials.picks_in_turn`), `plan` (the k frames that together best
cover the drive in time weighted by expected error, solved exactly for k:
`segnet_core.frame_order.plan_picks`), `plan-rare` (the same plan weighted by each frame's
class-weighted expected error: the mean over its pixels of (1 - confidence) times the
median-frequency weight of the predicted class, the weights counted on the base model's
predictions over the drive; mIoU counts every class alike, the pixel accuracy estimate does
not), `plan-classes` (the plan, except that a class the base model predicts
least that none of its picks shows gets the frame showing most of it, and the plan is re-made
around it; up to k/2 such seeds: `segnet_core.frame_order_trials.class_plan_picks`), `features`
(the k frames that best cover what the drive looks like to the base model, weighted by
expected error: greedy k-median over each frame's deepest encoder map pooled on a 2x2 grid,
`feature_plan_picks` here; it tied with evenly spaced frames on six bases,
docs/training.md), `features-flat` (the same unweighted), `plan-in-turn` (the plan
re-made after each correction on the levelled estimates, as Next suggested frame does) and
`plan-flagged` (the same, with the frames a user flagged offered first, as Next suggested
frame does with Go > Flag frame to correct first: the simulated user flags, for each class that the drive's
annotations show (at least 0.5 % of a frame's pixels) in fewer than a fifth of its frames,
rarest first, the frame showing most of it, unless a frame flagged already shows it; at most
k/2 flags: `user_flags`), and `plan-rounds` (the loop in two rounds, as the window runs
it when the user fine-tunes half way: the plan in turn for k/2 frames, a fine-tune of the
base on them (the shipped recipe), the estimates recomputed with that model, then the plan in
turn for the other k/2 around the first; the final run, like every choice's, fine-tunes the
base on all k, so that only which frames differs: `picks_in_rounds`; it fine-tunes while
choosing, so `--list-choices` takes as long as one run, and `--run` in two processes
scores the same frames only if that fine-tune repeats exactly (not checked: run it in one).
Every choice of one k is then scored on the same frames: those no choice picked. `--list-choices` prints the frames and stops; `--run` fine-tunes
some of the choices only (the same `--choose` in two processes scores the same frames). A fine-tuning
seed is a setting:
`--methods shipped shipped:seed=1` repeats the run with another draw of samples.
`--confusions DIR` saves each run's per-frame confusion matrices before and after
(`<drive>-k<k>-<choice>-<method>.npz`), so that runs made with different `--choose` lists
can be scored later on the frames none of them picked (`--rescore DIR...`), which also prints each
run's lift less the evenly spaced run's (the middle one: `_even_reference`; or the run
`--against RUN` names, e.g. `plan-in-turn-shipped`), in mIoU and in G, each with a 95 %
moving-block bootstrap interval over the scored frames (how far the frames scored alone
could move the difference).
Each fine-tuned model's estimate is scored on the same frames too (Spearman with the real
accuracy, mean error): its stored one (the base's estimate, carried over: `quality.carried_over`;
for the shipped recipe the mean confidence with the base's class weights undone; mean
confidence without one) and its mean confidence.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from segnet_core.checkpoint import load_checkpoint, save_checkpoint
from segnet_core.data import drives, open_dataset
from segnet_core.evaluation import ConfusionMatrix, scores_from_confusion
from segnet_core.finetune import FineTuneSettings
from segnet_core.finetune.adapt import changed_share
from segnet_core.finetune.run import run_finetune
from segnet_core.finetune.settings import balance_weights, pixel_stats
from segnet_core.frame_order import PLAN_ROUND, cover_priorities, plan_picks, priorities
from segnet_core.frame_order_trials import class_plan_picks, picks_in_turn
from segnet_core.inference import Predictor
from segnet_core.inference.agreement import estimated_accuracy
from segnet_core.inference.images import images_to_tensor, prepare_image
from segnet_core.quality import (AccuracyCalibration, class_shares, pixel_accuracy,
                                 recorded_class_weights, spearman)
from segnet_core.ranking import predictor_calibration

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"
#: Evenly spaced choices: where in each k-th of the drive the pick sits.
EVEN_OFFSETS = {"even": 0.5, "even-early": 0.25, "even-late": 0.75}
#: `user_flags`: a class is rare in a drive when shown in fewer than this share of its frames,
#: and shown in a frame when it covers at least `SHOWN_SHARE` of the frame's pixels.
RARE_FRAMES, SHOWN_SHARE = 0.2, 0.005


def method_settings(spec: str, k: int) -> FineTuneSettings:
    """The settings of a method name, with optional overrides: `shipped:epochs=15,lr=0.02`."""
    name, _, overrides = spec.partition(":")
    settings = named_settings(name, k)
    for item in filter(None, overrides.split(",")):
        key, _, value = item.partition("=")
        if key not in FineTuneSettings.__dataclass_fields__:
            raise SystemExit(f"unknown setting {key!r} in {spec!r}")
        current = getattr(settings, key)
        kind = type(current) if current is not None else float
        settings = replace(settings, **{key: None if value.lower() == "none"
                                        else value.lower() == "true" if kind is bool
                                        else kind(value)})
    return settings


def named_settings(name: str, k: int) -> FineTuneSettings:
    shipped = FineTuneSettings(holdout=0.0)
    if name == "shipped":
        return shipped
    plain = replace(shipped, epochs=20, adapt_batchnorm=False, pseudo_threshold=None,
                    crop_scale=1.0, jitter=0.2, samples_per_epoch=k)
    if name == "plain":
        return plain
    if name == "plain-bn":
        return replace(plain, adapt_batchnorm=True)
    if name == "plain-long":
        return replace(plain, epochs=60)
    adapt = replace(shipped, epochs=16, adapt_batchnorm=True, pseudo_threshold=0.9,
                    crop_scale=0.5, jitter=0.3)
    if name == "adapt":
        return adapt
    if name == "no-pseudo":
        return replace(adapt, pseudo_threshold=None)
    raise SystemExit(f"unknown method {name!r}")


def predictor_of(checkpoint, label_set):
    """A Predictor of the checkpoint's model, undoing the class weights its record holds (a
    fine-tuned model's record keeps its base's), as `Predictor.from_checkpoint` does."""
    predictor = Predictor(checkpoint.build_model(), label_set,
                          input_size=checkpoint.input_size,
                          normalization=checkpoint.normalization,
                          class_weights=recorded_class_weights(checkpoint.training,
                                                               label_set.num_classes))
    predictor.training = dict(checkpoint.training)  # its stored estimate: predictor_calibration
    return predictor


def discounted_priorities(estimated_accuracy) -> list[int]:
    """The rule `priorities` had before (kept here to compare with): greedy picks, each the
    frame of highest expected error (1 - estimated accuracy) times a coverage factor
    min(1, distance to the nearest picked frame / reach), reach = the frame count / (n // 10
    + 1). Each frame's priority, 1 = first."""
    error = 1.0 - np.nan_to_num(np.asarray(estimated_accuracy, dtype=np.float64), nan=0.0)
    n = len(error)
    pos = np.arange(n, dtype=np.float64)
    reach = max((n - 1) / (n // 10 + 1), 1e-9)
    done = np.zeros(n, dtype=bool)
    nearest = np.full(n, np.inf)
    priority = [0] * n
    for rank in range(1, n + 1):
        score = np.where(done, -np.inf, error * np.minimum(1.0, nearest / reach) + 1e-9 * error)
        pick = int(np.argmax(score))
        priority[pick], done[pick] = rank, True
        nearest = np.minimum(nearest, np.abs(pos - pick))
    return priority


def feature_plan_picks(features: np.ndarray, estimated_accuracy: list[float] | None = None, *,
                       count: int = PLAN_ROUND) -> list[int]:
    """`count` frames that best cover what the frames look like rather than where they sit
    in time: greedy weighted k-median over the frames' feature vectors (Euclidean distance;
    e.g. the model's pooled encoder maps), each frame weighted by its expected error (1 -
    estimated accuracy; all alike when not given). Nothing covered costs each frame the
    largest distance between two frames. Each pick is the frame that most lowers the
    weighted cost left (greedy, in pick order). Measured here only: on six drive-held-out
    bases it tied with evenly spaced frames (docs/training.md), so the window does not use it."""
    points = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    n = len(points)
    if n == 0 or count <= 0:
        return []
    weight = (np.ones(n) if estimated_accuracy is None else
              np.clip(1.0 - np.nan_to_num(np.asarray(estimated_accuracy, dtype=np.float64),
                                          nan=0.0), 0.01, 1.0))
    squared = (points ** 2).sum(axis=1)
    distance = np.sqrt(np.maximum(squared[:, None] + squared[None, :]
                                  - 2.0 * points @ points.T, 0.0))
    nearest = np.full(n, distance.max())
    free = np.ones(n, dtype=bool)
    picks: list[int] = []
    for _ in range(min(count, n)):
        gain = weight @ np.maximum(nearest[:, None] - distance, 0.0)
        gain[~free] = -np.inf
        pick = int(np.argmax(gain))
        picks.append(pick)
        free[pick] = False
        nearest = np.minimum(nearest, distance[pick])
    return picks


def frame_features(checkpoint, images, batch: int = 16) -> np.ndarray:
    """Each image's look as the model sees it: its deepest encoder map (the image prepared
    as the window prepares it) averaged over a 2x2 grid of the frame, scaled to unit length."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = checkpoint.build_model().to(device).eval()
    mean = torch.tensor(checkpoint.normalization["mean"], dtype=torch.float32, device=device)
    std = torch.tensor(checkpoint.normalization["std"], dtype=torch.float32, device=device)
    vectors = []
    with torch.inference_mode():
        for start in range(0, len(images), batch):
            prepared = [prepare_image(image, checkpoint.input_size)[0]
                        for image in images[start:start + batch]]
            x = images_to_tensor(prepared, mean, std, device)
            deepest = model.encoder(model.stem(x)).output
            pooled = torch.nn.functional.adaptive_avg_pool2d(deepest.float(), 2).flatten(1)
            vectors.append(torch.nn.functional.normalize(pooled, dim=1).cpu().numpy())
    return np.concatenate(vectors)


def base_estimates(base, frames, label_set, with_features: bool = False):
    """The base model's stored estimate of each frame's accuracy, as `rank` gives it, each
    frame's predicted class shares, its real accuracy (what a correction would show), its
    class-weighted expected error (`plan-rare`) and, `with_features`, its `frame_features`
    (the `features` choices; else None)."""
    predictor = predictor_of(base, label_set)
    calibration = predictor_calibration(predictor)
    predictions = predictor.predict_batch([image for image, _ in frames])
    shares = np.stack([class_shares(p.labels, label_set.num_classes) for p in predictions])
    real = [pixel_accuracy(p.labels, truth, label_set.void_index)
            for p, (_, truth) in zip(predictions, frames)]
    weights = balance_weights(pixel_stats([p.labels for p in predictions], label_set), "median")
    rare_error = [float(np.mean(weights[p.labels] * (1.0 - p.confidence))) for p in predictions]
    return ([estimated_accuracy(calibration, predictor, image, p)
             for p, (image, _) in zip(predictions, frames)], shares, real,
            rare_error,
            frame_features(base, [image for image, _ in frames]) if with_features else None)


def user_flags(frames, label_set, k: int) -> list[int]:
    """The frames a user who knows the drive flags (Go > Flag frame to correct first) before
    correcting k:
    for each class the annotations show in fewer than `RARE_FRAMES` of the frames, rarest
    first, the frame showing most of it, unless a frame flagged already shows it; at most
    k // 2 flags, so the plan keeps the larger part."""
    shares = np.stack([np.bincount(np.asarray(truth).ravel(),
                                   minlength=label_set.num_classes + 1)[:label_set.num_classes]
                       / np.asarray(truth).size for _, truth in frames])
    shown = shares >= SHOWN_SHARE
    counts = shown.sum(axis=0)
    rare = [c for c in np.argsort(counts, kind="stable")
            if 0 < counts[c] < RARE_FRAMES * len(frames)]
    flags: list[int] = []
    for c in rare:
        if len(flags) >= k // 2:
            break
        if not any(shown[i, c] for i in flags):
            flags.append(int(np.argmax(shares[:, c])))
    return flags


def picks_in_rounds(checkpoint, frames, label_set, k: int, base: tuple) -> list[int]:
    """`plan-rounds`: k // 2 frames by the plan in turn on the base's estimates (a round of
    that many), a fine-tune of the base on them with the shipped recipe (fine-tuning seed 0,
    whatever `--methods` says; the other frames as the user's uncorrected ones), then the
    other k - k // 2 by the plan in turn on that model's estimates and real accuracies,
    around the first ones (a second round). k = 1: the plan in turn (no second round)."""
    estimates, _, real, _, _ = base
    if k < 2:  # no second round
        return sorted(picks_in_turn(estimates, real.__getitem__, k, rule="plan"))
    first = k // 2
    round_one = picks_in_turn(estimates, real.__getitem__, first, rule="plan",
                              round_size=first)
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as out:
        tuned = run_finetune(checkpoint, [frames[i] for i in round_one], label_set,
                             method_settings("shipped", first), out_dir=out,
                             unlabelled=[image for i, (image, _) in enumerate(frames)
                                         if i not in round_one]).checkpoint
    tuned_estimates, _, tuned_real, _, _ = base_estimates(tuned, frames, label_set)
    # a round of k with the first `first` corrected: the other k - first planned together
    round_two = picks_in_turn(tuned_estimates, tuned_real.__getitem__, k - first,
                              corrected=round_one, rule="plan", round_size=k)
    print(f"plan-rounds: round one {sorted(round_one)}, fine-tuned in "
          f"{time.monotonic() - start:.0f} s; round two {sorted(round_two)}", flush=True)
    return sorted(round_one + round_two)


def choose(name: str, k: int, frames, base: tuple | None, label_set=None,
           checkpoint=None) -> list[int]:
    """The indices of the k frames given as corrections (`base`: `base_estimates`, needed by
    all but the evenly spaced choices; `checkpoint`: the base model, for `plan-rounds`)."""
    if name == "even-half":
        return choose("even", k, frames, base)[::2]
    offset = EVEN_OFFSETS.get(name)
    if offset is not None:
        return sorted({int(v) for v in np.floor((np.arange(k) + offset) * len(frames) / k)})
    estimates, shares, real, rare_error, features = base
    if name == "features":
        return sorted(feature_plan_picks(features, estimates, count=k))
    if name == "features-flat":
        return sorted(feature_plan_picks(features, count=k))
    if name == "plan-rare":
        return sorted(plan_picks(1.0 - np.asarray(rare_error) / max(rare_error), count=k))
    if name == "in-turn":
        return sorted(picks_in_turn(estimates, real.__getitem__, k))
    if name == "plan":
        return sorted(plan_picks(estimates, count=k))
    if name == "plan-classes":
        return sorted(class_plan_picks(estimates, shares, count=k))
    if name == "plan-rounds":
        return picks_in_rounds(checkpoint, frames, label_set, k, base)
    if name == "plan-in-turn":
        return sorted(picks_in_turn(estimates, real.__getitem__, k, rule="plan"))
    if name == "plan-flagged":
        return sorted(picks_in_turn(estimates, real.__getitem__, k, rule="plan",
                                    flagged=user_flags(frames, label_set, k)))
    if name == "cover":
        ranks = cover_priorities(estimates, shares)
    elif name == "cover-time":
        ranks = cover_priorities(estimates)
    else:
        ranks = {"priority": priorities, "discount": discounted_priorities}[name](estimates)
    return sorted(i for i, rank in enumerate(ranks) if rank <= k)


def score(checkpoint, frames, label_set):
    """mIoU and G (in points) over `frames`, the labels, and how well the checkpoint's stored
    accuracy estimate tracks each frame's real accuracy (Spearman, mean error in points), then
    the mean confidence's."""
    predictor = predictor_of(checkpoint, label_set)
    predictions = predictor.predict_batch([image for image, _ in frames])
    labels = [p.labels for p in predictions]
    confusion = ConfusionMatrix(label_set.num_classes, label_set.void_index)
    for predicted, (_, truth) in zip(labels, frames):
        confusion.update(predicted, truth)
    scores = scores_from_confusion(confusion.matrix)
    calibration = predictor_calibration(predictor)
    real = [pixel_accuracy(p.labels, truth, label_set.void_index)
            for p, (_, truth) in zip(predictions, frames)]
    fits = []
    for way in (calibration, AccuracyCalibration()):  # stored, and the baseline
        estimated = [estimated_accuracy(way, predictor, image, p)
                     for p, (image, _) in zip(predictions, frames)]
        fits += [spearman(estimated, real), 100 * float(np.mean(np.abs(np.subtract(estimated,
                                                                                   real))))]
    estimate_fit = tuple(fits)
    return (100 * float(scores.miou), 100 * float(scores.global_accuracy), labels, estimate_fit,
            100 * np.asarray(scores.per_class_iou, dtype=np.float64))


def frame_confusions(labels, frames, label_set) -> np.ndarray:
    """One confusion matrix per frame (frames x K x K)."""
    out = []
    for predicted, (_, truth) in zip(labels, frames):
        confusion = ConfusionMatrix(label_set.num_classes, label_set.void_index)
        confusion.update(predicted, truth)
        out.append(confusion.matrix)
    return np.stack(out)


def save_confusions(path: Path, scored: list[int], corrected: list[int], before_labels,
                    after_labels, rest, label_set) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, scored=np.asarray(scored), corrected=np.asarray(corrected),
                        before=frame_confusions(before_labels, rest, label_set),
                        after=frame_confusions(after_labels, rest, label_set))


def rescore(folders: list[Path], against: str | None = None) -> int:
    """mIoU and G of every run saved in `folders`, per folder, drive and k, on the frames of
    the drive that every run of that k scored (none of them picked); then each run's lift less
    the reference run's with a 95 % interval, and its mean over the groups (folder, drive, k)
    that have both runs (pass one folder per drive and base for a mean over drives). The
    reference: the run named `against` (e.g. `plan-in-turn-shipped`), else an evenly spaced
    run (`_even_reference`). Groups without it are named as not compared; 1 when none has it."""
    runs: dict[tuple[str, str, str], dict[str, dict]] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.npz")):
            drive, k, name = path.stem.split("-", 2)
            with np.load(path) as saved:
                runs.setdefault((str(folder), drive, k), {})[name] = {
                    key: saved[key] for key in saved.files}
    print("| folder | drive | k | run | frames given | frames scored | mIoU before | mIoU after "
          "| change | G after |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    kept_groups = {}
    for (folder, drive, k), named in runs.items():
        common = sorted(set.intersection(*(set(run["scored"].tolist())
                                           for run in named.values())))
        kept = {name: (run["before"][np.isin(run["scored"], common)],
                       run["after"][np.isin(run["scored"], common)])
                for name, run in named.items()}
        kept_groups[folder, drive, k] = kept
        for name, (before, after) in kept.items():
            scores = scores_from_confusion(after.sum(axis=0))
            print(f"| {folder} | {drive} | {k[1:]} | {name} | "
                  f"{named[name]['corrected'].tolist()} | {len(common)} | "
                  f"{100 * scores_from_confusion(before.sum(axis=0)).miou:.2f} | "
                  f"{100 * scores.miou:.2f} | {lift(before, after):+.2f} | "
                  f"{100 * scores.global_accuracy:.2f} |")
    print()
    print(f"Change against {against or 'the evenly spaced run'}, with a 95 % interval "
          f"({DRAWS} draws of the scored frames in blocks of {BLOCK} neighbours, the same "
          f"draws for every run), in mIoU and in G (the pixel accuracy, what the estimate "
          f"predicts):")
    print("| folder | drive | k | run | against | mIoU difference | 95 % interval "
          "| G difference | 95 % interval |")
    print("|---|---|---|---|---|---|---|---|---|")
    pooled: dict[tuple[str, str, str], list] = {}
    skipped: list[str] = []
    for (folder, drive, k), kept in kept_groups.items():
        reference = against if against else _even_reference(kept)
        if reference not in kept:
            skipped.append(f"{folder} {drive} {k[1:]}")
            continue
        draws = block_draws(len(next(iter(kept.values()))[0]), np.random.default_rng(0))
        for name in kept:
            if name == reference:
                continue
            parts = [paired_difference(kept[name], kept[reference], draws, metric)
                     for metric in LIFT_METRICS]
            print(f"| {folder} | {drive} | {k[1:]} | {name} | {reference} | "
                  + " | ".join(_with_interval(d, spread) for d, spread in parts) + " |")
            pooled.setdefault((k, name, reference), []).append(parts)
    for (k, name, reference), groups in pooled.items():
        if len(groups) > 1:  # the groups' draws are independent: average them draw by draw
            means = [(float(np.mean([g[m][0] for g in groups])),
                      np.mean([g[m][1] for g in groups], axis=0))
                     for m in range(len(LIFT_METRICS))]
            print(f"| mean of {len(groups)} | | {k[1:]} | {name} | {reference} | "
                  + " | ".join(_with_interval(d, spread) for d, spread in means) + " |")
    reference_name = against or "an evenly spaced run"
    if skipped:
        print(f"\nnot compared (no {reference_name} saved): " + "; ".join(skipped))
    if len(skipped) == len(kept_groups):
        print(f"--rescore: no folder holds {reference_name}", file=sys.stderr)
        return 1
    return 0


def _even_reference(kept) -> str | None:
    """The evenly spaced run to compare with: one at the middle of each stretch (`even-...`)
    before the shifted ones (`even-early-...`, `even-late-...`), whatever the names sort."""
    evenly = [name for name in kept if name.startswith("even")]
    middle = [name for name in evenly if not name.startswith(("even-early", "even-late"))]
    return (middle or evenly or [None])[0]


DRAWS = 2000
BLOCK = 5  # neighbouring frames look alike: resample runs of them, not single frames


def block_draws(n: int, rng: np.random.Generator, draws: int = DRAWS,
                block: int = BLOCK) -> np.ndarray:
    """`draws` resamples (rows of n frame indices) of n frames in time order, each made of
    runs of `block` consecutive frames starting at random (a moving-block bootstrap: single
    frames resampled alone would pretend that neighbours are independent)."""
    block = max(1, min(block, n))
    starts = rng.integers(0, n - block + 1, size=(draws, -(-n // block)))
    return (starts[..., None] + np.arange(block)).reshape(draws, -1)[:, :n]


LIFT_METRICS = ("miou", "global_accuracy")  # fields of the confusion's scores


def _with_interval(difference: float, spread: np.ndarray) -> str:
    low, high = np.percentile(spread, [2.5, 97.5])
    return f"{difference:+.2f} | {low:+.2f} .. {high:+.2f}"


def lift(before: np.ndarray, after: np.ndarray, metric: str = "miou") -> float:
    """`metric` (mIoU, or G: "global_accuracy") after minus before, in points, of summed
    per-frame confusions."""
    return 100 * (getattr(scores_from_confusion(after.sum(axis=0)), metric)
                  - getattr(scores_from_confusion(before.sum(axis=0)), metric))


def paired_difference(run, reference, draws: np.ndarray, metric: str = "miou"
                      ) -> tuple[float, np.ndarray]:
    """Lift of `run` less that of `reference` ((before, after) per-frame confusions of the same
    frames), and the same over each of `draws` (rows of frame indices) taken in both."""
    def difference(index):
        return (lift(run[0][index], run[1][index], metric)
                - lift(reference[0][index], reference[1][index], metric))
    return difference(slice(None)), np.array([difference(index) for index in draws])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="the base model (all but --rescore)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--drive", default="0006R0")
    parser.add_argument("--split", nargs="+", default=["train", "val"],
                        help="take the drive's frames from these splits only (e.g. val: the "
                             "shipped model's own streets, frames it was not trained on)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="save each fine-tuned model here (<drive>-k<k>-<choice>-<method>.pt)")
    parser.add_argument("--frames", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--methods", nargs="+", default=["plain", "shipped"])
    parser.add_argument("--choose", nargs="+", default=["even"],
                        choices=["even", "priority", "discount", "cover", "cover-time",
                                 "in-turn", "plan", "plan-in-turn", "plan-rare", "plan-classes",
                                 "even-early", "even-late", "features", "features-flat",
                                 "plan-flagged", "plan-rounds", "even-half"],
                        help="which k frames are given as corrections")
    parser.add_argument("--run", nargs="+", metavar="CHOICE",
                        help="fine-tune only these of --choose (the others still set which "
                             "frames are scored), to share the choices out between processes")
    parser.add_argument("--list-choices", action="store_true",
                        help="print the frames each choice gives and stop")
    parser.add_argument("--confusions", type=Path, metavar="DIR",
                        help="save each run's per-frame confusion matrices here")
    parser.add_argument("--rescore", type=Path, nargs="+", metavar="DIR",
                        help="score the runs saved in DIR on the frames none of them picked, "
                             "and stop")
    parser.add_argument("--against", metavar="RUN",
                        help="with --rescore: the run the others are compared with, by its "
                             "saved name without drive and k (e.g. plan-in-turn-shipped; "
                             "default: the evenly spaced run, the middle one when shifted "
                             "ones are saved too)")
    args = parser.parse_args()
    if args.against and not args.rescore:
        parser.error("--against goes with --rescore")
    if args.rescore:
        return rescore(args.rescore, args.against)
    if args.model is None:
        parser.error("--model is needed")
    if args.run and set(args.run) - set(args.choose):
        parser.error(f"--run {' '.join(sorted(set(args.run) - set(args.choose)))}: not in --choose")

    base = load_checkpoint(args.model)
    label_set = base.label_set()
    held = drives.drive_frames(args.data, args.drive, label_set, tuple(args.split))
    frames = [held[i] for i in range(len(held))]
    print(f"base {args.model}; drive {args.drive}: {len(frames)} frames", flush=True)

    estimates = (base_estimates(base, frames, label_set,
                                with_features=bool({"features", "features-flat"}
                                                   & set(args.choose)))
                 if set(args.choose) - (EVEN_OFFSETS.keys() | {"even-half"}) else None)
    if args.list_choices:
        for k in args.frames:
            for name in args.choose:
                print(f"k={k:2d} {name:10s} "
                      f"{choose(name, k, frames, estimates, label_set, base)}")
        return 0
    rows, per_class = [], []
    for k in args.frames:
        chosen = {name: choose(name, k, frames, estimates, label_set, base)
                  for name in args.choose}
        picked = set().union(*chosen.values())
        rest = [frames[i] for i in range(len(frames)) if i not in picked]
        before_miou, before_g, before_labels, before_fit, before_iou = score(base, rest,
                                                                              label_set)
        print(f"k={k:2d} base estimate on the {len(rest)} frames: Spearman {before_fit[0]:.2f}, "
              f"mean error {before_fit[1]:.1f} points (mean confidence: {before_fit[2]:.2f}, "
              f"{before_fit[3]:.1f})", flush=True)
        for choice, corrected in chosen.items():
            if args.run and choice not in args.run:
                continue
            for method in args.methods:
                settings = method_settings(method, len(corrected))
                start = time.monotonic()
                with tempfile.TemporaryDirectory() as out:
                    result = run_finetune(base, [frames[i] for i in corrected], label_set,
                                          settings, out_dir=out,
                                          unlabelled=[image for image, _ in rest])
                seconds = time.monotonic() - start
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    save_checkpoint(args.keep / f"{args.drive}-k{k}-{choice}-{method}.pt",
                                    result.checkpoint)
                after_miou, after_g, after_labels, after_fit, after_iou = score(
                    result.checkpoint, rest, label_set)
                per_class.append((choice, method, after_iou - before_iou))
                if args.confusions:
                    save_confusions(args.confusions / f"{args.drive}-k{k}-{choice}-{method}.npz",
                                    [i for i in range(len(frames)) if i not in picked],
                                    corrected, before_labels, after_labels, rest, label_set)
                drift = 100 * changed_share(before_labels, after_labels)
                rows.append((k, choice, method, len(rest), before_miou, after_miou, before_g,
                             after_g, drift, seconds))
                print(f"k={k:2d} {choice:8s} {method:8s} scored on {len(rest)} frames: mIoU "
                      f"{before_miou:5.2f} -> {after_miou:5.2f} ({after_miou - before_miou:+.2f}), "
                      f"G {before_g:5.2f} -> {after_g:5.2f}, changed {drift:4.1f} %, "
                      f"{seconds:5.0f} s (frames {corrected}); estimate after: Spearman "
                      f"{after_fit[0]:.2f}, mean error {after_fit[1]:.1f} points (mean "
                      f"confidence: {after_fit[2]:.2f}, {after_fit[3]:.1f})", flush=True)

    print(f"\n| k | frames given | method | frames scored | mIoU before | mIoU after | change | "
          f"G before | G after | pixels changed | wall time |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for k, choice, method, n, mb, ma, gb, ga, drift, seconds in rows:
        print(f"| {k} | {choice} | {method} | {n} | {mb:.2f} | {ma:.2f} | {ma - mb:+.2f} | "
              f"{gb:.2f} | {ga:.2f} | {drift:.1f} % | {seconds / 60:.1f} min |")
    print("\nper-class IoU change (points; blank: the class is absent from the frames scored)")
    print("| frames given | method | " + " | ".join(label_set.names) + " |")
    print("|---|---|" + "---|" * len(label_set.names))
    for choice, method, change in per_class:
        cells = ["" if np.isnan(v) else f"{v:+.1f}" for v in change[:len(label_set.names)]]
        print(f"| {choice} | {method} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
