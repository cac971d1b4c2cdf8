"""The model and its results: File > Load model, the inference worker's news (a model
loaded or not, a frame segmented or not) taken into the cache, the frame statuses, the
display and the status bar, and Segment > Segment all with its progress and Cancel."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Callable, Collection

import numpy as np
from PySide6.QtCore import QObject, Signal

from segnet_core.inference import Prediction
from segnet_core.io.video import frame_count_is_estimate
from segnet_core.ranking import is_trained_on

from app import open_dialogs as dialogs
from app.actions import WindowActions
from app.context import FeatureContext, MessageTime
from app.frames import FrameRef, FrameStatus
from app.menus import Place
from app.model_menu import ModelsMenu
from app.widgets.status_fields import StatusFields
from app.wording import frame_ranges, loading_text
from app.workers.inference import ModelInfo


class SegmentationController(QObject):
    """`modelReady(ModelInfo)` once a loaded model is taken in (the display follows its label
    set: `labelSetChanged(LabelSet)` comes first when it differs), `modelFailed(path,
    message)` once a failed load is; `batchFinished(done, total, cancelled)` when a Segment
    all ends. All are emitted on the GUI thread."""

    modelReady = Signal(object)
    #: a load asked for failed: its path, why (after the window took the failure in)
    modelFailed = Signal(object, str)
    labelSetChanged = Signal(object)
    batchFinished = Signal(int, int, bool)
    #: a frame that could not be read gave a result (its file mended since)
    readableAgain = Signal(object)

    def __init__(self, context: FeatureContext, status: StatusFields, actions: WindowActions,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.status = status
        self.actions = actions
        self.model_info: ModelInfo | None = None
        self._chosen = False  # whether the user chose the model in use (`model_chosen`)
        #: loads asked for: path, by the user, as the window starts
        self._requested: list[tuple[Path, bool, bool]] = []
        self.models_menu = ModelsMenu(context, self.load_model,
                                      lambda: self.model_info.path if self.model_info else None,
                                      context.host.widget)
        context.menus.add(Place.FILE_MODEL, self.models_menu)
        actions.load_model.triggered.connect(self._ask_model)
        actions.segment_all.triggered.connect(self.segment_all)
        actions.cancel_segment_all.triggered.connect(self.cancel_segment_all)
        status.cancelClicked.connect(self.cancel_segment_all)
        worker = context.inference
        worker.resultReady.connect(self._on_result)
        worker.failed.connect(self._on_failed)
        worker.unreadable.connect(self._on_unreadable)
        worker.modelLoaded.connect(self._on_model_loaded)
        worker.modelFailed.connect(self._on_model_failed)
        worker.progress.connect(self._on_progress)
        worker.estimating.connect(self._on_estimating)
        worker.batchFinished.connect(self._on_batch_finished)
        self._estimates: tuple[int, int] | None = None  # Segment all's: done, to make
        self._batch_problems = 0  # frames Segment all could not segment or estimate
        #: frames of each video Segment all could not read, said in one line at its end
        self._unreadable: dict[Path, list[int]] = {}
        self._batch_unread = 0  # frames Segment all could not read
        #: frames Segment all leaves out: with results already, corrected and trained on
        self._left_alone = (0, 0)
        #: the model whose estimates are held and the frames that have one (the window sets
        #: `QualityController.estimated_frames`): Segment all does not estimate them again,
        #: nor are they marked to be, when that model is the one in use
        self.estimated_frames: Callable[[], tuple[ModelInfo | None, Collection[FrameRef]]] = \
            lambda: (None, frozenset())
        self._kept_estimates = 0  # of Segment all's frames, how many kept their estimate
        worker.estimatesKept.connect(self._on_estimates_kept)
        self._loading: str | None = None  # the model being loaded
        self._stopped_for_load = ""  # how far a Segment all the load stopped had come
        # a result without its estimate (a video played on) is marked in the cache: shown
        # at rest it is asked for again (app.navigation), and Segment all takes it
        worker.estimateSkipped.connect(self._on_estimate_skipped)
        worker.estimated.connect(self._on_estimated)

    # ------------------------------------------------------------ model

    def _ask_model(self) -> None:
        path = dialogs.ask_model(self.context.host.widget, self.context.settings.last_folder)
        if path:
            self.load_model(path)

    def load_model(self, path: str | Path, *, by_user: bool = True,
                   at_start: bool = False) -> None:
        """Load a model; `by_user` False: the window chose it (the shipped model at start,
        a project's current version), and may follow the next project opened. The model
        the window starts on (`at_start`) is named in the status bar's field, and said only
        if nothing else was said meanwhile."""
        path = Path(path).resolve()  # as the versions lists name it: "in use" compares paths
        self._requested.append((path, by_user, at_start))
        self.context.inference.cancel_all()
        self._loading = path.name  # a Segment all it stops says so under this
        self.context.host.show_message(loading_text(path.name), MessageTime.UNTIL_REPLACED)
        self.context.inference.load_model(path)

    @property
    def loading(self) -> str | None:
        """The name of the model file being loaded, or None."""
        return self._loading

    def labels_due(self) -> bool:
        """Whether the model's labels of the frame shown are on their way: it has none yet,
        a model is loaded or loading, and segmenting the frame has not failed."""
        document = self.context.display.document
        return document is not None and document.prediction is None and \
            not document.prediction_failed and \
            (self.model_info is not None or self._loading is not None)

    @property
    def model_chosen(self) -> bool:
        """Whether the user chose the model (the Load model dialog, File > Models, a version
        in the fine-tune panel, `--model`), loaded or on its way: then opening a project
        keeps it. A choice that fails to load chooses nothing."""
        return self._chosen or any(by_user for _path, by_user, _start in self._requested)

    @property
    def requested_model(self) -> Path | None:
        """The model the window will segment with once the loads asked for are done: the
        last one asked for, else the one in use."""
        if self._requested:
            return self._requested[-1][0]
        return Path(self.model_info.path) if self.model_info is not None else None

    def _on_model_loaded(self, info: ModelInfo) -> None:
        loading, self._loading = loading_text(self._loading), None
        _path, by_user, at_start = self._requested.pop(0) if self._requested else \
            (None, False, False)
        self._chosen = self._chosen or by_user
        had_model = self.model_info is not None
        self.model_info = info
        self.context.settings.add_recent_model(info.path)  # File > Models offers it again
        self.status.set_model(info)
        message = f"Model {info.name} loaded: {info.device}, {info.precision}"
        stopped = bool(self._stopped_for_load)
        if stopped:  # said while loading, which may have lasted half a second
            message += (f" ({self._stopped_for_load} for it: Segment > Segment all runs it "
                        f"again)")
            self._stopped_for_load = ""
        label_set = info.label_set
        if label_set != self.context.display.label_set:
            self.context.display.set_label_set(label_set)
            self.labelSetChanged.emit(label_set)
            names = ", ".join(label_set.names[:6]) + (", ..." if label_set.num_classes > 6 else "")
            message += (f". The classes now follow this model: {label_set.num_classes} "
                        f"({names})")
        if not at_start or had_model or stopped or \
                self.context.host.current_message() in ("", loading):
            self.context.host.show_message(message, MessageTime.LONG)
        # else the model the window starts on, named in the status bar's field (its classes
        # in the Classes panel): news said meanwhile (what was opened, where the folder was
        # left) stays (a user's check: "back at ..." was replaced within a second)
        if had_model:
            self._forget_predictions()
        # With torch, Qt's bindings and a model loaded the process holds ~235,000 objects the
        # cyclic collector would walk in every full collection: 120-150 ms holding the GIL,
        # the longest freeze in a 10-minute video soak. Moving them to the permanent
        # generation leaves the collector only what was made since (refcounting still frees).
        gc.freeze()
        self.modelReady.emit(info)

    def _forget_predictions(self) -> None:
        """Results of the previous model no longer hold: drop them and segment again."""
        context = self.context
        context.cache.clear()
        for ref in context.frames.with_status(FrameStatus.SEGMENTED):
            context.frames_model.set_status(ref, FrameStatus.NOT_SEGMENTED)
        document = context.display.document
        if document is not None:
            document.prediction = None
            document.prediction_failed = False  # the new model's labels are on their way
            context.display.show(document)
            context.inference.request(document.key, document.image)

    def _on_model_failed(self, message: str) -> None:
        self._loading = None
        self._stopped_for_load = ""  # the model in use goes on: Segment all runs again with it
        path = self._requested.pop(0)[0] if self._requested else None
        self.context.problems.add(None, f"model not loaded: {message}")
        self.context.host.show_message(f"Model not loaded: {message}", MessageTime.LONG)
        if self.model_info is None:
            self.status.set_no_model(message)
        self.modelFailed.emit(path, message)

    # ------------------------------------------------------------ results

    def _on_result(self, key, labels: np.ndarray, confidence: np.ndarray, seconds: float) -> None:
        context = self.context
        prediction = Prediction(labels, confidence)
        context.cache.put(key, prediction)
        if context.frames.row_of(key) is not None:
            mended = context.frames_model.mark_read(key)  # read: no longer unreadable
            if context.frames.status(key) in (FrameStatus.NOT_SEGMENTED,  # "unreadable"
                                              FrameStatus.UNREADABLE):
                context.frames_model.set_status(key, FrameStatus.SEGMENTED)
            if mended:
                self.readableAgain.emit(key)
        self.status.set_inference_time(seconds)
        context.display.set_prediction(key, prediction)

    # slots of this QObject, so they run on the GUI thread, where the cache lives
    def _on_estimate_skipped(self, key) -> None:
        if key not in self._estimated_by_model_in_use():  # a kept one needs none
            self.context.cache.mark_unestimated(key)

    def _estimated_by_model_in_use(self) -> Collection[FrameRef]:
        """The frames that have an estimate by the model in use (none while one loads)."""
        for_model, estimated = self.estimated_frames()
        if for_model is not self.model_info or self._loading is not None:
            return frozenset()  # of another model (the one a fine-tune round replaced)
        return estimated

    def _on_estimates_kept(self, count: int) -> None:
        self._kept_estimates = count

    def _on_estimated(self, key, _value: float) -> None:
        self.context.cache.mark_unestimated(key, False)

    def _on_failed(self, key, message: str) -> None:
        if not self.actions.segment_all.isEnabled():  # Segment all runs
            self._batch_problems += 1
        path = key.path if isinstance(key, FrameRef) else None
        document = self.context.display.document
        if document is not None and document.key == key and document.prediction is None:
            document.prediction_failed = True  # edits need not wait for its labels (not an
            # estimate's failure, which comes after them: a review)
        reason = message.removeprefix(f"{path}: ") if path is not None else message
        self.context.problems.add(path, reason)

    def _on_unreadable(self, ref: FrameRef, message: str) -> None:
        """Segment all could not read a frame: marked so (not offered, not segmented again;
        a corrected or edited frame keeps its status: its labels are still there), an image
        said at once, a video's frames together when the batch ends; a frame said unreadable
        already (shown meanwhile) is not said again."""
        self._batch_unread += 1
        if not self.context.frames_model.mark_unreadable(ref):
            return
        if ref.index is None:
            self.context.problems.add(ref.path, message.removeprefix(f"{ref.path}: "),
                                      unreadable=True)
        else:
            self._unreadable.setdefault(ref.path, []).append(ref.index)

    def _say_unreadable(self) -> None:
        unreadable, self._unreadable = self._unreadable, {}
        for path, indices in unreadable.items():
            why = ("its length is an estimate (Matroska stores no frame count), or it is "
                   "damaged" if frame_count_is_estimate(path) else "damaged, or it ends early")
            self.context.problems.add(path, f"{len(indices)} frame(s) cannot be read: frames "
                                            f"{frame_ranges(indices)} ({why})", unreadable=True)

    # ------------------------------------------------------------ segment all

    def segment_all(self) -> None:
        """Segment every frame not segmented yet, the frames segmented without an estimate
        (marked in the cache), and the corrected frames the model has no result for and was
        not trained on: how right it is there levels the estimates of the others
        (`app.quality`). Frames that could not be read are tried again (a file mended or
        replaced since is segmented; one still damaged is counted again, said no second
        time in Problems)."""
        if self.context.said_nothing_open():
            return
        if self.model_info is None and self._loading is None:  # not "Cancelled after 0"
            self.context.host.show_message(
                "No model is loaded: File > Load model... (or File > Models), then Segment "
                "all", MessageTime.LONG)
            return
        frames = self.context.frames
        trained = self.model_info.trained_on if self.model_info is not None else frozenset()
        unsegmented = [ref for ref in frames.corrected() if ref not in self.context.cache]
        corrected = [ref for ref in unsegmented
                     if not is_trained_on(trained, ref.path, ref.index)]
        estimated = self._estimated_by_model_in_use()
        unestimated = []
        for ref in self.context.cache.unestimated():
            if ref in estimated:  # marked before its kept estimate came: it needs none
                self.context.cache.mark_unestimated(ref, False)
            elif isinstance(ref, FrameRef) and frames.row_of(ref) is not None:
                unestimated.append(ref)
        refs = sorted(set(frames.with_status(FrameStatus.NOT_SEGMENTED)
                          + frames.with_status(FrameStatus.UNREADABLE) + corrected
                          + unestimated), key=frames.row_of)
        if not refs:
            self.context.host.show_message("Every frame is segmented already")
            return
        batch = set(refs)
        # left alone: corrected frames it was trained on (with a result or not), and the
        # other frames with results already
        trained_on = {ref for ref in frames.corrected()
                      if ref not in batch and is_trained_on(trained, ref.path, ref.index)}
        self._left_alone = (sum(1 for ref in frames if ref in self.context.cache
                                and ref not in batch and ref not in trained_on),
                            len(trained_on))
        self._begin_batch(refs, batch.intersection(estimated))

    @property
    def batch_running(self) -> bool:
        """Whether a Segment all (of every frame, or of some: `segment_frames`) runs."""
        return self.actions.cancel_segment_all.isEnabled()

    def segment_frames(self, refs: list[FrameRef]) -> bool:
        """Segment `refs` as a Segment all of those frames alone (its progress, Cancel and
        message; `batchFinished` at the end), e.g. for a propagation to fill with the model's
        prediction where the flow is not trusted. False, starting nothing, without a model
        in use, while one loads, or while a Segment all runs."""
        if not refs or self.model_info is None or self._loading is not None or \
                self.batch_running:
            return False
        self._left_alone = (0, 0)
        refs = sorted(set(refs), key=lambda ref: self.context.frames.row_of(ref) or 0)
        self._begin_batch(refs, set(refs).intersection(self._estimated_by_model_in_use()))
        return True

    def _begin_batch(self, refs: list[FrameRef], estimated: set[FrameRef]) -> None:
        self.status.start_progress(len(refs), "Segmenting")
        self._estimates = None
        self._batch_problems = self._batch_unread = 0
        self.actions.segment_all.setEnabled(False)
        self.actions.cancel_segment_all.setEnabled(True)
        self._kept_estimates = 0  # the worker says how many (`estimatesKept`)
        self.context.inference.segment_all(refs, frozenset(estimated), self.model_info)

    def cancel_segment_all(self) -> None:
        # a slot on the GUI thread, not a task for the worker: a task would wait on the
        # worker thread behind the job it should stop
        self.context.inference.cancel_all()
        self.status.cancel.setEnabled(False)

    def _on_progress(self, done: int, total: int) -> None:
        if self._estimates is not None:
            self._estimates = (done, total)
        self.status.set_progress(done, total)

    def _on_estimating(self, total: int) -> None:
        """Segment all's frames have their labels; their estimates follow."""
        self._estimates = (0, total)
        cancel_clicked = not self.status.cancel.isEnabled()  # while this signal queued
        self.status.start_progress(total, "Estimating")
        self.status.cancel.setEnabled(not cancel_clicked)
        self.context.host.show_message(
            f"Segmenting done; estimating the accuracy of {total} frame(s)...",
            MessageTime.UNTIL_REPLACED)

    def _on_batch_finished(self, done: int, total: int, cancelled: bool) -> None:
        self.status.end_progress()
        self._say_unreadable()
        self.actions.segment_all.setEnabled(True)
        self.actions.cancel_segment_all.setEnabled(False)
        estimates, self._estimates = self._estimates, None
        problems, self._batch_problems = self._batch_problems, 0
        unread, self._batch_unread = self._batch_unread, 0
        segmented = done - unread
        later = "when a frame is shown, or with Segment all"
        # the frames taken; the unreadable are among them (said here, so the counts add up)
        taken = f"{segmented} of {total} frame(s)" + (f"; {unread} of the {total} cannot be "
                                                      f"read" if unread else "")
        if estimates is None:
            what = "Cancelled after" if cancelled else "Segmented"
            message = f"{what} {taken}"
            info = self.model_info
            if (cancelled and segmented and info is not None
                    and info.calibration.uses_scale_agreement):
                message += f"; their estimates follow {later}"
        elif cancelled:
            message = (f"Segmented {taken}; estimates cancelled after "
                       f"{estimates[0]} of {estimates[1]} (the others follow {later})")
        else:
            message = f"Segmented and estimated {taken}"
        had_results, trained = self._left_alone
        if not cancelled and had_results:
            message += f"; the other {had_results} had results already"
        if not cancelled and trained:
            message += f"; {trained} corrected frame(s) it was trained on left as they are"
        if not cancelled and self._kept_estimates:
            # of the frames segmented: "Segmented 60 of 61; 60 kept their estimates" read as
            # if they were not segmented (a user's check)
            message += (f"; the estimates of {self._kept_estimates} of them were kept from "
                        f"before (the same model)")
        if problems or unread:
            message += (f"; {problems} problem(s)" if problems else "") + ": View > Problems"
        if self._loading is not None:  # stopped for a new model: its results will not hold
            self._stopped_for_load = f"Segment all stopped after {segmented} of {total} frame(s)"
            self.context.host.show_message(
                f"{loading_text(self._loading)} ({self._stopped_for_load})",
                MessageTime.UNTIL_REPLACED)
        else:
            self.context.host.show_message(message)
        self.batchFinished.emit(done, total, cancelled)
