"""Fine-tuning settings and the class-balance table."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from segnet_core.balance import Balance, ClassPixelStats, class_weights
from segnet_core.choices import Choice
from segnet_core.errors import SegNetError
from segnet_core.models import MAX_INPUT_SIDE, model_info
from segnet_core.train_config import MIN_SIZE, TrainConfig, TrainingOptions


class StartMode(Choice):
    """What fine-tuning starts from."""

    CURRENT = "current"  # the model in use
    SCRATCH = "scratch"  # the same architecture, fresh He-initialised weights

    @property
    def description(self) -> str:
        return {StartMode.CURRENT: "The current model",
                StartMode.SCRATCH: "Scratch (same architecture)"}[self]


START_MODES = StartMode.values()

#: Fine-tuning from the current model uses this share of the paper's from-scratch rate
#: (0.02 for SegNet-Basic; on drive 0006R0 with 1,200 samples 0.02, 0.03 and 0.05 gave
#: +12.9, +13.7 and +12.0 mIoU: docs/training.md).
FINE_TUNE_LR_FACTOR = 0.2

#: The most epochs a run may take (the panel's limit; a time budget runs up to it).
MAX_EPOCHS = 1000


@dataclass
class FineTuneSettings(TrainingOptions):
    """How to fine-tune on a handful of corrected frames. The defaults suit 4 to 20 frames.

    The fields shared with a training run (epochs, batch_size, lr, balance, augment,
    freeze_encoder, device, precision, seed, minutes) are `TrainingOptions`'; here:
    epochs: 24 of `samples_per_epoch` samples; every epoch ends with a validation on the
        held-out frames (the curves), and the last epoch's model is the result.
    lr: None picks it by `learning_rate`, see there.
    start: "current" (continue from the model in use) or "scratch" (same architecture,
        fresh He-initialised weights).
    size: (height, width) frames are trained at; None = the current model's input size
        (the size inference runs at), or the first frame's size when the model has none.
    holdout: the frames kept out of training to measure before / after: a fraction in
        [0, 1) (at least one frame once there are two or more frames, and never all of
        them), or the explicit indices (into the frames) the user picked.
    seed: also drives the automatic held-out choice and the initialisation of new weights.
    adapt_batchnorm: before training, and again after it, the batch-norm statistics are
        recomputed over the user's frames (corrected and uncorrected, never the held-out
        ones): the new street's light and colours, learnt without a label.
    pseudo_threshold: the uncorrected frames join training with the (adapted) current
        model's labels where its top probability reaches this (void elsewhere); None: the
        corrected frames alone.
    unlabelled_limit: at most this many uncorrected frames (evenly spread) are used.
    train_propagated: whether frames whose labels were propagated and not accepted yet
        (`CorrectedFrame.reviewed` False) train; either way none of them is drawn to be held
        out, since where the flow was not trusted their labels are the model's own.
    samples_per_epoch: an epoch is this many training samples, half of them corrected
        frames (repeated) when there are pseudo-labelled ones, so the recipe's length does
        not depend on how many frames there are. The last epoch's model is the result:
        nothing is chosen on the held-out frames, so their figures stay honest.
    crop_scale, jitter: training crops of this share of the training size (1 = whole
        frames) at the scale inference runs at, and the colour jitter (see TrainConfig).
    lr_drop: the share of the epochs after which the rate is multiplied by 0.1 for the
        rest (0.75 of 24: the last 6 epochs at a tenth), so it follows `epochs`; None: a
        constant rate.

    The defaults are what measured best on a drive the base model had not seen
    (benchmarks/finetune_loop.py, docs/training.md): 2,400 samples of whole corrected frames
    at 0.02, the last quarter at 0.002 (about 3.5 minutes on a 2-core CPU at 180x240,
    whatever the number of frames; the drop added 0.6 mIoU on average over twelve paired runs);
    batch-norm adaptation, pseudo-labels and half-size crops each did worse there, so they
    are off by default and kept as options.
    """

    epochs: int = 24
    start: StartMode = StartMode.CURRENT
    size: tuple[int, int] | None = None
    holdout: float | tuple[int, ...] = 0.25
    adapt_batchnorm: bool = False
    pseudo_threshold: float | None = None
    unlabelled_limit: int = 100
    train_propagated: bool = True
    samples_per_epoch: int = 100
    crop_scale: float = 1.0
    jitter: float = 0.2
    lr_drop: float | None = 0.75

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.start in START_MODES:
            self.start = StartMode(self.start)

    def validate(self) -> None:
        """Raise SegNetError naming the first setting that cannot be used."""
        StartMode.parse(self.start, "start")
        super().validate()
        if self.size is not None:
            try:
                h, w = (int(v) for v in self.size)
            except (TypeError, ValueError):
                raise SegNetError(f"training size must be (height, width), not "
                                  f"{self.size!r}") from None
            if min(h, w) < MIN_SIZE:
                raise SegNetError(f"training size {h}x{w} is too small: SegNet needs at least "
                                  f"{MIN_SIZE}x{MIN_SIZE}")
            if max(h, w) > MAX_INPUT_SIDE:
                raise SegNetError(f"training size {h}x{w} is too large: at most "
                                  f"{MAX_INPUT_SIDE} pixels a side")
        if self.pseudo_threshold is not None and not 0 < float(self.pseudo_threshold) <= 1:
            raise SegNetError(f"the pseudo-label confidence must be in (0, 1], not "
                              f"{self.pseudo_threshold!r}")
        if not 0 < float(self.crop_scale) <= 1:
            raise SegNetError(f"the crop scale must be in (0, 1], not {self.crop_scale!r}")
        if int(self.samples_per_epoch) < 1 or int(self.unlabelled_limit) < 0:
            raise SegNetError("samples per epoch must be >= 1 and the unlabelled limit >= 0")
        if self.lr_drop is not None and not (isinstance(self.lr_drop, (int, float))
                                             and not isinstance(self.lr_drop, bool)
                                             and 0 < self.lr_drop < 1):
            raise SegNetError(f"the rate drop must come after a share of the epochs in (0, 1), "
                              f"not {self.lr_drop!r}")
        if isinstance(self.holdout, (int, float)) and not isinstance(self.holdout, bool):
            if not 0 <= self.holdout < 1:
                raise SegNetError(f"the held-out share must be in [0, 1), not {self.holdout!r}")
        elif not (isinstance(self.holdout, (tuple, list))
                  and all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                          for i in self.holdout)):
            raise SegNetError(f"holdout must be a fraction or a list of frame indices, not "
                              f"{self.holdout!r}")

    def learning_rate(self, architecture: str) -> float:
        """The rate to train `architecture` at: `lr` when set, otherwise

        * from scratch: the paper's rate for the family (0.1 for SegNet-Basic and its
          variants, 0.001 for SegNet), made for He-initialised weights;
        * from the current model: a fifth of that (0.02 for SegNet-Basic, 0.0002 for
          SegNet). The weights already solve the task nearly; the full rate, applied to
          the gradient of a handful of frames, takes steps as large as the first ones of a
          run from random weights, which throws away much of what the model knew (it
          overfits the few frames and forgets the rest of the folder). A fifth moves the
          model towards the corrections while staying near its current solution (measured:
          FINE_TUNE_LR_FACTOR).
        """
        if self.lr is not None:
            return float(self.lr)
        rate = model_info(architecture).default_lr
        return rate * FINE_TUNE_LR_FACTOR if self.start == StartMode.CURRENT else rate

    def train_config(self, architecture: str, size: tuple[int, int]) -> TrainConfig:
        """The trainer's recipe for these settings (the shared options carried over, the
        learning rate resolved for `architecture`)."""
        options = dict(self.shared_options(), lr=self.learning_rate(architecture))
        crop = None
        if self.augment and self.crop_scale < 1:
            crop = tuple(max(MIN_SIZE, int(round(side * self.crop_scale))) for side in size)
        drops = () if self.lr_drop is None or self.epochs < 2 else (
            min(self.epochs - 1, max(1, round(self.epochs * self.lr_drop))),)
        # with a time budget the last quarter is of whichever ends the run: the time, or the
        # epochs (a fast GPU reaches --minutes' 1000 epochs first)
        timed = self.minutes is not None and self.lr_drop is not None
        return TrainConfig(model=architecture, size=size, crop=crop, jitter=self.jitter,
                           lr_drops=drops, lr_drop_time=self.lr_drop if timed else None,
                           **options)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FineTuneSettings":
        """Settings from `to_dict`'s form; unknown keys are ignored (older or newer files)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if known.get("size") is not None:
            known["size"] = tuple(int(v) for v in known["size"])
        if isinstance(known.get("holdout"), list):
            known["holdout"] = tuple(int(i) for i in known["holdout"])
        return cls(**known)


