"""`run_finetune`: held-out figures before, training a copy, figures after.

Meant for a worker thread: everything is reported through `progress` as typed events
(`segnet_core.train_events`), nothing is printed, and a `CancelToken` stops it between
steps. The base checkpoint is never modified, so the model in
use keeps predicting with its old weights until the caller swaps in the new checkpoint.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from segnet_core.checkpoint import Checkpoint, checkpoint_from_model, load_checkpoint
from segnet_core.data.memory import InMemoryDataset
from segnet_core.errors import SegNetError
from segnet_core.finetune.adapt import (MixedFrames, adapt_batchnorm, changed_share,
                                        confident_labels, spread)
from segnet_core.finetune.expand import expand_classes
from segnet_core.finetune.frames import split_frames
from segnet_core.finetune.settings import (FineTuneSettings, StartMode, balance_weights,
                                           pixel_stats)
from segnet_core.labels import LabelSet
from segnet_core.evaluation import Scores, evaluate, scores_to_json
from segnet_core.models import build_model
from segnet_core.inference import Predictor
from segnet_core.events import CancelToken
from segnet_core.train import Trainer
from segnet_core.quality import QUALITY_KEY, carried_over
from segnet_core.ranking import model_calibration, trained_frame_names
from segnet_core.wording import some_names
from segnet_core.train_events import Message, ProgressCallback, StopReason, ValidationRecord

Frame = tuple[np.ndarray, np.ndarray]


@dataclass
class FineTuneResult:
    """What a fine-tuning run produced.

    checkpoint: the new model (the last epoch's: nothing is chosen on the held-out
        frames, so their figures stay honest); None only when cancelled before the
        first training step. Its `training` record holds a "fine_tune" entry (see
        `run_finetune`). Not saved anywhere but `out_dir`'s best.pt / last.pt: hand it to
        `ModelVersions.save` to keep it.
    before, after: held-out scores of the current model and of the new one, over the user's
        label set (per-class arrays have K' entries); None without held-out frames (and
        `before` also when the current model's classes are not a prefix of the label set).
    before_json, after_json: the same as `scores_to_json` dicts (fractions, None = undefined).
    stopped: FINISHED, CANCELLED or TIME_LIMIT (settings.minutes used up); `cancelled`
        says whether it was CANCELLED.
    """

    checkpoint: Checkpoint | None
    before: Scores | None
    after: Scores | None
    before_json: dict | None
    after_json: dict | None
    cancelled: bool
    stopped: StopReason
    settings: FineTuneSettings  # as run: lr and size filled in
    train_indices: list[int]
    held_out_indices: list[int]
    class_weights: list[float]
    added_classes: list[str] = field(default_factory=list)
    history: list[ValidationRecord] = field(default_factory=list)
    epochs_completed: int = 0
    global_step: int = 0
    best_path: Path | None = None


def evaluate_frames(model: nn.Module, model_label_set: LabelSet, frames: Sequence[Frame],
                    label_set: LabelSet, *, input_size: tuple[int, int] | None,
                    normalization: dict, device: str = "auto", precision: str = "auto",
                    batch_size: int = 4, compute_bf: bool = True) -> Scores:
    """G, C, mIoU, BF and per-class scores of `model` on (image, mask) frames.

    The model predicts the classes of `model_label_set`, which must be the first classes of
    `label_set` (the masks' classes); scores cover all of `label_set`. Frames are predicted
    as inference does (resized to `input_size`, outputs back at the frame's size).
    """
    predictor = Predictor(model, model_label_set, input_size=input_size,
                          normalization=normalization, device=device, precision=precision,
                          batch_size=batch_size)
    return evaluate(predictor, frames, label_set, compute_bf=compute_bf).result()


#: Uncorrected frames the drift (share of pixels that change class) is measured on.
DRIFT_FRAMES = 30


def predict_labels(model: nn.Module, label_set: LabelSet, images: Sequence[np.ndarray],
                   input_size, normalization: dict, settings: FineTuneSettings) -> list:
    """Label maps of `images` by `model` (for the drift figure)."""
    if not images:
        return []
    predictor = Predictor(model, label_set, input_size=input_size, normalization=normalization,
                          device=settings.device, precision=settings.precision,
                          batch_size=settings.batch_size)
    return [p.labels for p in predictor.predict_batch(list(images))]


#: the least a round's time limit leaves to train, however long the rest took (minutes)
MIN_TRAINING_MINUTES = 0.05


def training_minutes(limit: float, used_s: float) -> float:
    """The minutes of a round's time `limit` left to train once `used_s` seconds went to the
    work before training (reading, the held-out evaluation, batch-norm statistics, drift):
    the work after training does most of that again, so twice it is taken off (a user's
    check: 1.5-minute rounds took 1:56 and 1:57); at least `MIN_TRAINING_MINUTES`."""
    return max(MIN_TRAINING_MINUTES, limit - 2.0 * used_s / 60.0)


def _is_prefix(old: LabelSet, new: LabelSet) -> bool:
    return (old.num_classes <= new.num_classes
            and all(a.casefold() == b.casefold() for a, b in zip(old.names, new.names)))


def _training_size(settings: FineTuneSettings, base: Checkpoint,
                   frames: Sequence[Frame]) -> tuple[int, int]:
    if settings.size is not None:
        return (int(settings.size[0]), int(settings.size[1]))
    if base.input_size is not None:
        return (int(base.input_size[0]), int(base.input_size[1]))
    height, width = frames[0][0].shape[:2]
    return (max(32, int(height)), max(32, int(width)))


def _start_checkpoint(base: Checkpoint, label_set: LabelSet, settings: FineTuneSettings,
                      size: tuple[int, int]) -> Checkpoint:
    """The weights training starts from, as a new Checkpoint (base is only read)."""
    architecture = base.architecture
    if settings.start == StartMode.CURRENT:
        model = expand_classes(base, label_set, seed=settings.seed)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(settings.seed)
            model = build_model(architecture["name"], label_set.num_classes,
                                **architecture.get("options", {}))
    return checkpoint_from_model(model, label_set.to_dict(), size, base.normalization)


def _scores_json(scores: Scores | None, label_set: LabelSet, images: int) -> dict | None:
    return None if scores is None else scores_to_json(scores, label_set, images)


def _miou(scores: Scores | None) -> float | None:
    if scores is None or math.isnan(float(scores.miou)):
        return None
    return float(scores.miou)


def run_finetune(base: Checkpoint, frames: Sequence[Frame], label_set: LabelSet,
                 settings: FineTuneSettings | None = None, *, out_dir: str | Path,
                 progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                 frame_names: Sequence[str] | None = None,
                 unlabelled: Sequence[np.ndarray] = (),
                 started: float | None = None) -> FineTuneResult:
    """Fine-tune a copy of `base` on corrected `frames` and measure it on held-out ones.

    base: the model in use; neither it nor its tensors are modified.
    frames: (HxWx3 uint8 RGB image, HxW uint8 mask) pairs, masks in `label_set`'s indices.
    label_set: the user's classes: the model's own, possibly with new ones appended (they
        get new output channels, see `expand_classes`; from scratch any label set goes).
    out_dir: a fresh folder for the trainer's best.pt, last.pt, log.jsonl and curves.png.
    progress: called (in this thread) with `Message`s, `StepProgress` after every step and
        `ValidationRecord` after every epoch's held-out validation.
    cancel: stops training between steps; the model as it stands then is still returned
        (and measured), so a cancelled run leaves a usable model.
    frame_names: how the record names the frames (file names, frame numbers); default
        "frame 0", "frame 1"...
    unlabelled: images of the frames nobody corrected (HxWx3 uint8 RGB), for the batch-norm
        statistics and pseudo-labels (see FineTuneSettings), and to measure drift: the share
        of their pixels whose class the new model changes.
    started: when the round began (`time.perf_counter()`; default: this call): a time limit
        (settings.minutes) is the whole round's, training gets what the rest leaves
        (`training_minutes`).

    Steps: split (settings.holdout) -> "evaluating the current model" on the held-out frames
    -> batch-norm statistics of the user's frames -> pseudo-labels -> train (Trainer, a
    fixed length, the last epoch kept) -> batch-norm statistics again -> "evaluating the
    fine-tuned model" on the held-out frames, which nothing was trained or chosen on. The returned checkpoint's `training["fine_tune"]`
    holds: recipe (settings as run), frames (names and indices of the training and held-out
    frames), class_weights, added_classes, before / after (scores_to_json), stopped,
    created, and parent (version, path, architecture and classes of `base`).
    """
    started = time.perf_counter() if started is None else started
    settings = settings or FineTuneSettings()
    settings.validate()
    emit = progress or (lambda event: None)
    cancel = cancel or CancelToken()
    frames = list(frames)
    names = [str(n) for n in frame_names] if frame_names is not None else [
        f"frame {i}" for i in range(len(frames))]
    if len(names) != len(frames):
        raise SegNetError(f"{len(names)} frame names for {len(frames)} frames")
    try:
        InMemoryDataset(frames, label_set)  # checks shapes, types and mask values
    except ValueError as error:
        raise SegNetError(f"a corrected frame cannot be used: {error}") from None
    train_idx, held_idx = split_frames(len(frames), settings.holdout, settings.seed)
    base_labels = base.label_set()
    architecture = base.architecture["name"]
    size = _training_size(settings, base, frames)
    run_settings = dataclasses.replace(settings, lr=settings.learning_rate(architecture),
                                       size=size, holdout=tuple(held_idx))
    added = list(label_set.names[base_labels.num_classes:]) if _is_prefix(
        base_labels, label_set) else []
    start = _start_checkpoint(base, label_set, run_settings, size)  # refuses bad label sets

    train_set = InMemoryDataset([frames[i] for i in train_idx], label_set)
    held_set = InMemoryDataset([frames[i] for i in held_idx], label_set) if held_idx else None
    weights = balance_weights(pixel_stats(train_set.pairs, label_set), settings.balance)
    absent = [label_set.names[c] for c in np.flatnonzero(weights == 0)]
    origin = "the current model" if settings.start == StartMode.CURRENT else "scratch"
    held_names = some_names([names[i] for i in held_idx], 6)
    emit(Message(f"{len(train_idx)} training frames, {len(held_idx)} held out"
                 + (f" ({held_names})" if held_idx else "") + f"; {architecture} from {origin}"
                 + (f"; new classes: {', '.join(added)}" if added else "")))
    if absent:
        emit(Message(f"not in any training frame (weight 0): {', '.join(absent)}"))

    def result(checkpoint=None, before=None, after=None, stopped=StopReason.CANCELLED,
               trained=None):
        images = len(held_idx)
        return FineTuneResult(
            checkpoint=checkpoint, before=before, after=after,
            before_json=_scores_json(before, label_set, images),
            after_json=_scores_json(after, label_set, images),
            cancelled=stopped == StopReason.CANCELLED, stopped=stopped, settings=run_settings,
            train_indices=train_idx, held_out_indices=held_idx,
            class_weights=[float(w) for w in weights], added_classes=added,
            history=list(trained.history) if trained else [],
            epochs_completed=trained.epochs_completed if trained else 0,
            global_step=trained.global_step if trained else 0,
            best_path=trained.best_path if trained else None)

    before = None
    if held_set is not None and _is_prefix(base_labels, label_set):
        emit(Message(f"evaluating the current model on {len(held_idx)} held-out frame(s)"))
        before = evaluate_frames(base.build_model(), base_labels, held_set.pairs, label_set,
                                 input_size=base.input_size, normalization=base.normalization,
                                 device=settings.device, precision=settings.precision,
                                 batch_size=settings.batch_size)
    elif held_set is not None:
        emit(Message("the current model's classes differ from the label set: no 'before' "
                     "figures"))
    if cancel.cancelled:
        return result(before=before)

    unlabelled = spread(unlabelled, settings.unlabelled_limit)
    own = [pair[0] for pair in train_set.pairs] + unlabelled
    normalization = dict(start.normalization)

    def adapted(model: nn.Module, cancellable: bool = True) -> nn.Module | None:
        if not settings.adapt_batchnorm:
            return model
        return adapt_batchnorm(model, own, input_size=size, normalization=normalization,
                               cancelled=lambda: cancellable and cancel.cancelled)

    drift_frames = spread(unlabelled, DRIFT_FRAMES)
    base_labels_then = predict_labels(base.build_model(), base_labels, drift_frames,
                                      base.input_size, base.normalization, settings)
    start_model = start.build_model()
    if settings.adapt_batchnorm:
        emit(Message(f"batch-norm statistics of {len(own)} of your frames"))
        start_model = adapted(start_model)
    if start_model is None or cancel.cancelled:
        return result(before=before)
    pseudo = []
    if settings.pseudo_threshold is not None and unlabelled:
        emit(Message(f"pseudo-labels for {len(unlabelled)} uncorrected frames (confidence >= "
                     f"{settings.pseudo_threshold:g})"))
        predictor = Predictor(start_model, label_set, input_size=size,
                              normalization=normalization, device=settings.device,
                              precision=settings.precision, batch_size=settings.batch_size)
        for image in unlabelled:
            if cancel.cancelled:
                return result(before=before)
            found = predictor.predict(image)
            pseudo.append((image, confident_labels(found.labels, found.confidence,
                                                   settings.pseudo_threshold,
                                                   label_set.void_index)))
    start = checkpoint_from_model(start_model, label_set.to_dict(), size, normalization)
    mixed = MixedFrames(train_set.pairs, pseudo, label_set, settings.samples_per_epoch)

    config = settings.train_config(architecture, size)
    if config.minutes is None:
        emit(Message("training"))
    else:
        config = dataclasses.replace(config, minutes=training_minutes(
            config.minutes, time.perf_counter() - started))
        emit(Message(f"training for up to {config.minutes:.2f} min of the {settings.minutes:g}"
                     f"-minute limit (the rest reads, evaluates and measures)"))
    trainer = Trainer(config, mixed, None,
                      Path(out_dir), start=start, weights=weights, progress=emit, cancel=cancel)
    del start, start_model  # the trainer holds its own copy of the weights
    trained = trainer.run()
    stopped = trained.stopped
    if trained.global_step == 0:
        return result(before=before, stopped=stopped, trained=trained)

    chosen = load_checkpoint(trained.last_path)
    model = adapted(chosen.build_model(), cancellable=False)  # a cancelled run keeps its model
    chosen = checkpoint_from_model(model, label_set.to_dict(), size, chosen.normalization,
                                   training=chosen.training)
    drift = None
    if drift_frames and _is_prefix(base_labels, label_set):
        now = predict_labels(model, label_set, drift_frames, size, chosen.normalization, settings)
        drift = changed_share(base_labels_then, now)
    after = None
    if held_set is not None:
        emit(Message(f"evaluating the fine-tuned model on {len(held_idx)} held-out frame(s)"))
        after = evaluate_frames(model, label_set, held_set.pairs, label_set,
                                input_size=size, normalization=chosen.normalization,
                                device=settings.device, precision=settings.precision,
                                batch_size=settings.batch_size)
    images = len(held_idx)
    parent_version = base.training.get("model_version", {})
    record = dict(chosen.training)
    # The base's accuracy estimate is kept only when it is a line of mean confidence x scale
    # agreement (quality.carried_over); other fits describe the base on unseen streets only.
    carried = carried_over(model_calibration(base.training))
    if carried is not None:
        record[QUALITY_KEY] = carried.to_dict()
    record["fine_tune"] = {
        "recipe": run_settings.to_dict(),
        "frames": {"train": [names[i] for i in train_idx],
                   # this round's and every earlier round's: what the model knows by heart
                   "train_all": sorted(trained_frame_names(base.training)
                                       | {names[i] for i in train_idx}),
                   "held_out": [names[i] for i in held_idx],
                   "train_indices": train_idx, "held_out_indices": held_idx},
        "class_weights": [float(w) for w in weights],
        "added_classes": added,
        "before": _scores_json(before, label_set, images),
        "after": _scores_json(after, label_set, images),
        "miou_before": _miou(before),
        "miou_after": _miou(after),
        "stopped": stopped.value,
        "epochs_completed": trained.epochs_completed,
        "chosen": "last",
        "drift": drift,
        "drift_frames": len(drift_frames),
        "uncorrected_frames": len(unlabelled),  # the drift's frames are spread over these
        "pseudo_labelled_frames": len(pseudo),
        "adapted_frames": len(own) if settings.adapt_batchnorm else 0,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parent": {"version": parent_version.get("id") if isinstance(parent_version, dict)
                   else None,
                   "path": str(base.path) if base.path is not None else None,
                   "architecture": architecture, "classes": list(base_labels.names),
                   "input_size": list(base.input_size) if base.input_size else None},
    }
    checkpoint = Checkpoint(architecture=dict(chosen.architecture), state_dict=chosen.state_dict,
                            labels=label_set.to_dict(), input_size=size,
                            normalization=dict(chosen.normalization), training=record)
    emit(Message("fine-tuning cancelled: keeping the model as it stood"
                 if stopped == StopReason.CANCELLED else "fine-tuning finished"))
    return result(checkpoint, before, after, stopped, trained)
