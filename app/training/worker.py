"""The training worker: reads the corrected frames and fine-tunes a copy of the model on its
own thread.

The GUI thread hands over a job of plain data (frame refs, copies of the masks held in the
label store, a label set, a checkpoint path, settings, a folder); the worker reads the
images (and the saved masks of frames not held in memory), calls the core's `run_finetune`
and saves the new model as a project version. Progress comes back as queued signals carrying
the core's dataclasses. Cancelling is a `CancelToken` the GUI sets directly (a slot would
wait behind the job it should stop).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from segnet_core.checkpoint import load_checkpoint
from segnet_core.errors import SegNetError
from segnet_core.finetune import (ClassBalanceRow, FineTuneResult, FineTuneSettings, ModelVersions, Version,
                                  class_balance_table, run_finetune, split_frames)
from segnet_core.labels import LabelSet
from segnet_core.events import CancelToken
from segnet_core.train import StepProgress, ValidationRecord

from app.editing.store import location
from app.frames import FrameReader, FrameRef

BALANCE_CHOICES = ("median", "natural")


@dataclass(frozen=True)
class TrainingFrame:
    """A corrected frame: its ref and a copy of its mask when the label store holds it
    (None: the worker reads the saved mask file)."""

    ref: FrameRef
    mask: np.ndarray | None = None


@dataclass
class AnalyseJob:
    frames: list[TrainingFrame]
    label_set: LabelSet
    holdout: float | tuple[int, ...]
    seed: int = 0


@dataclass
class BalanceReport:
    """The class-balance tables (one per balance mode) of the training frames."""

    rows: dict[str, list[ClassBalanceRow]]
    train_count: int
    held_count: int
    problems: list[str] = field(default_factory=list)


@dataclass
class TrainingJob:
    frames: list[TrainingFrame]
    label_set: LabelSet
    model_path: str
    settings: FineTuneSettings
    versions_folder: Path


@dataclass
class TrainingOutcome:
    """What a run left: the core's result, the version it was saved as (None when
    cancelled before a step was taken), the version saved for the model it started from
    (when the project had none), and the frames that could not be used."""

    result: FineTuneResult
    version: Version | None
    base_version: Version | None
    seconds: float
    problems: list[str] = field(default_factory=list)


def read_frames(frames: list[TrainingFrame], label_set: LabelSet, reader: FrameReader
                ) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str], list[int], list[str]]:
    """(pairs, names, indices into `frames` of the pairs, problems). Frames whose image or
    mask cannot be read, or whose sizes differ, are left out and named in `problems`."""
    pairs, names, kept, problems = [], [], [], []
    for index, frame in enumerate(frames):
        try:
            image = reader.read(frame.ref)
            mask = frame.mask
            if mask is None:
                folder, name = location(frame.ref)
                mask = folder.read(name, label_set)
            if mask is None:
                raise SegNetError("its saved mask is gone")
        except SegNetError as error:
            problems.append(f"{frame.ref.name}: {getattr(error, 'reason', error)}")
            continue
        if mask.shape != image.shape[:2]:
            problems.append(f"{frame.ref.name}: mask {mask.shape[1]}x{mask.shape[0]}, image "
                            f"{image.shape[1]}x{image.shape[0]}")
            continue
        pairs.append((image, mask))
        names.append(frame.ref.name)
        kept.append(index)
    return pairs, names, kept, problems


def remap_holdout(holdout, kept: list[int]):
    """Held-out indices chosen among all the frames, as indices among the `kept` ones."""
    if isinstance(holdout, (int, float)):
        return holdout
    position = {original: new for new, original in enumerate(kept)}
    return tuple(position[i] for i in holdout if i in position)


class TrainingWorker(QObject):
    """Runs analyses and fine-tuning jobs on its own QThread, one at a time."""

    message = Signal(str)
    step = Signal(object)  # StepProgress
    validated = Signal(object)  # ValidationRecord
    balanceReady = Signal(object)  # BalanceReport
    finished = Signal(object)  # TrainingOutcome
    failed = Signal(str)

    _analyseRequested = Signal(object)
    _trainRequested = Signal(object, object)

    def __init__(self) -> None:
        super().__init__()
        self._cancel: CancelToken | None = None
        self._reader: FrameReader | None = None  # owned by the worker thread
        self._thread = QThread()
        self._thread.setObjectName("training")
        self.moveToThread(self._thread)
        queued = Qt.ConnectionType.QueuedConnection
        self._analyseRequested.connect(self._analyse, queued)
        self._trainRequested.connect(self._train, queued)

    # ------------------------------------------------------------ GUI thread

    def start(self) -> None:
        self._thread.start()

    def analyse(self, job: AnalyseJob) -> None:
        self._analyseRequested.emit(job)

    def train(self, job: TrainingJob) -> None:
        self._cancel = CancelToken()
        self._trainRequested.emit(job, self._cancel)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def shutdown(self, timeout_ms: int = 60000) -> bool:
        self.cancel()
        self._thread.quit()
        stopped = self._thread.wait(timeout_ms)
        if stopped and self._reader is not None:
            self._reader.close()
        return stopped

    # --------------------------------------------------------- worker thread

    def _frames(self, frames, label_set):
        if self._reader is None:
            self._reader = FrameReader()
        return read_frames(frames, label_set, self._reader)

    @Slot(object)
    def _analyse(self, job: AnalyseJob) -> None:
        try:
            pairs, _names, kept, problems = self._frames(job.frames, job.label_set)
            rows: dict[str, list[ClassBalanceRow]] = {}
            train = held = []
            if pairs:
                holdout = remap_holdout(job.holdout, kept)
                if len(holdout if isinstance(holdout, tuple) else ()) >= len(pairs):
                    holdout = ()
                train, held = split_frames(len(pairs), holdout, job.seed)
                masks = [pairs[i][1] for i in train]
                rows = {mode: class_balance_table(masks, job.label_set, mode)
                        for mode in BALANCE_CHOICES}
        except Exception as error:  # noqa: BLE001 - reported, the thread lives on
            self.failed.emit(f"class balance: {type(error).__name__}: {error}")
            return
        self.balanceReady.emit(BalanceReport(rows, len(train), len(held), problems))

    @Slot(object, object)
    def _train(self, job: TrainingJob, cancel: CancelToken) -> None:
        started = time.perf_counter()
        try:
            self.message.emit(f"reading {len(job.frames)} corrected frame(s)")
            pairs, names, kept, problems = self._frames(job.frames, job.label_set)
            for problem in problems:
                self.message.emit(f"left out {problem}")
            settings = replace(job.settings, holdout=remap_holdout(job.settings.holdout, kept))
            versions = ModelVersions(job.versions_folder)
            base = load_checkpoint(job.model_path)
            base_version = None
            if not versions.list():
                # the model in use becomes the project's first version: one can go back to it
                base_version = versions.save(base, make_current=True)
                base = versions.load(base_version)
            with tempfile.TemporaryDirectory(prefix="segnet-finetune-") as out_dir:
                result = run_finetune(base, pairs, job.label_set, settings, out_dir=out_dir,
                                      progress=self._report, cancel=cancel, frame_names=names)
            version = None
            if result.checkpoint is not None:
                version = versions.save(result.checkpoint, make_current=False)
        except SegNetError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # noqa: BLE001 - out of memory, a driver: report it
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(TrainingOutcome(result, version, base_version,
                                           time.perf_counter() - started, problems))

    def _report(self, event) -> None:
        if isinstance(event, StepProgress):
            self.step.emit(event)
        elif isinstance(event, ValidationRecord):
            self.validated.emit(event)
        else:
            self.message.emit(str(event))
