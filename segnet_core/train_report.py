"""Training and fine-tuning on the command line: progress drawn on stderr, Ctrl-C to stop."""

from __future__ import annotations

import math
import signal
import sys
from contextlib import contextmanager
from typing import Iterator, TextIO

from segnet_core.events import CancelToken
from segnet_core.commands.progress_bar import ProgressBar
from segnet_core.train_events import ProgressSink, StepProgress, ValidationRecord


class TrainingReporter(ProgressSink):
    """A progress bar over the steps, a line per validation and the run's messages.

    quiet: draw nothing (the other processes of a torchrun job).
    label: what the validation line calls the frames it measured on ("val", "held-out").
    """

    def __init__(self, quiet: bool = False, label: str = "val",
                 stream: TextIO | None = None) -> None:
        self.quiet, self.label = quiet, label
        self.stream = stream
        self.bar: ProgressBar | None = None

    def _print(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream or sys.stderr)

    def message(self, text: str) -> None:
        self._print(text)

    def step(self, progress: StepProgress) -> None:
        if self.quiet:
            return
        if self.bar is None or self.bar.total != progress.total_steps:
            self.bar = ProgressBar(progress.total_steps, "train", stream=self.stream)
        self.bar.update(progress.global_step,
                        f"epoch {progress.epoch + 1}/{progress.epochs} loss {progress.loss:.4f} "
                        f"{progress.images_per_second:.1f} img/s", progress.seconds_left)

    def validated(self, record: ValidationRecord) -> None:
        mark = "  best" if record.best else ""
        scores = ("" if math.isnan(record.global_accuracy) else  # nothing measured
                  f"{self.label} G {100 * record.global_accuracy:.2f}  "
                  f"C {100 * record.class_accuracy:.2f}  mIoU {100 * record.miou:.2f}  ")
        self._print(f"\nepoch {record.epoch:g}: train loss {record.train_loss:.4f}  {scores}"
                    f"({record.seconds:.0f} s, {record.images_per_second:.1f} img/s){mark}")


@contextmanager
def interrupt_cancels(cancel: CancelToken, note: str) -> Iterator[None]:
    """Within: the first Ctrl-C sets `cancel` (and prints `note`), a second one interrupts."""

    def on_interrupt(signum, frame):
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()
        print(f"\n{note} (Ctrl-C again to abort now)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
