"""Fine-tuning in the window: the Train menu, the training dock and its worker, wired to the
window's frames, label store and inference worker.

The policy (which frames, held-out choice, where versions live and which is current) is the
core's (`segnet_core.finetune`); this layer says which frames the user corrected (saved, or
edited and held by the label store) and shows what the core reports. Model versions live
in `<labels folder>/models/` beside the first corrected frame (`versions_folder`). A new
model is saved as the next version at once, but inference keeps using the old weights until
"Use this model" (or "Use the selected version"): then the window loads the version's file
through its usual model-loading path, and once the inference worker reports it loaded, the
frames that were not corrected are segmented again in the background (the window drops the
old model's predictions when a model replaces another).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox

from segnet_core.errors import SegNetError
from segnet_core.finetune import (BalanceReport, CorrectedFrame, FineTuneOutcome, ModelVersions,
                                  Version, versions_folder)
from segnet_core.finetune.links import link_groups
from segnet_core.finetune.report import Verdict, headline, verdict
from segnet_core.events import format_duration
from segnet_core.train_events import StopReason

from app.context import MessageTime
from app.editing.store import location
from app.frames import LABELLED
from app.menus import Place
from app.training.panel import TrainingPanel
from app.training.worker import AnalyseJob, TrainingJob, TrainingWorker
from app.workers.inference import ModelInfo

DOCK_WIDTH = 380  # the panel's first width beside the canvas (px); the dock can float


class TrainingLayer(QObject):
    """Owns the panel, its dock, the Train menu and the training worker. Its signals are
    emitted on the GUI thread once the panel shows the news (wait on these, not on the
    worker's, which come from its thread)."""

    balanceShown = Signal()
    epochShown = Signal(object)  # ValidationRecord
    finished = Signal(object)  # FineTuneOutcome
    failed = Signal(str)
    #: the model file a round started from (path) was saved as the project's original
    #: version (path of the copy): the same model under another name
    baseSaved = Signal(str, str)

    def __init__(self, window: QMainWindow, *, device: str = "auto",
                 precision: str = "auto") -> None:
        super().__init__(window)
        self.window = window
        self.device, self.precision = device, precision
        self.panel = TrainingPanel(window.context.settings.finetune)  # as last time
        self.dock = QDockWidget("Fine-tune", window)
        self.dock.setObjectName("training")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.action = QAction("&Fine-tune on corrected frames...", window)
        self.action.setStatusTip("Teach the model the corrected frames, then segment the "
                                 "others again")
        window.menus.add(Place.TRAIN_FINETUNE, self.action)
        self.worker = TrainingWorker()
        self.outcome: FineTuneOutcome | None = None
        self.running = False
        self._refused = ""  # why Train could not start, while it is shown
        self._frames: list[CorrectedFrame] = []
        self._elsewhere = 0  # corrected frames open of another project (`corrected_frames`)
        self._listed_project: Path | None = None  # whose frames `corrected_frames` gave
        self._awaiting: str | None = None  # path of a version being loaded for use
        self._base_path = ""  # the model file the running round started from
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(300)
        self._connect()
        self.worker.start()

    def _connect(self) -> None:
        p, w = self.panel, self.worker
        self.action.triggered.connect(self.open)
        self.dock.visibilityChanged.connect(lambda shown: shown and self.schedule_refresh())
        self._refresh_timer.timeout.connect(self.refresh)
        p.refreshRequested.connect(self.schedule_refresh)
        p.trainRequested.connect(self.start_training)
        p.cancelRequested.connect(self.cancel)
        p.useModelRequested.connect(self.use_new_model)
        p.useVersionRequested.connect(self.use_version)
        w.message.connect(p.show_status)
        w.step.connect(p.show_step)
        w.validated.connect(self._on_validated)
        w.balanceReady.connect(self._on_balance)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        self.window.editing.store.stateChanged.connect(lambda _ref: self.schedule_refresh())
        # masks found on opening (or written by another program) mark frames corrected too
        self.window.frames_model.correctedChanged.connect(self.schedule_refresh)
        self.window.modelReady.connect(self._on_model_ready)
        # a round trains the shown frame's project: the panel follows a frame of another
        # (a user's re-check: it listed the first project's frames until Train was pressed)
        self.window.display.documentShown.connect(self._on_frame_shown)

    # ------------------------------------------------------------ frames

    def open(self) -> None:
        first = not self.dock.isVisible()
        self.dock.show()
        self.dock.raise_()
        if first and not self.dock.isFloating():  # room for the panel, and for the canvas
            self.window.resizeDocks([self.dock], [max(300, int(self.window.height() * 0.75))],
                                    Qt.Orientation.Vertical)
            self.window.resizeDocks([self.dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
        self.refresh()

    def corrected_frames(self) -> list[CorrectedFrame]:
        """Every corrected frame, with a copy of its mask when the label store holds it (the
        worker reads the others' saved masks), whether its labels were reviewed (not
        propagated labels waiting to be accepted), whether its saved mask was listed as a
        prediction taken as it is (`app.editing.as_predicted`), and the model's cached labels
        for it: the worker tells a mask saved as this model predicts from them
        (`read_corrected`); the frames linked to it by propagation
        (`PropagationController.links`), held out together or not at all; and whether labels
        were carried to it by one (never held out: partly the model's own)."""
        store, cache = self.window.editing.store, self.window.cache
        marked = self.window.propagation.marks.is_marked
        listed = self.window.as_predicted.is_listed  # saved as some model's prediction
        links = self.window.propagation.links
        self.window.propagation.refresh_links()  # a stat per folder: a hand edit counts
        refs = [ref for ref in self.window.frames
                if self.window.frames.status(ref) in LABELLED]
        # one project's frames train its model (a user's check: a second project's frames
        # trained, and the result was saved as the first's)
        project = self._listed_project = self.project_folder()
        ours = {folder: versions_folder(folder) == project  # one look a folder
                for folder in {ref.path.parent for ref in refs}}
        self._elsewhere = sum(1 for ref in refs if not ours[ref.path.parent])
        refs = [ref for ref in refs if ours[ref.path.parent]]
        frames = []
        for ref, group in zip(refs, link_groups([location(ref) for ref in refs], links.names)):
            labels = store.get(ref)
            usable = labels is not None and not labels.locked and labels.started
            prediction = cache.peek(ref)  # a look: no say in what is dropped first
            saved = labels is None or not labels.dirty  # the saved mask is what trains
            frames.append(CorrectedFrame(
                ref, labels.mask.copy() if usable else None, reviewed=not marked(ref),
                as_predicted=saved and listed(ref),
                prediction=None if prediction is None else prediction.labels, group=group,
                carried=self.window.propagation.is_carried(ref)))
        return frames

    def _list_frames(self) -> None:
        """Take the corrected frames and list them in the panel, saying how many hold
        propagated labels not accepted yet."""
        self._frames = self.corrected_frames()
        void = self.window.display.label_set.void_index
        self.panel.elsewhere = self._elsewhere
        self.panel.set_frames([f.frame.name for f in self._frames],
                              unaccepted={f.frame.name for f in self._frames if not f.reviewed},
                              as_predicted={f.frame.name for f in self._frames
                                            if f.taken_as_predicted(f.mask, void)},
                              carried={f.frame.name for f in self._frames
                                       if f.carried and f.reviewed})

    def _on_frame_shown(self, _document) -> None:
        if self.project_folder() != self._listed_project:
            self.schedule_refresh()

    def project_folder(self) -> Path | None:
        """The models folder of the project a round trains: of the frame shown, else of the
        first frame open (None with nothing open)."""
        shown = self.window.display.current_key
        frames = self.window.frames
        ref = shown if shown is not None else (frames[0] if len(frames) else None)
        return None if ref is None else versions_folder(ref)

    def versions_folder(self) -> Path | None:
        refs = [f.frame for f in self._frames] or list(self.window.frames)
        return versions_folder(refs[0]) if refs else None

    def schedule_refresh(self) -> None:
        if self.dock.isVisible() and not self.running:
            self._refresh_timer.start()

    def _why_not(self) -> str:
        """Why Train cannot start now ("" when it can), with the frames listed."""
        if self.window.model_info is None:
            return "Load a model first: File > Load model..."
        if not len(self.window.frames):
            return ("Nothing is open: open the images or video you are labelling "
                    "(File > Open...), then correct and save a few frames")
        if not self._frames and self._elsewhere:  # a review: "correct a few first" misled
            return (f"No corrected frames in the project of the frame shown; "
                    f"{self._elsewhere} in another project open: show one of its frames to "
                    f"fine-tune its model")
        if not self._frames or self.versions_folder() is None:
            return "No corrected frames: correct and save a few frames first"
        return ""

    def _refuse(self, why: str) -> bool:
        """Train cannot start: say why while it is so (`refresh` keeps the words true, and
        takes them back once it can start)."""
        self._refused = why
        self.panel.show_status(why)
        return False

    def refresh(self) -> None:
        """List the corrected frames and recount the class balance (in the worker)."""
        if self.running:
            return
        self._list_frames()
        if self._refused and self.panel.status_label.text() == self._refused:
            why = self._why_not()  # what stopped Train may be gone (a user's check)
            if why != self._refused:
                self._refused = why
                self.panel.show_status(why)
        self.show_versions()
        if self._frames:
            info = self.window.model_info
            self.worker.analyse(AnalyseJob(self._frames, self.window.display.label_set,
                                           self.panel.holdout(),
                                           train_propagated=self.panel.train_propagated
                                           .isChecked(),
                                           trained_on=info.trained_on if info else frozenset()))
        else:
            self.panel.set_balance({}, self.window.display.label_set, 0, 0)

    def _on_balance(self, report: BalanceReport) -> None:
        self.panel.set_balance(report.rows, self.window.display.label_set,
                               report.train_count, report.held_count, report.held_names,
                               report.held_known, len(report.problems), report.set_aside,
                               report.note)
        if report.problems:
            self.panel.show_status("Left out: " + "; ".join(report.problems))
        self.balanceShown.emit()

    def _on_validated(self, record) -> None:
        self.panel.show_validation(record)
        self.epochShown.emit(record)

    # ------------------------------------------------------------ training

    def start_training(self) -> bool:
        """Start fine-tuning on the corrected frames; False (and why in the panel) when it
        cannot start."""
        if self.running:
            return False
        info = self.window.model_info
        self._list_frames()
        folder = self.versions_folder()
        why = self._why_not()
        if why:
            return self._refuse(why)
        settings = self.panel.settings(self.device, self.precision)
        try:
            settings.validate()
        except SegNetError as error:
            self.panel.show_status(str(error))
            return False
        # remembered for the next run, in this session or the next (the share, not the
        # frames ticked by hand: those belong to this project)
        self.window.context.settings.finetune = replace(
            settings, holdout=round(float(self.panel.holdout_share.value()), 4))
        self.running = True
        self._refused = ""
        self.outcome = None
        self.panel.set_running(True, settings.epochs)
        self.panel.show_status("starting")
        corrected = {frame.frame for frame in self._frames}
        ours = {parent: versions_folder(parent) == folder  # the project's own
                for parent in {ref.path.parent for ref in self.window.frames}}
        uncorrected = [ref for ref in self.window.frames if ref not in corrected and
                       self.window.frames.status(ref) not in LABELLED and
                       ours[ref.path.parent]]
        self._base_path = info.path
        self.worker.train(TrainingJob(self._frames, self.window.display.label_set,
                                      info.path, settings, folder, uncorrected))
        return True

    def cancel(self) -> None:
        if self.running:
            self.worker.cancel()
            self.panel.cancel_button.setEnabled(False)
            self.panel.show_status("cancelling: the model trained so far is kept")

    def _on_finished(self, outcome: FineTuneOutcome) -> None:
        self.running = False
        self.outcome = outcome
        if outcome.base_version is not None:  # the model in use, saved as the original
            self.baseSaved.emit(self._base_path, str(outcome.base_version.path))
        result = outcome.result
        self.panel.set_running(False)
        self.panel.progress.setRange(0, 1)
        self.panel.progress.setValue(1)
        self.panel.progress.setFormat("cancelled" if result.cancelled else "done")
        took = format_duration(outcome.seconds)
        if outcome.version is None:
            text = f"Cancelled before training started ({took}): no new model."
        else:
            what = ("Cancelled; kept the model trained so far" if result.cancelled else
                    f"Stopped at the {result.settings.minutes:g}-minute limit with "
                    f"{result.epochs_completed} of {result.settings.epochs} epoch(s) done"
                    + (" (inside the first: rounds this short tend to leave the model "
                       "worse; a longer limit teaches more)" if not result.epochs_completed
                       else "")
                    if result.stopped == StopReason.TIME_LIMIT else "Finished")
            said = headline(result.before_json, result.after_json,
                            len(result.held_out_indices))
            text = (f"{what} in {took}; {len(result.train_indices)} frame(s) trained. {said}. "
                    f"Saved as {outcome.version.id}.")  # the panel says whether it is in use
            if result.added_classes:
                text += f" New classes: {', '.join(result.added_classes)}."
        record = (result.checkpoint.training.get("fine_tune", {})
                  if result.checkpoint is not None else {})
        self.panel.show_result(result.before_json, result.after_json, text,
                               outcome.version is not None, held=len(result.held_out_indices),
                               drift=record.get("drift"),
                               drift_frames=int(record.get("drift_frames") or 0),
                               uncorrected=int(record.get("uncorrected_frames") or 0),
                               version=outcome.version.id if outcome.version else "")
        short, bar = text, f"Fine-tuning: {text}"
        if outcome.version is not None:
            judged = verdict(result.before_json, result.after_json)
            how = {Verdict.WORSE: ", which scores WORSE on the held-out frames",
                   Verdict.MIXED: ", mixed on the held-out frames (G and mIoU disagree)",
                   Verdict.BETTER: ", better on the held-out frames"}.get(judged, "")
            # "not in use yet", not "the previous model": the user may have switched models
            # while it trained
            short = (f"{what} in {took}: saved as {outcome.version.id}{how} (figures in the "
                     f"Result tab); not in use yet.")
            # the status bar is read in passing, and narrow windows cut it: the gist only
            bar = (f"Fine-tuning {'cancelled' if result.cancelled else 'done'}: "
                   f"{outcome.version.id} saved{how}; not in use yet")
        self.panel.show_status(short)
        self.window.statusBar().showMessage(bar, MessageTime.LONG)
        self.show_versions()
        self.schedule_refresh()  # corrections made meanwhile
        self.finished.emit(outcome)

    def _on_failed(self, message: str) -> None:
        if self.running:
            self.running = False
            self.panel.set_running(False)
            self.panel.progress.setRange(0, 1)
            self.panel.progress.setValue(0)
            self.panel.progress.setFormat("failed")
        self.panel.show_status(f"Fine-tuning failed: {message}")
        self.window.problems.add(None, f"fine-tuning: {message}")
        self.failed.emit(message)

    # ------------------------------------------------------------ versions

    def versions(self) -> ModelVersions | None:
        folder = self.versions_folder()
        return None if folder is None else ModelVersions(folder)

    def show_versions(self) -> None:
        versions = self.versions()
        in_use = self.window.model_info.path if self.window.model_info else None
        if versions is None:
            self.panel.set_versions([], None, in_use, "Open frames to see the project's models")
            return
        try:
            listed, current = versions.list(), versions.current
        except SegNetError as error:
            self.panel.set_versions([], None, in_use, f"{versions.folder}: {error}")
            return
        self.panel.set_versions(listed, current.id if current else None, in_use,
                                f"Saved in {versions.folder}")

    def use_new_model(self) -> None:
        if self.outcome is not None and self.outcome.version is not None:
            self.use_version(self.outcome.version.id)

    def use_version(self, version_id: str) -> None:
        """Make `version_id` the project's model and segment with it."""
        versions = self.versions()
        if versions is None:
            return
        try:
            version: Version = versions.set_current(version_id)
        except SegNetError as error:
            self.panel.show_status(str(error))
            return
        self._awaiting = str(version.path)
        self.panel.show_status(f"loading {version.id}")
        self.window.load_model(version.path)

    def _on_model_ready(self, info: ModelInfo) -> None:
        self.show_versions()
        self.schedule_refresh()  # which frames it learnt decides the held-out draw
        new = self.outcome.version if self.outcome is not None else None
        self.panel.mark_in_use(new is not None and str(new.path) == info.path)
        if self._awaiting is not None and info.path == self._awaiting:
            self._awaiting = None
            self.panel.show_status(f"Now segmenting with {info.name}; the frames that were "
                                   "not corrected are segmented again")
            self.window.segment_all_for_new_model()

    def confirm_close(self) -> bool:
        """Whether the window may close while a fine-tune round runs: asked, saying what
        becomes of it (a user's check: quitting stopped it with no word and saved the model
        trained so far as a new version, unmarked)."""
        return not self.running or self.ask_stop()

    def ask_stop(self) -> bool:
        """Whether to stop the round running and quit (the question)."""
        where = self.panel.progress.text() or "starting"  # empty while it evaluates
        box = QMessageBox(QMessageBox.Icon.Question, "Fine-tuning is running",
                          f"A fine-tune round is running ({where}). Quit and stop it? "
                          "What it has trained by then is kept as a new version, marked "
                          "cancelled and not put in use (nothing, if it has not started "
                          "training).",
                          QMessageBox.StandardButton.NoButton, self.window)
        stop = box.addButton("Stop and quit", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        box.exec()
        return box.clickedButton() is stop

    def shutdown(self) -> None:
        self._refresh_timer.stop()
        self.worker.shutdown()