@dataclass(frozen=True)
class ClassBalanceRow:
    """One class of the balance table.

    pixels: its pixels over the frames (void excluded).
    frequency: pixels / the non-void pixels of the frames in which it appears (the
        median-frequency definition; 0 when absent).
    weight: its loss weight in the chosen mode (0 when absent).
    share: pixels / all non-void pixels of the frames (what a bar chart of "how much of
        the frames is this class" shows).
    images: frames in which it appears.
    """

    name: str
    pixels: int
    frequency: float
    weight: float
    share: float
    images: int


def _mask_of(item) -> np.ndarray:
    if isinstance(item, np.ndarray):
        return item
    return np.asarray(item[1])


def pixel_stats(masks_or_pairs, label_set) -> ClassPixelStats:
    """Class pixel statistics of masks, or of (image, mask) pairs (images are not read)."""
    stats = ClassPixelStats(label_set.num_classes, label_set.void_index)
    for item in masks_or_pairs:
        try:
            stats.update(_mask_of(item))
        except ValueError as error:
            raise SegNetError(f"cannot count the classes of a frame: {error}") from None
    return stats


def balance_weights(stats: ClassPixelStats, mode: Balance | str) -> np.ndarray:
    """`class_weights` without its UserWarning (absent classes simply get weight 0, which
    the table shows); SegNetError for an unknown mode."""
    mode = Balance.parse(mode, "balance")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return class_weights(stats, mode)


def class_balance_table(pairs, label_set, mode: Balance | str = Balance.MEDIAN
                        ) -> list[ClassBalanceRow]:
    """One row per class of `label_set`, in index order, for the panel's table and chart.

    pairs: (image, mask) pairs (or bare masks) -- normally the training frames.
    mode: "median" (weight = median of the appearing classes' frequencies / frequency) or
        "natural" (weight 1 for every class that appears).
    """
    stats = pixel_stats(pairs, label_set)
    weights = balance_weights(stats, mode)
    frequency = stats.frequency
    total = int(stats.pixels.sum())
    return [ClassBalanceRow(name=name, pixels=int(stats.pixels[c]),
                            frequency=float(frequency[c]), weight=float(weights[c]),
                            share=float(stats.pixels[c] / total) if total else 0.0,
                            images=int(stats.images[c]))
            for c, name in enumerate(label_set.names)]
