"""The training worker: runs the core's fine-tuning job (`segnet_core.finetune`) on its own
thread.

The GUI thread hands over a job of plain data (the corrected frames with copies of the masks
the label store holds, a label set, a checkpoint path, settings, the versions folder); the
worker reads the frames with its own `FrameReader` and calls `analyse_corrected` or
`finetune_corrected`, which hold the policy (which frames, held-out choice, versions).
Progress comes back as queued signals carrying the core's events. Cancelling is a
`CancelToken` the GUI sets directly (a slot would wait behind the job it should stop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from segnet_core.errors import SegNetError
from segnet_core.finetune import (CorrectedFrame, FineTuneSettings, ModelVersions,
                                  analyse_corrected, finetune_corrected)
from segnet_core.labels import LabelSet
from segnet_core.events import CancelToken
from segnet_core.train_events import ProgressSink, StepProgress, ValidationRecord

from app.frames import FrameReader


@dataclass
class AnalyseJob:
    frames: list[CorrectedFrame]
    label_set: LabelSet
    holdout: float | tuple[int, ...]
    seed: int = 0
    train_propagated: bool = True
    trained_on: frozenset[str] = frozenset()  # the frames the model in use learnt


@dataclass
class TrainingJob:
    frames: list[CorrectedFrame]
    label_set: LabelSet
    model_path: str
    settings: FineTuneSettings
    versions_folder: Path
    uncorrected: list = field(default_factory=list)  # FrameRefs nobody corrected


class _SignalSink(ProgressSink):
    """Hands the core's events to the worker's signals (emitted on the worker thread)."""

    def __init__(self, worker: "TrainingWorker") -> None:
        self.worker = worker

    def message(self, text: str) -> None:
        self.worker.message.emit(text)

    def step(self, progress: StepProgress) -> None:
        self.worker.step.emit(progress)

    def validated(self, record: ValidationRecord) -> None:
        self.worker.validated.emit(record)


class TrainingWorker(QObject):
    """Runs analyses and fine-tuning jobs on its own QThread, one at a time."""

    message = Signal(str)
    step = Signal(object)  # StepProgress
    validated = Signal(object)  # ValidationRecord
    balanceReady = Signal(object)  # BalanceReport
    finished = Signal(object)  # FineTuneOutcome
    failed = Signal(str)

    _analyseRequested = Signal(object)
    _trainRequested = Signal(object, object)

    def __init__(self) -> None:
        super().__init__()
        self._cancel: CancelToken | None = None
        self._reader: FrameReader | None = None  # owned by the worker thread
        self._sink = _SignalSink(self)
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

    def _read_image(self, frame):
        if self._reader is None:
            self._reader = FrameReader()
        return self._reader.read(frame)

    @Slot(object)
    def _analyse(self, job: AnalyseJob) -> None:
        try:
            report = analyse_corrected(job.frames, job.label_set, job.holdout,
                                       read_image=self._read_image, seed=job.seed,
                                       train_propagated=job.train_propagated,
                                       trained_on=job.trained_on)
        except Exception as error:  # noqa: BLE001 - reported, the thread lives on
            self.failed.emit(f"class balance: {type(error).__name__}: {error}")
            return
        self.balanceReady.emit(report)

    @Slot(object, object)
    def _train(self, job: TrainingJob, cancel: CancelToken) -> None:
        try:
            outcome = finetune_corrected(job.frames, job.label_set, job.model_path,
                                         job.settings, read_image=self._read_image,
                                         versions=ModelVersions(job.versions_folder),
                                         uncorrected=job.uncorrected,
                                         progress=self._sink, cancel=cancel)
        except SegNetError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # noqa: BLE001 - out of memory, a driver: report it
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(outcome)
