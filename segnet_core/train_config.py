"""Training recipes: `TrainingOptions` (what a training run and a fine-tuning run share) and
`TrainConfig` (a full training run). The defaults here are the only copy: argparse, the
fine-tuning settings and the panel's widgets read them."""

from __future__ import annotations

import enum
import math
import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any

from segnet_core.balance import Balance
from segnet_core.errors import SegNetError
from segnet_core.models import MAX_INPUT_SIDE, model_info

#: The smallest training size SegNet takes (its five 2x2 poolings).
MIN_SIZE = 32


def parse_size(text: str) -> tuple[int, int]:
    """"HxW" (e.g. "360x480") as (height, width); ValueError saying what is wrong."""
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must be HxW, e.g. 360x480, not {text!r}") from None
    if height < MIN_SIZE or width < MIN_SIZE:
        raise ValueError(f"size must be at least {MIN_SIZE}x{MIN_SIZE}")
    if max(height, width) > MAX_INPUT_SIDE:
        raise ValueError(f"size must be at most {MAX_INPUT_SIDE} pixels a side")
    return height, width


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class TrainingOptions:
    """The settings of a training run that fine-tuning has too (one source for both).

    epochs: passes over the training images (with `minutes`: at most this many).
    lr: SGD learning rate; None lets the recipe choose (see the subclasses).
    balance: "median" (median-frequency class weights) or "natural" (no weighting).
    augment: random scale, crop, flip and colour jitter of the training images.
    freeze_encoder: train the decoder only; the encoder's BN statistics stay fixed.
    device, precision: as `segnet_core.device` takes them ("auto", "cpu", "cuda"...).
    seed: the sample order, augmentation and new weights, so a run can be repeated.
    minutes: a time budget: training stops after this many minutes (None: no limit).
    """

    epochs: int = 100
    batch_size: int = 4
    lr: float | None = None
    balance: Balance = Balance.MEDIAN
    augment: bool = True
    freeze_encoder: bool = False
    device: str = "auto"
    precision: str = "auto"
    seed: int = 0
    minutes: float | None = None

    def __post_init__(self) -> None:
        if self.balance in Balance.values():
            self.balance = Balance(self.balance)  # an unknown one is left for validate()

    def validate(self) -> None:
        """Raise SegNetError naming the first setting that cannot be used."""
        if not isinstance(self.epochs, int) or isinstance(self.epochs, bool) or self.epochs < 1:
            raise SegNetError(f"epochs must be a whole number >= 1, not {self.epochs!r}")
        if self.lr is not None and not (_is_number(self.lr) and self.lr > 0
                                        and math.isfinite(self.lr)):
            raise SegNetError(f"the learning rate must be a positive number, not {self.lr!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise SegNetError(f"batch size must be a whole number >= 1, not {self.batch_size!r}")
        Balance.parse(self.balance, "balance")
        if self.minutes is not None and not (_is_number(self.minutes) and self.minutes > 0
                                             and math.isfinite(self.minutes)):
            raise SegNetError(f"the time budget must be a positive number of minutes, not "
                              f"{self.minutes!r}")

    def shared_options(self) -> dict[str, Any]:
        """The `TrainingOptions` fields and their values (to build another recipe from)."""
        return {f.name: getattr(self, f.name) for f in fields(TrainingOptions)}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (tuples as lists, choices as their strings)."""
        return {key: _plain(value) for key, value in asdict(self).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)  # numpy integers too
    return value


@dataclass
class TrainConfig(TrainingOptions):
    """A training recipe. `lr=None` takes the paper's rate for the architecture."""

    model: str = "segnet-basic"
    size: tuple[int, int] = (360, 480)
    lr_drops: tuple[int, ...] = ()  # after this many epochs, the rate is multiplied by...
    lr_drop_factor: float = 0.1  # ...this factor (a step schedule; none by default)
    #: with `minutes`: the first drop comes once this share of the time is used, if no
    #: epoch brought it before (the fine-tune's last quarter, whichever ends the run)
    lr_drop_time: float | None = None
    momentum: float = 0.9
    weight_decay: float = 5e-4
    crop: tuple[int, int] | None = None  # train on random crops of this size (None: `size`)
    jitter: float = 0.2  # brightness/contrast/saturation factors in [1 - jitter, 1 + jitter]
    low_light: float = 0.0  # share of training images made to look filmed in poor light
    recompute_bn: bool = False
    val_every: int | None = None  # validate every N iterations instead of every epoch
    max_iterations: int | None = None  # stop after N iterations in all (smoke runs, tests)

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else model_info(self.model).default_lr

    def learning_rate_at(self, epoch: int, minutes_used: float = 0.0) -> float:
        """The rate for the 0-based `epoch` (`minutes_used` of the time budget): the base
        rate, times the factor per drop passed."""
        drops = sum(1 for after in self.lr_drops if epoch >= after)
        if self.minutes is not None and self.lr_drop_time is not None and \
                minutes_used >= self.lr_drop_time * self.minutes:
            drops = max(drops, 1)
        return self.learning_rate * self.lr_drop_factor ** drops

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["size"] = tuple(known.get("size", cls.size))
        known["lr_drops"] = tuple(int(e) for e in known.get("lr_drops", ()))
        if known.get("crop") is not None:
            known["crop"] = tuple(known["crop"])
        return cls(**known)
