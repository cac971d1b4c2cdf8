"""Fine-tuning settings, the train / held-out split and the class-balance table."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from segnet_core.balance import BALANCE_MODES, ClassPixelStats, class_weights
from segnet_core.errors import SegNetError
from segnet_core.models import model_info

START_MODES = ("current", "scratch")

#: Fine-tuning from the current model uses this share of the paper's from-scratch rate.
FINE_TUNE_LR_FACTOR = 0.1


@dataclass
class FineTuneSettings:
    """How to fine-tune on a handful of corrected frames. The defaults suit 4 to 20 frames.

    start: "current" (continue from the model in use) or "scratch" (same architecture,
        fresh He-initialised weights).
    epochs: passes over the training frames; every epoch ends with a validation on the
        held-out frames, and the best one (by held-out mIoU) is kept.
    lr: SGD learning rate; None picks it by `learning_rate`, see there.
    batch_size: frames per step.
    size: (height, width) frames are trained at; None = the current model's input size
        (the size inference runs at), or the first frame's size when the model has none.
    freeze_encoder: train the decoder only (fewer parameters to overfit a few frames).
    augment: random scale, crop, flip and colour jitter of the training frames.
    balance: "median" (median-frequency class weights) or "natural" (no weighting).
    holdout: the frames kept out of training to measure before / after: a fraction in
        [0, 1) (at least one frame once there are two or more frames, and never all of
        them), or the explicit indices (into the frames) the user picked.
    seed: drives the automatic held-out choice, the sample order, augmentation and the
        initialisation of new weights, so a run can be repeated.
    device, precision: as `segnet_core.device` takes them ("auto", "cpu", "cuda"...).
    """

    start: str = "current"
    epochs: int = 20
    lr: float | None = None
    batch_size: int = 4
    size: tuple[int, int] | None = None
    freeze_encoder: bool = False
    augment: bool = True
    balance: str = "median"
    holdout: float | tuple[int, ...] = 0.25
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"

    def validate(self) -> None:
        """Raise SegNetError naming the first setting that cannot be used."""
        if self.start not in START_MODES:
            raise SegNetError(f"start must be one of {', '.join(START_MODES)}, not {self.start!r}")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise SegNetError(f"epochs must be a whole number >= 1, not {self.epochs!r}")
        if self.lr is not None and not (isinstance(self.lr, (int, float)) and self.lr > 0
                                        and math.isfinite(self.lr)):
            raise SegNetError(f"the learning rate must be a positive number, not {self.lr!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise SegNetError(f"batch size must be a whole number >= 1, not {self.batch_size!r}")
        if self.size is not None:
            try:
                h, w = (int(v) for v in self.size)
            except (TypeError, ValueError):
                raise SegNetError(f"training size must be (height, width), not "
                                  f"{self.size!r}") from None
            if min(h, w) < 32:
                raise SegNetError(f"training size {h}x{w} is too small: SegNet needs at least "
                                  "32x32")
        if self.balance not in BALANCE_MODES:
            raise SegNetError(f"balance must be one of {', '.join(BALANCE_MODES)}, "
                              f"not {self.balance!r}")
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
        * from the current model: a tenth of that (0.01 for SegNet-Basic, 0.0001 for
          SegNet). The weights already solve the task nearly; the full rate, applied to
          the gradient of a handful of frames, takes steps as large as the first ones of a
          run from random weights, which throws away much of what the model knew (it
          overfits the few frames and forgets the rest of the folder) before validation can
          stop it. A tenth moves the model towards the corrections while staying near its
          current solution, the usual practice for fine-tuning.
        """
        if self.lr is not None:
            return float(self.lr)
        rate = model_info(architecture).default_lr
        return rate * FINE_TUNE_LR_FACTOR if self.start == "current" else rate

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["size"] = list(self.size) if self.size is not None else None
        if not isinstance(self.holdout, (int, float)):
            data["holdout"] = [int(i) for i in self.holdout]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FineTuneSettings":
        """Settings from `to_dict`'s form; unknown keys are ignored (older or newer files)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if known.get("size") is not None:
            known["size"] = tuple(int(v) for v in known["size"])
        if isinstance(known.get("holdout"), list):
            known["holdout"] = tuple(int(i) for i in known["holdout"])
        return cls(**known)


def split_frames(count: int, holdout: float | Sequence[int] = 0.25, seed: int = 0
                 ) -> tuple[list[int], list[int]]:
    """(training indices, held-out indices) of `count` frames, both sorted.

    holdout: a fraction in [0, 1): round(fraction * count) frames drawn at random (by
        `seed`), at least 1 when count >= 2 and the fraction is above 0, at most count - 1;
        or the explicit held-out indices, which must be distinct, in range, and leave at
        least one frame to train on.
    """
    if count < 1:
        raise SegNetError("no frames to fine-tune on: correct at least one frame first")
    if isinstance(holdout, (int, float)) and not isinstance(holdout, bool):
        fraction = float(holdout)
        if not 0 <= fraction < 1:
            raise SegNetError(f"the held-out share must be in [0, 1), not {holdout!r}")
        held_count = 0
        if fraction > 0 and count >= 2:
            held_count = min(max(1, math.floor(fraction * count + 0.5)), count - 1)
        order = np.random.default_rng(seed).permutation(count)
        held = sorted(int(i) for i in order[:held_count])
    else:
        held = sorted(int(i) for i in holdout)
        if len(set(held)) != len(held):
            raise SegNetError(f"held-out frame indices repeat: {held}")
        bad = [i for i in held if not 0 <= i < count]
        if bad:
            raise SegNetError(f"held-out frame index {bad[0]} is not one of the {count} frames "
                              f"(0..{count - 1})")
        if len(held) >= count:
            raise SegNetError("every frame is held out: leave at least one frame to train on")
    held_set = set(held)
    return [i for i in range(count) if i not in held_set], held


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


def balance_weights(stats: ClassPixelStats, mode: str) -> np.ndarray:
    """`class_weights` without its UserWarning (absent classes simply get weight 0, which
    the table shows); SegNetError for an unknown mode."""
    if mode not in BALANCE_MODES:
        raise SegNetError(f"balance must be one of {', '.join(BALANCE_MODES)}, not {mode!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return class_weights(stats, mode)


def class_balance_table(pairs, label_set, mode: str = "median") -> list[ClassBalanceRow]:
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
