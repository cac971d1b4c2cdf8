"""`segnet-studio train`: train a SegNet-family model (also under torchrun for DDP)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HELP = "Train a model on a data set (also under torchrun)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from segnet_core.balance import BALANCE_MODES, Balance
    from segnet_core.commands.arguments import (DEVICE_HELP, PRECISION_HELP, choices_help,
                                                image_size)
    from segnet_core.device import PRECISIONS
    from segnet_core.models import available_models
    from segnet_core.train import TrainConfig

    default = TrainConfig()

    parser.add_argument("--data", required=True, type=Path,
                        help="data set: a CamVid-layout folder, a list file or a folder pair")
    parser.add_argument("--split", default="train",
                        help="training split (train); join splits with '+', e.g. train+val")
    parser.add_argument("--hold-out-drive", metavar="DRIVE", default=None,
                        help="train on every drive of --split but DRIVE (a file-name prefix such "
                             "as 0006R0) and validate on DRIVE's frames (--val-split is unused)")
    parser.add_argument("--val-split", default="val",
                        help="validation split (val); 'none' trains without validation")
    parser.add_argument("--model", default=default.model, choices=available_models(),
                        metavar="NAME", help=f"the architecture (default: {default.model}; "
                                             "'segnet-studio models' lists them)")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--init", type=Path, metavar="VGG16_BN_FILE",
                       help="initialise SegNet's encoder from a torchvision vgg16_bn state dict")
    start.add_argument("--resume", type=Path, metavar="CKPT",
                       help="continue a run exactly from its last.pt (its recipe is kept)")
    start.add_argument("--from", dest="start_from", type=Path, metavar="CKPT",
                       help="start from a checkpoint's weights with a fresh optimizer")
    parser.add_argument("--size", type=image_size, default=default.size,
                        help=f"training size HxW ({default.size[0]}x{default.size[1]})")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs in all ({default.epochs}; with --resume: the run's own "
                             f"unless given)")
    parser.add_argument("--crop", type=image_size, default=default.crop,
                        help="train on random HxW crops at the scale of --size (the model still "
                             "runs at --size)")
    parser.add_argument("--jitter", type=float, default=default.jitter,
                        help=f"brightness/contrast/saturation jitter ({default.jitter}: factors "
                             f"in {1 - default.jitter:g}..{1 + default.jitter:g})")
    parser.add_argument("--low-light", type=float, default=default.low_light, metavar="SHARE",
                        help="share of training images made darker, cooler and softer, as if "
                             f"filmed in poor light ({default.low_light:g}: none)")
    parser.add_argument("--batch-size", type=int, default=default.batch_size,
                        help=f"images per process ({default.batch_size})")
    parser.add_argument("--lr", type=float, default=None,
                        help="SGD learning rate (default: 0.1 for SegNet-Basic and the Table 1 "
                             "variants, 1e-3 for SegNet, as in the paper)")
    parser.add_argument("--lr-drop", type=int, nargs="+", default=None, metavar="EPOCH",
                        help="multiply the rate by --lr-drop-factor after these epochs (step "
                             "schedule; with --resume only epochs not yet reached may change)")
    parser.add_argument("--lr-drop-factor", type=float, default=None,
                        help=f"factor per drop ({default.lr_drop_factor})")
    parser.add_argument("--momentum", type=float, default=default.momentum,
                        help=f"SGD momentum (default: {default.momentum})")
    parser.add_argument("--weight-decay", type=float, default=default.weight_decay,
                        help=f"SGD weight decay (default: {default.weight_decay})")
    parser.add_argument("--balance", choices=BALANCE_MODES, default=default.balance,
                        help="how the loss weighs the classes: "
                             + choices_help(Balance, default.balance))
    parser.add_argument("--no-augment", action="store_true", help="no scale/crop/flip/jitter")
    parser.add_argument("--freeze-encoder", action="store_true",
                        help="train the decoder only; the encoder's BN statistics stay fixed")
    parser.add_argument("--recompute-bn", action="store_true",
                        help="recompute BN statistics over the training set before evaluating")
    parser.add_argument("--val-every", type=int, default=None, metavar="N",
                        help="validate every N iterations instead of every epoch")
    parser.add_argument("--max-iterations", type=int, default=None, metavar="N",
                        help="stop after N iterations in all")
    parser.add_argument("--device", default=default.device, help=DEVICE_HELP)
    parser.add_argument("--precision", default=default.precision, choices=PRECISIONS,
                        help=PRECISION_HELP)
    parser.add_argument("--seed", type=int, default=default.seed,
                        help=f"seed of the initial weights and the training order (default: "
                             f"{default.seed})")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder for best.pt, last.pt, log.jsonl and curves.png")


def _config(args: argparse.Namespace):
    from segnet_core.train import TrainConfig

    return TrainConfig(model=args.model, size=args.size,
                       epochs=args.epochs or TrainConfig.epochs,
                       batch_size=args.batch_size, lr=args.lr,
                       lr_drops=tuple(args.lr_drop or ()),
                       lr_drop_factor=(TrainConfig.lr_drop_factor if args.lr_drop_factor is None
                                       else args.lr_drop_factor), momentum=args.momentum,
                       weight_decay=args.weight_decay, balance=args.balance,
                       augment=not args.no_augment, crop=args.crop, jitter=args.jitter,
                       low_light=args.low_light,
                       freeze_encoder=args.freeze_encoder,
                       recompute_bn=args.recompute_bn, val_every=args.val_every,
                       max_iterations=args.max_iterations, device=args.device,
                       precision=args.precision, seed=args.seed)


def _data_record(args: argparse.Namespace) -> dict:
    """The frames a run trains and validates on, for its training record."""
    validation = None if args.val_split.lower() == "none" else args.val_split
    if args.hold_out_drive:
        validation = f"drive {args.hold_out_drive}"
    return {"source": Path(args.data).name, "splits": args.split.split("+"),
            "hold_out_drive": args.hold_out_drive, "validation": validation}


def _frames_of_resumed_run(args: argparse.Namespace, data: dict) -> None:
    """Set the frame arguments to what the resumed run trained on (its record's "data"), so
    that a resume goes on with the same frames whatever the command line says."""
    split = "+".join(data.get("splits") or [args.split])
    hold_out = data.get("hold_out_drive")
    validation = data.get("validation")
    val_split = "none" if validation is None or hold_out else validation
    given = (args.split, args.hold_out_drive, None if args.hold_out_drive else args.val_split)
    if given != (split, hold_out, None if hold_out else val_split):
        print(f"resuming on the frames the run started with: --split {split}"
              + (f" --hold-out-drive {hold_out}" if hold_out else f" --val-split {val_split}"),
              file=sys.stderr)
    args.split, args.hold_out_drive, args.val_split = split, hold_out, val_split


def run(args: argparse.Namespace) -> int:
    from segnet_core.checkpoint import load_checkpoint
    from segnet_core.commands.interrupt import cancel_on_ctrl_c
    from segnet_core.data import drives, open_dataset
    from segnet_core.train import TrainConfig, Trainer
    from segnet_core.train_report import TrainingReporter

    resume = load_checkpoint(args.resume) if args.resume else None
    start = load_checkpoint(args.start_from) if args.start_from else None
    config = _config(args)
    if resume is not None:
        saved = resume.training.get("config")
        if not saved:
            from segnet_core.errors import CheckpointError
            raise CheckpointError(args.resume, "has no training recipe to resume")
        config = TrainConfig.from_dict(saved)
        config.epochs = args.epochs or config.epochs
        if args.lr_drop is not None:
            config.lr_drops = tuple(args.lr_drop)
        if args.lr_drop_factor is not None:
            config.lr_drop_factor = args.lr_drop_factor
        config.max_iterations = args.max_iterations
        config.device = args.device
        if resume.training.get("data"):
            _frames_of_resumed_run(args, resume.training["data"])
    label_set = resume.label_set() if resume else (start.label_set() if start else None)
    train_set = drives.join([open_dataset(args.data, split, label_set)
                             for split in args.split.split("+")])
    val_set = None
    if args.hold_out_drive:
        train_set, val_set = drives.hold_out_drive(train_set, args.hold_out_drive)
    elif args.val_split.lower() != "none":
        val_set = open_dataset(args.data, args.val_split, train_set.label_set)

    reporter = TrainingReporter(quiet=int(os.environ.get("RANK", "0")) != 0)
    with cancel_on_ctrl_c("stopping after this iteration; last.pt will resume it") as cancel:
        trainer = Trainer(config, train_set, val_set, args.out, init_encoder=args.init,
                          start=start, resume=resume, progress=reporter, cancel=cancel,
                          data=_data_record(args))
        result = trainer.run()
    if trainer.context.is_main:
        best = f"best val mIoU {100 * result.best_miou:.2f}" if result.best_miou >= 0 else \
            "no validation"
        print(f"{result.stopped}: {result.global_step} iterations, {result.epochs_completed} "
              f"epochs, {best}; checkpoints in {args.out}", file=sys.stderr)
        if result.stopped == "cancelled":
            print(f"resume with: segnet-studio train --data {args.data} --resume "
                  f"{args.out / 'last.pt'} --out {args.out} (the run's frames, recipe and "
                  f"schedule come from that file)", file=sys.stderr)
    return 130 if result.stopped == "cancelled" else 0
