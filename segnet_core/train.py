"""Training: the loop, validation, checkpoints, progress callbacks, cancel and resume, DDP.

`Trainer` prints nothing: it reports typed events (`segnet_core.train_events`: `Message`,
`StepProgress`, `ValidationRecord`) through a `progress` callback, and stops when its
`CancelToken` is set or its time budget is spent. The recipe is a `TrainConfig`
(`segnet_core.train_config`). The CLI's `segnet-studio train` and fine-tuning both drive it.

Resuming is exact: the sample order of an epoch and the augmentation of each sample are drawn
from generators seeded by (seed, epoch) and (seed, epoch, sample), so a run stopped at any step
and resumed from its `last` checkpoint sees the same batches as one that never stopped.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from segnet_core.balance import class_weights, dataset_pixel_stats
from segnet_core.checkpoint import (IMAGENET_NORMALIZATION, Checkpoint, checkpoint_from_model,
                                    save_checkpoint)
from segnet_core.data.transforms import EvalTransform, TrainTransform
from segnet_core.device import autocast, describe_device, resolve_device, resolve_precision
from segnet_core.distributed import DistributedContext
from segnet_core.errors import SegNetError
from segnet_core.evaluation import evaluate, scores_from_confusion
from segnet_core.losses import weighted_cross_entropy
from segnet_core.models import build_model
from segnet_core.inference import Predictor, images_to_tensor
from segnet_core.events import CancelToken
from segnet_core.train_config import TrainConfig
from segnet_core.train_events import (Message, ProgressCallback, StepProgress, StopReason,
                                      TrainResult, ValidationRecord)


class TrainingError(SegNetError):
    """Training cannot go on (diverged, data or settings that do not fit)."""


def normalized_batch(images: Sequence[np.ndarray], normalization: dict,
                     device: torch.device) -> torch.Tensor:
    """HxWx3 uint8 RGB images of one size -> normalised float32 (N, 3, H, W) on `device`."""
    mean = torch.tensor(normalization["mean"], dtype=torch.float32, device=device)
    std = torch.tensor(normalization["std"], dtype=torch.float32, device=device)
    return images_to_tensor(images, mean, std, device)


class Trainer:
    """Trains a SegNet-family model on a data set of (image, mask) pairs.

    train_set / val_set: objects with `len()`, `[i] -> (HxWx3 uint8, HxW uint8)`, `label_set`
    and `read_mask(i)` (e.g. `segnet_core.data.SegmentationDataset`).
    out_dir: where `best.pt`, `last.pt`, `log.jsonl` and `curves.png` go (None: keep nothing).
    start: weights to start from (a Checkpoint, `--from`); resume: a `last.pt` to continue.
    data: what the frames were (splits, a held-out drive...), kept in the training record as
    "data" so that the run can be reproduced; a resumed run keeps its own.
    """

    def __init__(self, config: TrainConfig, train_set, val_set=None, out_dir: Path | None = None,
                 *, init_encoder: str | Path | None = None, start: Checkpoint | None = None,
                 resume: Checkpoint | None = None, weights: np.ndarray | None = None,
                 progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                 data: dict | None = None):
        if len(train_set) == 0:
            raise TrainingError("the training set is empty")
        self.config = config
        self.data = None if data is None else dict(data, frames=len(train_set))
        if resume is not None and (resume.training or {}).get("data"):
            self.data = dict(resume.training["data"])
        self.train_set, self.val_set = train_set, val_set
        self.label_set = train_set.label_set
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.progress = progress or (lambda event: None)
        self.cancel = cancel or CancelToken()
        self.device = resolve_device(config.device)
        self.precision = resolve_precision(self.device, config.precision)
        self.context = DistributedContext.from_environment(self.device.type)
        if self.context.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.context.local_rank)
            torch.cuda.set_device(self.device)
        self.normalization = dict(IMAGENET_NORMALIZATION)
        self.model = self._build_model(init_encoder, start or resume)
        self.weights = self._class_weights(weights)
        self.optimizer = torch.optim.SGD(
            [p for p in self.model.parameters() if p.requires_grad], lr=config.learning_rate,
            momentum=config.momentum, weight_decay=config.weight_decay)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.precision == "fp16")
        self.epoch, self.step_in_epoch, self.global_step = 0, 0, 0
        self.best_miou = -1.0
        self.history: list[ValidationRecord] = []
        if resume is not None:
            self._restore(resume)
        self.train_model = self.model
        if self.context.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.train_model = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

    # ----------------------------------------------------------------- set-up
    def _build_model(self, init_encoder, source: Checkpoint | None) -> nn.Module:
        classes = self.label_set.num_classes
        if source is not None:
            if source.architecture["num_classes"] != classes:
                raise TrainingError(
                    f"{source.path}: the checkpoint predicts {source.architecture['num_classes']}"
                    f" classes, the data set has {classes}")
            model = source.build_model()
            self.config.model = source.architecture["name"]
            self.normalization = dict(source.normalization)
        else:
            model = build_model(self.config.model, classes, encoder_weights=init_encoder)
        model.to(self.device)
        if self.config.freeze_encoder:
            for parameter in model.encoder.parameters():
                parameter.requires_grad_(False)
        return model

    def _class_weights(self, weights: np.ndarray | None) -> torch.Tensor:
        if weights is None:
            weights = class_weights(dataset_pixel_stats(self.train_set), self.config.balance)
        weights = np.asarray(weights, dtype=np.float32)
        if weights.shape != (self.label_set.num_classes,):
            raise TrainingError(f"{len(weights)} class weights for "
                                f"{self.label_set.num_classes} classes")
        return torch.from_numpy(weights).to(self.device)

    def _restore(self, checkpoint: Checkpoint) -> None:
        state = checkpoint.resume or {}
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.epoch, self.step_in_epoch = int(state["epoch"]), int(state["step"])
            self.global_step = int(state["global_step"])
            self.best_miou = float(state["best_miou"])
            self.history = [ValidationRecord(**r) for r in state.get("history", [])]
        except (KeyError, ValueError, TypeError) as error:
            raise TrainingError(f"{checkpoint.path}: cannot resume from it ({error}); a `last.pt`"
                                " written by `segnet-studio train` is needed") from None
        saved = (checkpoint.training or {}).get("config")
        if saved:
            self._check_same_past(checkpoint.path, TrainConfig.from_dict(saved))

    def _check_same_past(self, path, saved: TrainConfig) -> None:
        """A resumed run may change its future (more epochs, a later rate drop), never its past:
        what it ends with must be what a run started with the new recipe would have given."""
        trained = self.epoch + (1 if self.step_in_epoch else 0)  # epochs (partly) trained
        for epoch in range(trained):
            before, now = saved.learning_rate_at(epoch), self.config.learning_rate_at(epoch)
            if not math.isclose(before, now, rel_tol=1e-9):
                raise TrainingError(
                    f"{path}: epoch {epoch + 1} was trained at learning rate {before:g}; the "
                    f"new schedule would give it {now:g}. A resumed run can only change epochs "
                    f"it has not reached (after epoch {trained})")

    # ----------------------------------------------------------------- loop
    @property
    def steps_per_epoch(self) -> int:
        share = math.ceil(len(self.train_set) / self.context.world_size)
        return max(1, math.ceil(share / self.config.batch_size))

    def describe(self) -> str:
        """One line saying where and how the run trains (the effective batch and rate)."""
        c, world = self.config, self.context.world_size
        batch = (f"effective batch {c.batch_size * world} ({c.batch_size} per process x {world} "
                 f"processes, {self.context.backend})" if world > 1 else f"batch {c.batch_size}")
        return (f"{c.model} on {describe_device(self.device)}, {self.precision}, {batch}, "
                f"learning rate {c.learning_rate:g}{self._schedule()} (not scaled by the number "
                "of processes), "
                f"{len(self.train_set)} training samples per epoch at {c.size[0]}x{c.size[1]}"
                + (f" in {c.crop[0]}x{c.crop[1]} crops" if c.crop and c.augment else "") + ", "
                f"{c.balance}-frequency balancing")

    def _schedule(self) -> str:
        c = self.config
        text = "" if not c.lr_drops else \
            f", x{c.lr_drop_factor:g} after epoch " + ", ".join(str(e) for e in c.lr_drops)
        if c.minutes is not None and c.lr_drop_time is not None:
            # "after 0.75 min of the 1-minute limit" (a user's check: "0.75 of the 1 minutes")
            when = f"{c.lr_drop_time * c.minutes:g} min of the {c.minutes:g}-minute limit"
            text += f" or after {when}, whichever comes first" if c.lr_drops else \
                f", x{c.lr_drop_factor:g} after {when}"
        return text

    def run(self) -> TrainResult:
        config = self.config
        self.progress(Message(self.describe()))
        self._write_log({"event": "start", "config": config.to_dict(),
                         "class_weights": [round(float(w), 6) for w in self.weights.cpu()],
                         "device": describe_device(self.device), "precision": self.precision,
                         "world_size": self.context.world_size})
        total_steps = config.epochs * self.steps_per_epoch
        stopped = StopReason.FINISHED
        loss_sum, loss_count, window_start, images_done = 0.0, 0, time.monotonic(), 0
        run_start, run_start_step, run_images = time.monotonic(), self.global_step, 0
        deadline = None if config.minutes is None else run_start + 60.0 * config.minutes
        while self.epoch < config.epochs and stopped == StopReason.FINISHED:
            batches = self._epoch_batches(self.epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = config.learning_rate_at(self.epoch)
            while self.step_in_epoch < len(batches):
                stopped = self._stop_reason(deadline)
                if stopped != StopReason.FINISHED:
                    break
                if config.lr_drop_time is not None:  # a time budget's drop comes mid-epoch
                    for group in self.optimizer.param_groups:
                        group["lr"] = config.learning_rate_at(
                            self.epoch, (time.monotonic() - run_start) / 60.0)
                loss = self._train_step(batches[self.step_in_epoch])
                self.step_in_epoch += 1
                self.global_step += 1
                loss_sum, loss_count = loss_sum + loss, loss_count + 1
                batch_images = len(batches[self.step_in_epoch - 1]) * self.context.world_size
                images_done, run_images = images_done + batch_images, run_images + batch_images
                now = time.monotonic()
                elapsed = now - run_start
                rate = (self.global_step - run_start_step) / max(elapsed, 1e-9)
                left = (total_steps - self.global_step) / max(rate, 1e-9)
                self.progress(StepProgress(
                    self.epoch, config.epochs, self.step_in_epoch, len(batches), self.global_step,
                    total_steps, loss, run_images / max(elapsed, 1e-9),
                    left if deadline is None else max(0.0, min(left, deadline - now))))
                if config.val_every and self.global_step % config.val_every == 0:
                    self._validate(loss_sum / loss_count, time.monotonic() - window_start,
                                   images_done)
                    loss_sum, loss_count, window_start, images_done = 0.0, 0, time.monotonic(), 0
            if self.step_in_epoch >= len(batches):
                self.epoch, self.step_in_epoch = self.epoch + 1, 0
                if not config.val_every and loss_count:
                    self._validate(loss_sum / loss_count, time.monotonic() - window_start,
                                   images_done)
                    loss_sum, loss_count, window_start, images_done = 0.0, 0, time.monotonic(), 0
                else:
                    self._save_last()
        if stopped != StopReason.FINISHED:
            self._save_last()
        return self._result(stopped)

    def _stop_reason(self, deadline: float | None) -> StopReason:
        """Why the run must stop before its next step (FINISHED: it need not)."""
        if self.cancel.cancelled:
            return StopReason.CANCELLED
        if self.config.max_iterations is not None and \
                self.global_step >= self.config.max_iterations:
            return StopReason.MAX_ITERATIONS
        if deadline is not None and time.monotonic() >= deadline:
            return StopReason.TIME_LIMIT
        return StopReason.FINISHED

    def _epoch_batches(self, epoch: int) -> list[np.ndarray]:
        order = np.random.default_rng([self.config.seed, epoch]).permutation(len(self.train_set))
        order = self.context.shard(order)
        size = self.config.batch_size
        return [order[i:i + size] for i in range(0, len(order), size)]

    def _load_batch(self, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        config, void = self.config, self.label_set.void_index
        transform = (TrainTransform(config.crop or config.size, jitter=config.jitter,
                                    low_light=config.low_light,
                                    void_index=void, base_size=config.size)
                     if config.augment else EvalTransform(config.size))
        images, masks = [], []
        for index in indices:
            image, mask = self.train_set[int(index)]
            rng = np.random.default_rng([config.seed, self.epoch, int(index)])
            image, mask = transform(image, mask, rng)
            images.append(image)
            masks.append(mask)
        x = normalized_batch(images, self.normalization, self.device)
        y = torch.from_numpy(np.stack(masks).astype(np.int64)).to(self.device, non_blocking=True)
        return x, y

    def _set_train_mode(self) -> None:
        self.model.train()
        if self.config.freeze_encoder:
            self.model.encoder.eval()  # frozen encoder: its batch-norm statistics stay too

    def _train_step(self, indices: np.ndarray) -> float:
        x, y = self._load_batch(indices)
        self._set_train_mode()
        with autocast(self.device, self.precision):
            logits = self.train_model(x)
        loss = weighted_cross_entropy(logits.float(), y, self.weights, self.label_set.void_index)
        value = self.context.mean_scalar(float(loss.detach()))
        if not math.isfinite(value):
            raise TrainingError(
                f"the loss became {value} at iteration {self.global_step + 1} (epoch "
                f"{self.epoch + 1}); training stopped and the last good checkpoint is kept. "
                "Lower the learning rate, or use --precision fp32")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return value

    # ----------------------------------------------------------------- validation
    def _validate(self, train_loss: float, seconds: float, images: int) -> None:
        self.context.sync_buffers(self.model)
        model = self.model
        if self.config.recompute_bn:
            model = recompute_batchnorm(copy.deepcopy(self.model), self.train_set, self.config,
                                        self.normalization, self.device)
        record = ValidationRecord(
            epoch=round(self.epoch + self.step_in_epoch / max(1, self.steps_per_epoch), 3),
            global_step=self.global_step, train_loss=train_loss, global_accuracy=float("nan"),
            class_accuracy=float("nan"), miou=float("nan"),
            learning_rate=self.optimizer.param_groups[0]["lr"], seconds=seconds,
            images_per_second=images / max(seconds, 1e-9))
        if self.val_set is not None and len(self.val_set):
            matrix = self.context.sum_array(self._confusion(model))
            scores = scores_from_confusion(matrix)
            record.global_accuracy = float(scores.global_accuracy)
            record.class_accuracy = float(scores.class_accuracy)
            record.miou = float(scores.miou)
            if record.miou > self.best_miou:
                self.best_miou, record.best = record.miou, True
        self.history.append(record)
        if record.best:
            self._save("best.pt", model, resume=False)
        self._save_last()
        self._write_log(asdict(record))
        self._write_plot()
        self.progress(record)

    def _confusion(self, model: nn.Module) -> np.ndarray:
        predictor = Predictor(model, self.label_set, input_size=self.config.size,
                              normalization=self.normalization, device=str(self.device),
                              precision=self.precision, batch_size=self.config.batch_size)
        indices = self.context.shard(np.arange(len(self.val_set)))
        if self.context.enabled and len(self.val_set) % self.context.world_size:
            indices = np.arange(len(self.val_set))[self.context.rank::self.context.world_size]
        samples = (self.val_set[int(index)] for index in indices)
        scored = evaluate(predictor, samples, self.label_set, compute_bf=False)
        self._set_train_mode()
        return scored.confusion.matrix

    # ----------------------------------------------------------------- output
    def _checkpoint(self, model: nn.Module, resume: bool) -> Checkpoint:
        state = None
        if resume:
            state = {"optimizer": self.optimizer.state_dict(), "epoch": self.epoch,
                     "step": self.step_in_epoch, "global_step": self.global_step,
                     "best_miou": self.best_miou,
                     "history": [asdict(r) for r in self.history]}
        scored = [r for r in self.history if not math.isnan(r.miou)]
        best = max(scored, key=lambda r: r.miou, default=None)
        record = {"config": self.config.to_dict(), "epochs_completed": self.epoch,
                  "global_step": self.global_step, "precision": self.precision,
                  "device": describe_device(self.device),
                  "val": asdict(best) if best else None, "data": self.data,
                  "class_weights": [float(w) for w in self.weights.cpu()]}
        return checkpoint_from_model(model, self.label_set.to_dict(), self.config.size,
                                     self.normalization, training=record, resume=state)

    def _save(self, name: str, model: nn.Module, resume: bool) -> None:
        if self.out_dir is None or not self.context.is_main:
            return
        path = self.out_dir / name
        try:
            save_checkpoint(path, self._checkpoint(model, resume))
        except OSError as error:  # disk full, no permission...: the old file stays
            raise TrainingError(
                f"{path}: cannot save the checkpoint ({error.strerror or error}); training "
                f"stopped, and the previous {name} (if any) is kept unchanged") from None

    def _save_last(self) -> None:
        self.context.sync_buffers(self.model)
        self._save("last.pt", self.model, resume=True)

    def _write_log(self, entry: dict) -> None:
        if self.out_dir is None or not self.context.is_main:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with open(self.out_dir / "log.jsonl", "a") as handle:
            handle.write(json.dumps(entry, allow_nan=True) + "\n")

    def _write_plot(self) -> None:
        if self.out_dir is None or not self.context.is_main:
            return
        from segnet_core.plot import write_training_plot

        write_training_plot(self.out_dir / "curves.png", self.history)

    def _result(self, stopped: StopReason) -> TrainResult:
        best = self.out_dir / "best.pt" if self.out_dir and self.best_miou >= 0 else None
        last = self.out_dir / "last.pt" if self.out_dir else None
        return TrainResult(stopped, self.epoch, self.global_step, self.best_miou,
                           list(self.history), best, last, self.model)


def recompute_batchnorm(model: nn.Module, dataset, config: TrainConfig, normalization: dict,
                        device: torch.device) -> nn.Module:
    """Replace running BN statistics by their average over the whole (unaugmented) set."""
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average over all batches
    model.train()
    transform = EvalTransform(config.size)
    with torch.no_grad():
        for start in range(0, len(dataset), config.batch_size):
            pairs = [transform(*dataset[i]) for i in
                     range(start, min(start + config.batch_size, len(dataset)))]
            model(normalized_batch([p[0] for p in pairs], normalization, device))
    return model.eval()
