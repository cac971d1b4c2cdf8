"""SegNet Studio's main window: builds the widgets, the workers and the shared parts every
feature uses (a `FeatureContext`), then assembles the features: navigation, opening,
segmentation, editing, playback, export, fine-tuning, accuracy estimates and propagation.
It owns no feature logic, no ML and no file formats."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterable

from PySide6.QtCore import QEvent, QTimer, Qt
from PySide6.QtWidgets import (QApplication, QDialog, QDockWidget, QMainWindow, QVBoxLayout,
                               QWidget)

from segnet_core.finetune import project_to_follow
from segnet_core.io.video import quiet_native_logs
from segnet_core.labels import camvid_label_set
from segnet_core.masks.labels_folder import LabelsFolder
from segnet_core.masks.live_sessions import LiveSessions, remove_if_empty

from app.actions import build_actions
from app.canvas.view import CanvasView
from app.context import FeatureContext, WindowHost
from app.drops import FileDrops
from app.editing.as_predicted import AsPredictedList
from app.editing.controller import EditingController
from app.editing.store import LabelStore, location
from app.end_signals import end_on_signals
from app.export.controller import ExportController
from app.frame_display import FrameDisplay, OverlayMode
from app.frames import FrameList, FrameRef
from app.gui_gc import GuiThreadCollector
from app.help import HelpMenu
from app.importing.controller import ImportController
from app.menus import MenuBar
from app.navigation import NavigationController
from app.opening import OpeningController
from app.playback.controller import PlaybackController
from app.prediction_cache import PredictionCache
from app.project_model import ProjectModel
from app.propagation.controller import PropagationController
from app.quality.controller import QualityController
from app.quality.suggest import NextSuggested
from app.quality.flags import FrameFlags
from app.segmentation import SegmentationController
from app.settings import APPLICATION, ORGANIZATION, Settings
from app.startup import choose_model, model_was_chosen, parse_window_args
from app.training.layer import TrainingLayer
from app.widgets.class_panel import ClassPanel
from app.widgets.focus_return import FocusReturn
from app.widgets.frame_list import FrameListModel, FrameListView
from app.widgets.problems import ProblemsDock
from app.widgets.status_bar import ElidingStatusBar
from app.widgets.status_fields import StatusFields
from app.widgets.timeline import Timeline
from app.workers.frame_loader import FrameLoader
from app.workers.inference import InferenceWorker, ModelInfo
from app.workers.task import left_running
from app.workers.thumbnails import ThumbnailLoader


class MainWindow(QMainWindow):
    """The window. `model` is a checkpoint to load at once (None: start without one and say
    `no_model_reason` in the status bar); `model_chosen` False: the user did not name it, so
    a project opened with a fine-tuned model of its own brings that (`app.project_model`);
    `project` names the project whose current version `model` is, when the window starts
    on one (`segnet_core.finetune.project_to_follow`)."""

    def __init__(self, model: str | Path | None = None, *, device: str = "auto",
                 precision: str = "auto", settings: Settings | None = None,
                 no_model_reason: str = "", model_chosen: bool = True,
                 project: str = "") -> None:
        super().__init__()
        self.setWindowTitle("SegNet Studio[*]")  # then the host's: frame, unsaved count
        FocusReturn.install(QApplication.instance())  # after a question, where no WM does it
        self.settings = settings or Settings()
        self._closed = False
        self._ended_by_system = ""  # the signal that ends the program: nothing is asked
        self._asking = False  # a close is asking its questions
        self.thumbnails = ThumbnailLoader(self)
        self.frames_model = FrameListModel(FrameList(), self.thumbnails, self)
        self.frame_view = FrameListView(self.frames_model)
        self.canvas = CanvasView()
        self.timeline = Timeline()
        self.class_panel = ClassPanel()
        self.problems = ProblemsDock(self)
        self.setStatusBar(ElidingStatusBar())  # a long message ends in '…', shown whole on hover
        self.status = StatusFields(self.statusBar())
        self.display = FrameDisplay(self.canvas, self.class_panel, camvid_label_set(), self)
        self.cache = PredictionCache()
        self.collector = GuiThreadCollector(self)  # before any worker thread starts
        self.worker = InferenceWorker(device, precision)
        store = LabelStore(self.display.label_set, self)
        self.loader = FrameLoader(companion=store.read_file)
        host = WindowHost(self)
        self.menus = MenuBar(self.menuBar())
        self.actions = build_actions(host, self.menus)
        self.context = context = FeatureContext(
            host, self.menus, self.settings, self.problems, self.frames_model, self.display,
            self.cache, self.worker, store, LiveSessions())
        self.navigation = NavigationController(context, self.loader, self.frame_view,
                                               self.timeline, self)
        self.opening = OpeningController(context, self.navigation, self.actions, self)
        self.segmentation = SegmentationController(context, self.status, self.actions, self)
        self.editing = EditingController(context, self.class_panel, self)
        self.opening.framesOpened.connect(self._hold_folders)  # first: the others see it
        store.writer.before_write = lambda folder: context.live.claim(folder.root)
        self.opening.framesOpened.connect(self.editing.frames_opened)
        self.project_model = ProjectModel(context, self.opening, self.segmentation, self)
        self.segmentation.labelSetChanged.connect(self.editing.set_label_set)
        self.editing.editor.labels_due = self.segmentation.labels_due
        self.segmentation.readableAgain.connect(self.navigation.readable_again)  # shown now
        self.training = TrainingLayer(self, device=device, precision=precision)
        self._assemble()
        self._connect_view()
        self.playback = PlaybackController(context, self.navigation, self.timeline,
                                           self.canvas, self)  # play/pause, speed, go to
        self.editing.editor.pause_playback = self._pause_to_edit
        self.exporter = ExportController(context, self)  # File > Export...
        self.quality = QualityController(context, self.frame_view, self.timeline,
                                         self.segmentation.modelReady, self)
        self.suggest = NextSuggested(context, self.navigation, self.quality, self)  # Go > Next..
        # Go > Flag frame to correct first: Next suggested frame offers flagged frames first
        self.flags = FrameFlags(context, self.navigation, self.timeline, self)
        self.suggest.flagged = self.flags.refs
        self.segmentation.estimated_frames = self.quality.estimated_frames  # not again
        # the model saved as a project's original version: its estimates kept under both
        self.training.baseSaved.connect(self.quality.kept.same_model)
        self.opening.framesOpened.connect(self.flags.frames_opened)
        self.opening.framesOpened.connect(self.quality.frames_opened)
        self.propagation = PropagationController(context, self)  # Edit > Propagate labels
        self.opening.framesOpened.connect(self.propagation.marks.frames_opened)
        # propagated labels count as corrected for Next suggested once accepted, but are
        # never evidence of how right the model is: partly the model's own
        self.quality.unreviewed = self.propagation.marks.is_marked
        self.quality.carried = self.propagation.is_carried
        self.propagation.linksChanged.connect(self.quality.links_changed)
        self.propagation.marks.changed.connect(
            lambda ref, _marked: self.quality.labels_changed(ref))
        # masks saved as a model's prediction taken as it is: no evidence, under any model
        self.as_predicted = AsPredictedList(context, self)
        self.quality.saved_as_predicted = self.as_predicted.is_listed
        self.as_predicted.changed.connect(self.quality.mask_changed)  # measured again
        self.as_predicted.changed.connect(lambda _ref: self.training.schedule_refresh())
        # labels propagated from a model's own are its guess still: listed when saved so
        self.propagation.models_own = self.as_predicted.models_own
        self.propagation.segment_frames = self.segmentation.segment_frames
        self.propagation.segmenting = lambda: self.segmentation.batch_running
        self.segmentation.batchFinished.connect(
            lambda _done, _total, cancelled: self.propagation.segmenting_done(
                cancelled, self.segmentation.loading))
        self.as_predicted.carried_guess = self.propagation.marks.carried_guess
        # an export's val and test take only labels that may score a model
        self.exporter.may_score = lambda ref: not (self.propagation.is_carried(ref)
                                                   or self.as_predicted.is_listed(ref))
        self.exporter.carried_from = self.propagation.carried_from  # kept in one block
        # a mask another program wrote: not propagated nor as predicted any more (first),
        # then measured again
        self.editing.corrections.maskChanged.connect(self.propagation.marks.mask_changed)
        self.editing.corrections.maskChanged.connect(self.as_predicted.mask_changed)
        self.editing.corrections.maskChanged.connect(self.quality.mask_changed)
        self.importer = ImportController(context, self.editing.corrections.rescan, self)
        self.importer.links_written = self.propagation.refresh_links
        self.importer.as_predicted_written = self.as_predicted.list_imported
        self.help = HelpMenu(context, self)  # Help > Keyboard shortcuts, About
        self.help.model_text = self._model_text
        self.canvas.set_placeholder(
            "Open images, a folder or a video: File > Open image(s) (Ctrl+O), Open folder "
            "(Ctrl+Shift+O) or Open video, or drop them here.\n\nHelp > Getting started "
            "walks a first session; Help > Keyboard shortcuts (F1) lists every key.")
        # until a frame is shown (`FrameDisplay.show`); the start command may open no path
        self._restore()
        self.drops = FileDrops(self, self.open_paths)  # files dropped anywhere open
        self.worker.start()
        self.loader.start()
        if model is not None and project:
            self.project_model.follow(Path(model), project)
        elif model is not None:
            self.segmentation.load_model(model, by_user=model_chosen, at_start=True)
        else:
            why = no_model_reason or "no model given"
            self.status.set_no_model(why)
            self.statusBar().showMessage(f"No model loaded ({why}). Use File > Load model...")

    # ------------------------------------------------------------ what features and tests use

    @property
    def frames(self) -> FrameList:
        return self.frames_model.frames

    @property
    def current_key(self) -> FrameRef | None:
        return self.display.current_key

    @property
    def model_info(self) -> ModelInfo | None:
        return self.segmentation.model_info

    @property
    def modelReady(self):
        """Signal(ModelInfo): a loaded model is taken in (the display follows its classes)."""
        return self.segmentation.modelReady

    @property
    def batchFinished(self):
        """Signal(done, total, cancelled): a Segment all has ended."""
        return self.segmentation.batchFinished

    def _model_text(self) -> str:
        info = self.model_info
        if info is None:
            return "none loaded"
        return f"{info.name} ({info.path}), on {info.device}, {info.precision}"

    def open_paths(self, paths: Iterable[str | Path]) -> None:
        self.opening.open_paths(paths)

    def show_row(self, row: int) -> None:
        self.navigation.show_row(row)

    def load_model(self, path: str | Path) -> None:
        self.segmentation.load_model(path)

    def segment_all(self) -> None:
        self.segmentation.segment_all()

    def segment_all_for_new_model(self) -> None:
        """Segment all for a model just taken in, once every handler of `modelReady` has run
        and what is kept of its estimates has been read: those are not estimated again."""
        QTimer.singleShot(0, self, lambda: self.quality.kept.after_reads(self.segment_all))

    # ------------------------------------------------------------ assembly

    def _assemble(self) -> None:
        center = QWidget()
        layout = QVBoxLayout(center)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.editing.saving.recovery_bar)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(center)
        self._dock("Frames", "frames", self.frame_view, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("Classes", "classes", self.class_panel.with_search(),
                   Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems)
        self.problems.hide()
        self.resize(1280, 800)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)

    def _confirm_close(self) -> bool:
        if not self.training.confirm_close():  # a fine-tune round running: asked first
            return False
        self.propagation.stop()  # its frames so far join the unsaved ones asked about
        # unsaved frames, then lists (flags, propagated frames) whose writing failed: all
        # asked by ask_unsaved
        ask = self.editing.saving.ask_unsaved
        return self.editing.confirm_close() and self.flags.confirm_close(ask) and \
            self.propagation.confirm_close(ask) and self.as_predicted.confirm_close(ask)

    def _connect_view(self) -> None:
        a, canvas = self.actions, self.canvas
        a.quit.triggered.connect(self.close)
        a.fit.triggered.connect(canvas.fit)
        a.zoom_in.triggered.connect(lambda: canvas.zoom_by(1.25))
        a.zoom_out.triggered.connect(lambda: canvas.zoom_by(0.8))
        a.overlay.toggled.connect(canvas.set_overlay_visible)
        a.overlay.toggled.connect(self.display.set_overlay_shown)
        a.confidence.toggled.connect(lambda on: self.display.set_mode(
            OverlayMode.CONFIDENCE if on else OverlayMode.LABELS))
        # the confidence view is an overlay: shown with it (a newcomer's check: C with the
        # overlay off showed the legend over an uncoloured image)
        a.confidence.toggled.connect(lambda on: on and a.overlay.setChecked(True))
        a.next_frame.triggered.connect(lambda: self.navigation.step(1))
        a.previous_frame.triggered.connect(lambda: self.navigation.step(-1))
        a.first_frame.triggered.connect(lambda: self.navigation.go_to_end(last=False))
        a.last_frame.triggered.connect(lambda: self.navigation.go_to_end(last=True))
        a.show_problems.triggered.connect(self.problems.show)
        self.frames_model.readAgain.connect(self._read_again)
        a.opacity.valueChanged.connect(self._set_opacity)
        canvas.pixelHovered.connect(self.display.hover)
        canvas.pixelLeft.connect(self.display.unhover)
        self.display.readoutChanged.connect(self.status.set_readout)

    def _restore(self) -> None:
        geometry, state = self.settings.geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        if not self.problems.list.count():  # where it was left, but only with lines to show
            self.problems.hide()  # (an empty one came back at every start: a user's check)
        self.actions.opacity.setValue(round(self.settings.opacity * 100))
        self._set_opacity(self.actions.opacity.value())

    def _pause_to_edit(self) -> bool:
        """Pause a video playing for an edit; whether it was playing."""
        if not self.playback.playing:
            return False
        self.playback.pause()
        return True

    def _read_again(self, ref: FrameRef) -> None:
        """A frame whose reading had failed was read: Problems' lines about its file read as
        resolved once no frame of the file fails any more (a video's line names them all)."""
        if not self.frames.unreadable_in(ref.path):
            self.problems.resolve(ref.path, "readable again")

    def _set_opacity(self, value: int) -> None:
        self.canvas.set_overlay_opacity(value / 100.0)
        self.settings.opacity = value / 100.0

    # ------------------------------------------------------------ window events

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            # back from another program (an editor, a second window): flags edited there
            # show in the list and on the timeline now, not at the next open (a stat per folder)
            self.flags.refresh()
            self.as_predicted.refresh()  # and the masks listed as saved as predicted
            self.propagation.refresh_links()  # and where propagated labels came from
            self.quality.kept.refresh()  # and the estimates `rank` kept meanwhile

    def end_for_system(self, signal_name: str) -> None:
        """The system ends the program (`app.end_signals`): close asking nothing, the unsaved
        labels kept in their autosaves for the next session. A question open is answered
        Cancel first (its close would run inside this one)."""
        self._ended_by_system = signal_name
        modal = QApplication.activeModalWidget()
        if modal is not None or self._asking:  # a close asking already: it gives up first
            if modal is not None:
                modal.reject() if isinstance(modal, QDialog) else modal.close()
            QTimer.singleShot(50, self, lambda: self.end_for_system(signal_name))
            return
        self.close()

    def closeEvent(self, event) -> None:
        if not self._closed:
            if self._ended_by_system:
                self.propagation.stop()
                self.editing.saving.end_for_system()  # in autosaves, offered back next time
            else:
                self._asking = True  # a signal meanwhile waits for the answer (`end_for_system`)
                try:
                    confirmed = self._confirm_close()
                finally:
                    self._asking = False
                if not confirmed or self._ended_by_system:  # the signal's close comes next
                    event.ignore()
                    return
            self._closed = True
            self.opening.remember_where(self.current_key)
            if self.training.running:  # it stops at its next step: gone from the screen
                self.hide()  # meanwhile, not a window that looks frozen (a user's check)
            self.editing.stop_watching()  # first: what it reads reaches the controllers below
            self.propagation.shutdown(keep_links=bool(self._ended_by_system))
            self.flags.shutdown()
            self.as_predicted.shutdown()
            self.editing.shutdown()
            self.quality.shutdown()  # after the masks are written: kept with their stamps
            self.settings.save_window(self.saveGeometry(), self.saveState())
            self.settings.sync()
            self.training.shutdown()
            self.playback.shutdown()
            self.exporter.shutdown()
            self.importer.shutdown()
            self.worker.shutdown()
            self.thumbnails.shutdown()
            self.loader.shutdown()
            self.collector.stop()
            # last: every write of this window is done; an autosave folder left empty goes
            self.context.live.close(tidy=lambda root: remove_if_empty(
                LabelsFolder(root).autosave_root))
        super().closeEvent(event)

    def _hold_folders(self) -> None:
        """The labels folders of the frames open are this window's to work in: marked so
        for other windows (`segnet_core.masks.live_sessions`)."""
        self.context.live.hold({location(ref)[0].root for ref in self.context.frames})


def run(argv: list[str]) -> int:
    """Start the window: `argv` holds paths to open and the options of `startup`."""
    options = parse_window_args(argv)
    quiet_native_logs()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    chosen = model_was_chosen(options.model)
    # a project fine-tuned on starts on its current version, not on the shipped model first
    # (an index that cannot be read is said once the frames are open: `app.project_model`)
    # (several projects opened together keep the shipped model; said once they are open)
    project = None if chosen else project_to_follow(options.paths)[0]
    model, why = ((project.version.path, "") if project is not None
                  else choose_model(options.model))
    window = MainWindow(model, device=options.device, precision=options.precision,
                        no_model_reason=why, model_chosen=chosen,
                        project=project.name if project is not None else "")
    restore_signals = end_on_signals(window, window.end_for_system)
    window.show()
    if options.screenshot:
        _save_screenshot_when_drawn(window, Path(options.screenshot))
    if options.paths:
        window.open_paths(options.paths)
    code = app.exec()
    window.close()
    restore_signals()
    stuck = left_running()
    if stuck:  # the user closed without writes a hung disk holds: Qt aborts the process when
        # such a thread's object goes, and Python waits for its threads; end it now
        print(f"segnet-studio: closed without the writes a hung disk holds "
              f"({', '.join(stuck)})", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(code))
    return int(code)


def _save_screenshot_when_drawn(window: MainWindow, path: Path) -> None:
    """Save the window to `path` shortly after the first overlay is drawn, then quit (after
    60 s at the latest, with whatever is shown)."""
    done = []

    def save() -> None:
        if not done:
            done.append(True)
            window.grab().save(str(path))
            QApplication.instance().quit()

    window.display.overlayDrawn.connect(lambda _key: QTimer.singleShot(300, save))
    QTimer.singleShot(60000, save)
