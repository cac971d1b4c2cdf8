"""CamVid accuracy of a checkpoint (the shipped default by default) beside the paper's row.

    python benchmarks/camvid_accuracy.py [--model CKPT] [--data ../shared/data/camvid]
    python benchmarks/camvid_accuracy.py --train [--out runs/reproduce]
    python benchmarks/camvid_accuracy.py --model runs/h16-lcn/last.pt --drive 0006R0 \
        [--record-into resources/models/segnet-basic-lcn-camvid.pt]

Evaluation: the val split (101 images), predictions made at the checkpoint's input size and
resized to 360x480 (nearest), G / C / mIoU / BF and per-class IoU, void ignored.
`--train` retrains the shipped model from scratch with the recipe and the frames stored in its
training record (the same `segnet-studio train` engine), reports the time and the hardware,
then evaluates the result.
`--record-into MODEL` writes the drive's figures (of a model of MODEL's recipe trained without
the drive) into MODEL's training record under "drives_held_out": the shipped model's fair
figures; without `--drive` (and MODEL the measured model) it records the val figures as
"val_scores", the pipeline check `tests/core/test_default_model.py` repeats.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from segnet_core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from segnet_core.evaluation import evaluate_model, scores_to_json
from segnet_core.data import drives, open_dataset
from segnet_core.device import describe_device, resolve_device
from segnet_core.evaluation import format_scores_table
from segnet_core.inference import Predictor
from segnet_core.resources import DEFAULT_MODEL
from segnet_core.train import TrainConfig, Trainer

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"
PAPER = {"name": "SegNet-Basic, paper Table 1 (test split, median freq)",
         "G": 82.7, "C": 62.0, "mIoU": 47.7, "BF": 35.78}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return describe_device(device)
    import os
    return f"{_cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


#: What a record without a "data" entry was trained on: the train split, validated on val.
EARLIER_DATA = {"splits": ["train"], "hold_out_drive": None, "validation": "val"}


def retrain(record: dict, data: Path, out: Path, device: str) -> Path:
    """Train a model from scratch with `record`'s recipe on its frames; its weights' path."""
    recipe = dict(record["config"])
    # The weights are the last of the first N epochs (the best validation of them, when the
    # run was validated): training N epochs reproduces them.
    recipe["epochs"] = record["epochs_completed"]
    recipe["max_iterations"] = None
    frames = record.get("data") or EARLIER_DATA
    print("recipe:", json.dumps(recipe), "data:", json.dumps(frames), file=sys.stderr)
    config = TrainConfig.from_dict(recipe)
    config.device = device
    train_set = drives.join([open_dataset(data, split) for split in frames["splits"]])
    val_set = None
    if frames.get("hold_out_drive"):
        train_set, val_set = drives.hold_out_drive(train_set, frames["hold_out_drive"])
    elif frames.get("validation"):
        val_set = open_dataset(data, frames["validation"], train_set.label_set)
    start = time.monotonic()
    trainer = Trainer(config, train_set, val_set, out, data=frames,
                      progress=lambda e: print(e, file=sys.stderr) if isinstance(e, str) else None)
    result = trainer.run()
    hours = (time.monotonic() - start) / 3600
    best = f"best val mIoU {100 * result.best_miou:.2f}" if val_set is not None else \
        "no validation"
    print(f"trained {result.epochs_completed} epochs ({result.global_step} iterations) in "
          f"{hours:.2f} h on {hardware(trainer.device)}, {trainer.precision}; {best}")
    return out / ("best.pt" if val_set is not None else "last.pt")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-bf", action="store_true")
    parser.add_argument("--train", action="store_true",
                        help="retrain the shipped model from scratch with its recipe")
    parser.add_argument("--out", type=Path, default=Path("runs/reproduce"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--drive", default=None,
                        help="also score the frames of this drive (train and val splits); the "
                             "fair figure for a model trained without that drive "
                             "(segnet-studio train --hold-out-drive DRIVE)")
    parser.add_argument("--record-into", type=Path, metavar="MODEL",
                        help="with --drive: store the drive's figures (of --model, trained "
                             "without it) in MODEL's training record; without: store --model's "
                             "own val figures in it (MODEL = --model)")
    args = parser.parse_args()
    if args.record_into and not args.drive and (
            args.train or args.record_into.resolve() != args.model.resolve()):
        parser.error("--record-into without --drive records the model's own val figures: "
                     "give the same file as --model, without --train")

    model_path = args.model
    if args.train:
        model_path = retrain(load_checkpoint(DEFAULT_MODEL).training, args.data, args.out,
                             args.device)

    checkpoint = load_checkpoint(model_path)
    predictor = Predictor.from_checkpoint(model_path, device=args.device)
    val = open_dataset(args.data, "val", checkpoint.label_set())
    start = time.monotonic()
    scores, images = evaluate_model(predictor, val, compute_bf=not args.no_bf)
    seconds = time.monotonic() - start
    ours = {"G": 100 * scores.global_accuracy, "C": 100 * scores.class_accuracy,
            "mIoU": 100 * scores.miou, "BF": 100 * scores.bf}
    if args.record_into and not args.drive:
        record_val(args.record_into, scores_to_json(scores, checkpoint.label_set(), images))
    if args.json:
        print(json.dumps({"model": str(model_path), "ours": ours, "paper": PAPER}, indent=2))
        return 0
    size = checkpoint.input_size
    print(f"model: {model_path} ({checkpoint.architecture['name']}, input "
          f"{size[0]}x{size[1]}, {predictor.precision} on {predictor.device_description})")
    print(f"evaluated {images} CamVid val images in {seconds:.1f} s\n")
    print(f"{'':52s} {'G':>6s} {'C':>6s} {'mIoU':>6s} {'BF':>6s}")
    print(f"{'this model (val split)':52s} " + " ".join(f"{ours[k]:6.2f}" for k in ours))
    print(f"{PAPER['name']:52s} " + " ".join(f"{PAPER[k]:6.2f}" for k in ours))
    print(f"{'difference':52s} " + " ".join(f"{ours[k] - PAPER[k]:+6.2f}" for k in ours))
    print()
    print(format_scores_table(scores, checkpoint.label_set(), images))
    if args.drive:
        label_set = checkpoint.label_set()
        every = drives.join([open_dataset(args.data, split, label_set)
                             for split in ("train", "val")])
        _, held = drives.hold_out_drive(every, args.drive)
        scores, images = evaluate_model(predictor, held, compute_bf=not args.no_bf)
        print(f"\ndrive {args.drive} ({images} frames; the fair figure only for a model "
              f"trained without this drive, e.g. with --hold-out-drive {args.drive}):")
        print(format_scores_table(scores, label_set, images))
        if args.record_into:
            record_drive(args.record_into, model_path, checkpoint, args.drive,
                         scores_to_json(scores, label_set, images))
    return 0


def record_drive(target_path: Path, measured_path: Path, measured: Checkpoint, drive: str,
                 scores: dict) -> None:
    """Store `scores` of the drive in `target_path`'s training record, under
    "drives_held_out"[drive] (other drives' entries stay)."""
    held_out = (measured.training.get("data") or {}).get("hold_out_drive")
    if held_out is not None and held_out != drive:
        raise SystemExit(f"{measured_path} was trained without drive {held_out}, not {drive}: "
                         f"its figures on {drive} are not a fair one")
    target = load_checkpoint(target_path)
    entry = {"drive": drive, "scores": scores, "model": str(measured_path),
             "recipe": measured.training.get("config"),
             "data": measured.training.get("data"),
             "epochs_completed": measured.training.get("epochs_completed"),
             "note": "a model of this recipe trained without the drive, scored on all its "
                     "frames at 360x480; nothing was chosen on them but the recipe"}
    held = dict(target.training.get("drives_held_out") or {}, **{drive: entry})
    _record(target_path, target, drives_held_out=held)
    print(f"\nrecorded the drive {drive} figures in {target_path}")


def record_val(target_path: Path, scores: dict) -> None:
    """Store the model's own val-split scores in its record ("val_scores"): a check that the
    pipeline still scores what it did, and, when val was trained on, not a fair figure."""
    target = load_checkpoint(target_path)
    data = target.training.get("data") or EARLIER_DATA
    entry = {"scores": scores, "trained_on_these_frames": "val" in data["splits"]}
    _record(target_path, target, val_scores=entry)
    print(f"\nrecorded its val figures in {target_path}")


def _record(path: Path, checkpoint: Checkpoint, **entries) -> None:
    save_checkpoint(path, replace(checkpoint, training=dict(checkpoint.training, **entries),
                                  resume=None))


if __name__ == "__main__":
    sys.exit(main())
