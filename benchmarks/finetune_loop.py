"""The fine-tuning loop on a drive the model has never seen: k corrected frames -> the rest.

    python benchmarks/finetune_loop.py --model runs/hold-0006R0/last.pt [--drive 0006R0]
        [--frames 5 10 20] [--methods plain shipped]

The base model must be trained without the drive (the README's drive-held-out training
command makes one). The drive's frames are sorted by name; k evenly spaced ones are given as
corrections (their CamVid annotations), the others are scored with their annotations before
and after fine-tuning: mIoU and G over those frames, wall time of the whole fine-tuning run
(reading aside), and drift (share of pixels of the uncorrected frames whose class changed).

Methods: `plain` is the loop as it was: the corrected frames alone, whole frames, 20 passes
over them (so its length grows with k). `shipped` is `FineTuneSettings()`: 600 samples of
whole corrected frames whatever k. The others are what was measured against it: `adapt`
(batch-norm statistics of all the user's frames, confident pseudo-labels of the uncorrected
ones, half-size crops, 1,600 samples), `no-pseudo` (the same without pseudo-labels),
`plain-bn` (plain with batch-norm adaptation), `plain-long` (60 passes).
All train on all k frames (holdout 0): the score comes from the drive's other frames.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from segnet_core.checkpoint import load_checkpoint
from segnet_core.data import drives, open_dataset
from segnet_core.evaluation import ConfusionMatrix, scores_from_confusion
from segnet_core.finetune import FineTuneSettings
from segnet_core.finetune.adapt import changed_share
from segnet_core.finetune.run import run_finetune
from segnet_core.inference import Predictor

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"


def method_settings(name: str, k: int) -> FineTuneSettings:
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


def score(checkpoint, frames, label_set):
    predictor = Predictor(checkpoint.build_model(), label_set, input_size=checkpoint.input_size,
                          normalization=checkpoint.normalization)
    labels = [p.labels for p in predictor.predict_batch([image for image, _ in frames])]
    confusion = ConfusionMatrix(label_set.num_classes, label_set.void_index)
    for predicted, (_, truth) in zip(labels, frames):
        confusion.update(predicted, truth)
    scores = scores_from_confusion(confusion.matrix)
    return 100 * float(scores.miou), 100 * float(scores.global_accuracy), labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--drive", default="0006R0")
    parser.add_argument("--frames", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--methods", nargs="+", default=["plain", "shipped"])
    args = parser.parse_args()

    base = load_checkpoint(args.model)
    label_set = base.label_set()
    held = drives.drive_frames(args.data, args.drive, label_set)
    frames = [held[i] for i in range(len(held))]
    print(f"base {args.model}; drive {args.drive}: {len(frames)} frames", flush=True)

    rows = []
    for k in args.frames:
        corrected = sorted({int(v) for v in np.floor((np.arange(k) + 0.5) * len(frames) / k)})
        rest = [frames[i] for i in range(len(frames)) if i not in corrected]
        before_miou, before_g, before_labels = score(base, rest, label_set)
        for method in args.methods:
            settings = method_settings(method, len(corrected))
            start = time.monotonic()
            with tempfile.TemporaryDirectory() as out:
                result = run_finetune(base, [frames[i] for i in corrected], label_set, settings,
                                      out_dir=out, unlabelled=[image for image, _ in rest])
            seconds = time.monotonic() - start
            after_miou, after_g, after_labels = score(result.checkpoint, rest, label_set)
            drift = 100 * changed_share(before_labels, after_labels)
            rows.append((k, method, len(rest), before_miou, after_miou, before_g, after_g,
                         drift, seconds))
            print(f"k={k:2d} {method:8s} scored on {len(rest)} frames: mIoU {before_miou:5.2f} -> "
                  f"{after_miou:5.2f} ({after_miou - before_miou:+.2f}), G {before_g:5.2f} -> "
                  f"{after_g:5.2f}, changed {drift:4.1f} %, {seconds:5.0f} s", flush=True)

    print(f"\n| k | method | frames scored | mIoU before | mIoU after | change | G before | "
          f"G after | pixels changed | wall time |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for k, method, n, mb, ma, gb, ga, drift, seconds in rows:
        print(f"| {k} | {method} | {n} | {mb:.2f} | {ma:.2f} | {ma - mb:+.2f} | {gb:.2f} | "
              f"{ga:.2f} | {drift:.1f} % | {seconds / 60:.1f} min |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
