"""The inference worker: owns the model and runs it on its own thread.

The GUI calls `request(key, image)` for the frame on screen. Requests go into a single slot
under a lock, so a newer request replaces one still waiting (as in Qt's Mandelbrot example):
moving quickly through frames runs the model only for the frame the user stops at, plus the
one already running. "Segment all" is a job on the same thread that reads its frames itself
and, between frames, first serves a waiting request, so the frame on screen never waits for
the whole batch. When the model's estimate needs extra passes (scale agreement), Segment all
segments every frame first and estimates them after (`app.workers.deferred_estimates`), so
every frame's labels come at the model's own speed. Results go back as queued signals
carrying plain arrays; the GUI decides
whether a result still belongs to the frame shown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable, Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal

from segnet_core.device import release_freed_memory
from segnet_core.errors import SegNetError
from segnet_core.labels import LabelSet
from segnet_core.inference import Predictor
from segnet_core.inference.agreement import (accuracy_from_summary, estimated_accuracy,
                                             warm_up_scales)
from segnet_core.quality import AccuracyCalibration
from segnet_core.ranking import (predictor_calibration, saved_labelled_accuracy,
                                 trained_frame_names)

from app.frames import FrameReader, FrameRef
from app.workers.deferred_estimates import DeferredEstimates
from app.workers.latest import LatestRequest
from app.workers.task import Task, WorkerThread


TRIM_EVERY_S = 20.0  # how often the worker hands freed memory back (release_freed_memory)


@dataclass(frozen=True)
class ModelInfo:
    """The model the worker has loaded, as the window shows and uses it."""

    name: str  # the checkpoint's file name
    path: str
    architecture: str
    device: str  # in words, e.g. "CPU (8 threads)"
    precision: str
    label_set: LabelSet
    input_size: tuple[int, int] | None
    #: how a frame's confidence map becomes its estimated accuracy (stored with the model)
    calibration: AccuracyCalibration = AccuracyCalibration()
    #: the frames a fine-tuned model was trained on (`ranking.trained_frame_names`)
    trained_on: frozenset[str] = frozenset()

    @classmethod
    def of(cls, path: str, predictor: Predictor) -> "ModelInfo":
        return cls(Path(path).name, str(path),
                   getattr(predictor.model, "architecture", {}).get("name", "?"),
                   predictor.device_description, predictor.precision, predictor.label_set,
                   predictor.input_size, predictor_calibration(predictor),
                   trained_frame_names(getattr(predictor, "training", {})))


class InferenceWorker(QObject):
    """Runs a Predictor on a QThread. Public methods are called from the GUI thread."""

    #: key, labels (HxW uint8), confidence (HxW float32), seconds spent in the model
    resultReady = Signal(object, object, object, float)
    #: key, its estimated pixel accuracy (0..1, the model's calibration, with the frame's
    #: scale agreement when the calibration uses it); after resultReady
    estimated = Signal(object, float)
    #: key of a frame shown without an estimate: the calibration needs more passes and a
    #: newer request waited, or Segment all does them after every frame's labels
    #: (`_estimate`); after resultReady
    estimateSkipped = Signal(object)
    #: key, the real pixel accuracy of its prediction by the frame's saved mask (0..1), for
    #: frames with one the model was not trained on (a mask that is the prediction taken as
    #: it is included: `quality.counts_as_correction`); after resultReady, before estimated
    measured = Signal(object, float)
    #: key (None when no frame is concerned), message
    failed = Signal(object, str)
    #: key of a frame Segment all could not read (a damaged image or video), message
    unreadable = Signal(object, str)
    #: key of a request as the model starts on it
    requestStarted = Signal(object)
    modelLoaded = Signal(object)  # ModelInfo
    modelFailed = Signal(str)
    #: frames done, frames in the job; after `estimating`, estimates done, estimates to make
    progress = Signal(int, int)
    #: Segment all has segmented its frames; this many estimates follow (`progress` counts
    #: them), for the frames that waited for their extra passes (each had `estimateSkipped`)
    estimating = Signal(int)
    #: how many of Segment all's frames kept the estimate they had (`segment_all`'s
    #: `estimated`); just before batchFinished
    estimatesKept = Signal(int)
    #: frames done, frames in the job, cancelled
    batchFinished = Signal(int, int, bool)

    def __init__(self, device: str = "auto", precision: str = "auto",
                 reader_factory: Callable[[], FrameReader] = FrameReader) -> None:
        super().__init__()
        self._device = device
        self._precision = precision
        self._reader_factory = reader_factory
        self._pending: LatestRequest[tuple[Hashable, np.ndarray]] = LatestRequest()
        self._batch: Task | None = None
        # owned by the worker thread once started:
        self._predictor: Predictor | None = None
        self._calibration = AccuracyCalibration()
        self._trained_on: frozenset[str] = frozenset()
        self._info: ModelInfo | None = None  # the model loaded, as `modelLoaded` gave it
        self._mask_read: set[FrameRef] = set()  # saved masks read for this model
        self._last_trim = time.monotonic()
        self._reader: FrameReader | None = None
        self._waiting: DeferredEstimates | None = None  # a Segment all's frames to estimate
        #: a Segment all's frames that have an estimate by its model already: not estimated
        self._skip_estimates: frozenset[FrameRef] = frozenset()
        self._skipped = 0  # how many of them it has segmented
        self.tasks = WorkerThread("inference", self)

    # ------------------------------------------------------------ GUI thread

    def start(self) -> None:
        self.tasks.start()

    def load_model(self, path: str | Path) -> None:
        """Load a checkpoint on the worker thread; `modelLoaded` or `modelFailed` follows.
        Requests made meanwhile wait for the model."""
        self.tasks.submit(self._load, str(path))

    def request(self, key: Hashable, image: np.ndarray) -> None:
        """Segment `image` soon; a request still waiting is dropped in favour of this one."""
        self._pending.put((key, image))
        self.tasks.submit(lambda _task: self._run_pending())

    def drop_pending(self) -> None:
        self._pending.clear()

    def segment_all(self, refs: Sequence[FrameRef],
                    estimated: frozenset[FrameRef] = frozenset(),
                    for_model: ModelInfo | None = None) -> None:
        """Segment `refs` in order on the worker thread (`progress`, a `resultReady` per
        frame, then `batchFinished`). Frames in `estimated` have an estimate by the model
        `for_model` (the `modelLoaded` it came from) already, e.g. kept from an earlier
        session: while that is the model the job runs with, they are not estimated again
        and emit no `estimated` (with a scale-agreement calibration that saves 70 % of the
        time; the shipped model's estimate costs next to nothing). A job already running is
        cancelled first."""
        self.cancel_all()
        self._batch = self.tasks.submit(self._run_batch, list(refs), frozenset(estimated),
                                        for_model)

    def cancel_all(self) -> None:
        if self._batch is not None:
            self._batch.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Stop the thread after the frame it is on; True when it has stopped."""
        self.cancel_all()
        self.drop_pending()
        stopped = self.tasks.shutdown(timeout_ms)
        if stopped and self._reader is not None:
            self._reader.close()
        return stopped

    # --------------------------------------------------------- worker thread

    def _load(self, _task: Task, path: str) -> None:
        try:
            predictor = Predictor.from_checkpoint(path, device=self._device,
                                                  precision=self._precision)
            predictor.warm_up()  # here, not on the first frame shown
            info = ModelInfo.of(path, predictor)
        except SegNetError as error:
            self.modelFailed.emit(str(error))
            return
        except Exception as error:  # a broken install or driver must not kill the thread
            self.modelFailed.emit(f"{path}: {type(error).__name__}: {error}")
            return
        if info.calibration.uses_scale_agreement:
            try:  # the estimate's extra passes too; only a speed-up, so a failure (memory
                # at the larger scale) leaves the model usable: each frame's estimate then
                # reports its own error
                warm_up_scales(predictor)
            except Exception:
                pass
        self._predictor = predictor
        self._calibration = info.calibration
        self._trained_on = info.trained_on
        self._info = info
        self._mask_read.clear()
        self.modelLoaded.emit(info)
        self._run_pending()

    def _run_pending(self) -> Hashable | None:
        """Serve the waiting request, if any (and a model is loaded); its key."""
        if self._predictor is None:
            return None  # the request waits for a model
        job = self._pending.take()
        if job is None:
            return None
        self.requestStarted.emit(job[0])
        self._predict(*job)
        return job[0]

    def _run_batch(self, task: Task, refs: list[FrameRef],
                   estimated: frozenset[FrameRef] = frozenset(),
                   for_model: ModelInfo | None = None) -> None:
        total, done = len(refs), 0
        # estimates of another model (one loaded since) are no reason to skip
        self._skip_estimates = estimated if for_model is self._info else frozenset()
        self._skipped = 0
        if self._predictor is None:
            self.failed.emit(None, "no model is loaded: File > Load model...")
            self.batchFinished.emit(0, total, True)
            return
        if self._reader is None:
            self._reader = self._reader_factory()
        served = set()  # frames the user asked for meanwhile: done already
        if self._calibration.uses_scale_agreement:
            self._waiting = DeferredEstimates()
        try:
            for ref in refs:
                served.add(self._run_pending())
                if task.cancelled:
                    break
                if ref not in served:
                    try:
                        image = self._reader.read(ref)
                    except SegNetError as error:
                        self.unreadable.emit(ref, str(error))
                    else:
                        self._predict(ref, image, in_batch=True)
                done += 1
                self.progress.emit(done, total)
            if self._waiting and not task.cancelled:
                self._estimate_waiting(task)
            self._waiting = None  # a request still waiting is estimated at once, not kept
            self._run_pending()
        finally:
            self._waiting = None  # frames left waiting stay marked: estimated when shown
            self._skip_estimates = frozenset()
            self.estimatesKept.emit(self._skipped)
            self.batchFinished.emit(done, total, task.cancelled)  # even after an error

    def _estimate_waiting(self, task: Task) -> None:
        """The estimates of the frames Segment all has segmented, in the order they were
        segmented; a frame the user asks for meanwhile is served first (and estimated then,
        so it is not estimated twice)."""
        waiting = self._waiting
        earlier = waiting.added - len(waiting)  # estimated while the frames were segmented
        self.estimating.emit(len(waiting))
        while True:
            self._run_pending()
            frame = waiting.pop()
            if frame is None or task.cancelled:
                break
            try:
                image = self._reader.read(frame.key)
                labels, summary = frame.labels(), frame.summary
                if labels is None:  # not kept (memory): segment it again
                    prediction = self._predictor.predict(image)
                    labels = prediction.labels
                    summary = self._calibration.summary_of_prediction(prediction)
                value = accuracy_from_summary(self._calibration, self._predictor, image,
                                              labels, summary)
            except SegNetError as error:
                self.failed.emit(frame.key, f"estimating its accuracy: {error.reason}")
            except Exception as error:  # as in _predict: report, keep running
                self.failed.emit(frame.key, f"estimating its accuracy: "
                                            f"{type(error).__name__}: {error}")
            else:
                self.estimated.emit(frame.key, value)
            # frames shown meanwhile count as done; frames passed by meanwhile join the total
            total = waiting.added - earlier
            self.progress.emit(total - len(waiting), total)
            self._trim_now_and_then()

    def _estimate(self, key: Hashable, image: np.ndarray, prediction, in_batch: bool) -> None:
        """Emit `estimated` for a frame just shown. A calibration on scale agreement costs
        more passes; a frame asked for on screen skips them while a newer request waits
        (playing a video), so the waiting frame is not delayed, and `estimateSkipped` says so
        (the window marks the result in its cache, asks for the frame again when it is shown
        at rest, and Segment all takes it). Segment all's own frames wait in `_waiting` for
        `_estimate_waiting`, and say so the same way (were it cancelled, they would be
        estimated as above)."""
        if in_batch and key in self._skip_estimates:
            self._skipped += 1
            return  # kept: the same model gave it on the same image
        skip = self._calibration.uses_scale_agreement and (in_batch or self._pending.waiting)
        if skip and (self._waiting is None or self._wait(key, prediction)):
            self.estimateSkipped.emit(key)
            return
        if self._waiting is not None:
            self._waiting.discard(key)  # a waiting frame shown now: estimated here
        try:
            value = estimated_accuracy(self._calibration, self._predictor, image, prediction)
        except Exception as error:  # as in _predict: report, keep running
            self.failed.emit(key, f"estimating its accuracy: {type(error).__name__}: {error}")
            return
        self.estimated.emit(key, value)

    def _wait(self, key: Hashable, prediction) -> bool:
        """Keep a frame for Segment all's estimates (its own frame, or one a video played
        past meanwhile); False if that failed (it is then estimated at once)."""
        try:
            self._waiting.add(key, prediction.labels,
                              self._calibration.summary_of_prediction(prediction))
        except Exception:  # noqa: BLE001 - memory, an encoder error: estimate it now instead
            return False
        return True

    def _predict(self, key: Hashable, image: np.ndarray, *, in_batch: bool = False) -> None:
        try:
            prediction = self._predictor.predict(image)
        except SegNetError as error:
            self.failed.emit(key, str(error))
        except Exception as error:  # out of memory, a driver error: report, keep running
            self.failed.emit(key, f"{type(error).__name__}: {error}")
        else:
            # The window keeps confidence as float16 (3 significant digits, plenty for a heat
            # map, a read-out and a threshold): a 720p result weighs 2.8 MB, not 4.6 MB.
            self.resultReady.emit(key, prediction.labels,
                                  prediction.confidence.astype(np.float16),
                                  float(self._predictor.last_inference_seconds))
            if isinstance(key, FrameRef) and key not in self._mask_read:
                # its saved mask, read here (off the GUI thread) once per model: a frame
                # shown again (video playback) is not read again; the window measures the
                # masks the user saves itself
                self._mask_read.add(key)
                real = saved_labelled_accuracy(key.path, key.index, prediction.labels,
                                               self._predictor.label_set, self._trained_on)
                if real is not None:
                    self.measured.emit(key, real)
            self._estimate(key, image, prediction, in_batch)
        self._trim_now_and_then()

    def _trim_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._last_trim >= TRIM_EVERY_S:
            # Predictor keeps freed memory for speed; give back what a busy moment left
            # (a 10-minute 720p soak kept +300 MiB from one burst in its second minute)
            self._last_trim = now
            release_freed_memory()
