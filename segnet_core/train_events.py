"""What training and fine-tuning report: typed events while they run, and how a run ended.

A run reports through one callable taking a `TrainingEvent`. A consumer that handles the
kinds differently subclasses `ProgressSink` (itself such a callable) and overrides
`message`, `step` and `validated`; each event calls the method of its kind, so no consumer
sorts events out with isinstance. A plain list's `append` works as well (tests collect
events that way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from segnet_core.choices import Choice

if TYPE_CHECKING:
    from torch import nn


class StopReason(Choice):
    """Why a training run ended."""

    FINISHED = "finished"  # every epoch ran
    CANCELLED = "cancelled"  # the cancel token was set
    MAX_ITERATIONS = "max_iterations"  # TrainConfig.max_iterations reached
    TIME_LIMIT = "time_limit"  # TrainConfig.minutes used up


class TrainingEvent:
    """Something a run reports; `deliver` hands it to the matching `ProgressSink` method."""

    def deliver(self, sink: "ProgressSink") -> None:
        raise NotImplementedError


@dataclass
class Message(TrainingEvent):
    """A line of news for people: what the run is doing now (a phase, a warning)."""

    text: str

    def __str__(self) -> str:
        return self.text

    def deliver(self, sink: "ProgressSink") -> None:
        sink.message(self.text)


@dataclass
class StepProgress(TrainingEvent):
    """After every training step."""

    epoch: int  # 0-based
    epochs: int
    step: int  # 1-based step within the epoch
    steps_per_epoch: int
    global_step: int
    total_steps: int
    loss: float
    images_per_second: float
    seconds_left: float

    def deliver(self, sink: "ProgressSink") -> None:
        sink.step(self)


@dataclass
class ValidationRecord(TrainingEvent):
    """One line of the training log: written after each validation."""

    epoch: float  # epochs completed when validated (1-based), fractional with --val-every
    global_step: int
    train_loss: float
    global_accuracy: float
    class_accuracy: float
    miou: float
    learning_rate: float
    seconds: float
    images_per_second: float
    best: bool = False

    def deliver(self, sink: "ProgressSink") -> None:
        sink.validated(self)


ProgressCallback = Callable[[TrainingEvent], None]


class ProgressSink:
    """A progress callback that routes each event kind to its own method (no-ops here)."""

    def __call__(self, event: TrainingEvent) -> None:
        event.deliver(self)

    def message(self, text: str) -> None:
        pass

    def step(self, progress: StepProgress) -> None:
        pass

    def validated(self, record: ValidationRecord) -> None:
        pass


@dataclass
class TrainResult:
    """How a `Trainer.run` ended."""

    stopped: StopReason
    epochs_completed: int
    global_step: int
    best_miou: float
    history: list[ValidationRecord] = field(default_factory=list)
    best_path: Path | None = None
    last_path: Path | None = None
    model: "nn.Module | None" = None  # the best model (the last one without validation)
