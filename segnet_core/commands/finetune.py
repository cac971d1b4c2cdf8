"""`segnet-studio finetune`: fine-tune a model on corrected frames, as the window's panel does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segnet_core.balance import Balance
from segnet_core.finetune.settings import MAX_EPOCHS, FineTuneSettings, StartMode
from segnet_core.train_config import parse_size

HELP = "Fine-tune a model on corrected frames (the window's Fine-tune panel, headless)"


def _size(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


#: What --start's choices do, in the words of --help.
START_HELP = {StartMode.CURRENT: "fine-tune the model --model names (or its default) further",
              StartMode.SCRATCH: "train the same architecture from fresh weights"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from segnet_core.commands.arguments import (DEVICE_HELP, MODEL_DEFAULT, PRECISION_HELP,
                                                choices_help)
    from segnet_core.device import PRECISIONS

    defaults = FineTuneSettings()
    samples = defaults.samples_per_epoch
    parser.add_argument("--images", required=True, type=Path,
                        help="the frames: a folder (its images, then its videos' frames, "
                             "as the window opens it), or a video file")
    parser.add_argument("--masks", type=Path, default=None,
                        help="the corrections: index PNGs named <stem>.png (<stem>_<frame>.png "
                             "for a video); default: the labels folder beside the images. "
                             "Frames without a mask are not corrected")
    parser.add_argument("--out", required=True, type=Path,
                        help="the fine-tuned checkpoint to write")
    parser.add_argument("--model", type=Path, default=None,
                        help=f"the checkpoint to start from ({MODEL_DEFAULT})")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, default=None,
                        help=f"epochs of {samples} training samples each, drawn from the "
                             "corrected frames however many there are (repeated, augmented "
                             "unless --no-augment); the last quarter at a tenth of the rate "
                             f"(default: {defaults.epochs}, {defaults.epochs * samples:,} "
                             "samples)")
    length.add_argument("--minutes", type=float, default=None,
                        help=f"train for this long instead (at most {MAX_EPOCHS} epochs; "
                             "the last quarter of the time, or of those epochs if they end "
                             "it first, at a tenth of the rate)")
    parser.add_argument("--start", choices=StartMode.values(), default=defaults.start.value,
                        help="; ".join(f"{mode.value}"
                                       f"{' (default)' if mode == defaults.start else ''}: "
                                       f"{START_HELP[mode]}" for mode in StartMode))
    parser.add_argument("--lr", type=float, default=defaults.lr,
                        help="SGD learning rate (default: a fifth of the paper's rate from the "
                             "current model, the paper's rate from scratch)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size,
                        help=f"samples per training step (default: {defaults.batch_size})")
    parser.add_argument("--size", type=_size, default=defaults.size,
                        help="training size HxW (default: the model's input size)")
    parser.add_argument("--holdout", type=float, default=defaults.holdout,
                        help="share of the corrected frames held out to measure before / after "
                             f"(default: {defaults.holdout}); frames linked by propagation "
                             "(labels/propagated_from.txt) are held out together, and those "
                             "of them that cannot be are set aside, not trained on")
    parser.add_argument("--balance", choices=Balance.values(), default=defaults.balance.value,
                        help="how the loss weighs the classes: "
                             + choices_help(Balance, defaults.balance))
    parser.add_argument("--freeze-encoder", action="store_true",
                        help="train the decoder only; the encoder's BN statistics stay fixed")
    parser.add_argument("--no-augment", action="store_true", help="no scale/crop/flip/jitter")
    parser.add_argument("--leave-out-propagated", action="store_true",
                        help="do not train on frames listed in labels/propagated.txt (labels "
                             "propagated and not accepted yet); they are never held out either "
                             "way")
    parser.add_argument("--device", default=defaults.device, help=DEVICE_HELP)
    parser.add_argument("--precision", default=defaults.precision, choices=PRECISIONS,
                        help=PRECISION_HELP)
    parser.add_argument("--seed", type=int, default=defaults.seed,
                        help="seed of the held-out choice, the samples drawn and any new weights "
                             f"(default: {defaults.seed})")


def settings_from(args: argparse.Namespace) -> FineTuneSettings:
    """The panel's settings that the arguments describe."""
    epochs = args.epochs or (MAX_EPOCHS if args.minutes else FineTuneSettings.epochs)
    return FineTuneSettings(
        epochs=epochs, minutes=args.minutes, start=args.start, lr=args.lr,
        batch_size=args.batch_size, size=args.size, holdout=args.holdout,
        balance=args.balance, freeze_encoder=args.freeze_encoder, augment=not args.no_augment,
        train_propagated=not args.leave_out_propagated, device=args.device,
        precision=args.precision, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    from segnet_core.commands.arguments import follow_project, load_model_checkpoint
    from segnet_core.finetune.headless import ModelNotSavedError, finetune_images
    from segnet_core.finetune.report import before_after_table
    from segnet_core.events import CancelToken
    from segnet_core.train_report import TrainingReporter, interrupt_cancels

    follow_project(args, [args.images], "fine-tuning")
    base = load_model_checkpoint(args)  # a project's version that will not load: the shipped
    cancel = CancelToken()
    not_saved = None
    with interrupt_cancels(cancel, "stopping after this step; the model as it stands then is kept"):
        try:
            outcome = finetune_images(args.images, args.out, masks=args.masks, model=base,
                                      settings=settings_from(args),
                                      progress=TrainingReporter(label="held-out"),
                                      cancel=cancel)
        except ModelNotSavedError as error:
            not_saved, outcome = error, error.outcome
    result = outcome.result
    print(before_after_table(result))
    if not_saved is not None:
        print(f"error: {not_saved}", file=sys.stderr)
        return 1
    if result.checkpoint is None:
        print("cancelled before training started: nothing written", file=sys.stderr)
    else:
        steps = result.global_step
        print(f"{result.stopped}: {steps} step(s) of {result.settings.batch_size} samples "
              f"({result.epochs_completed} whole epoch(s)) in {outcome.seconds:.0f} s; the "
              f"fine-tuned model is in {args.out}", file=sys.stderr)
    return 130 if result.cancelled else 0
