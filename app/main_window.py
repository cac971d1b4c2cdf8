"""SegNet Studio's main window: assembles the canvas, docks, menus and status bar and wires
them to the inference worker. It owns no ML and no file formats."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Iterable

import numpy as np
from PySide6.QtCore import QSignalBlocker, QTimer, Qt, Signal
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QVBoxLayout, QWidget

from segnet_core.labels import LabelSet, camvid_label_set
from segnet_core.inference import Prediction

from app import open_dialogs as dialogs
from app.actions import build_actions
from app.canvas.view import CanvasView
from app.document import FrameDocument
from app.editing.layer import EditingLayer
from app.editing.store import MaskFile
from app.frame_display import CONFIDENCE, LABELS, FrameDisplay
from app.frames import FrameList, FrameRef, FrameStatus
from app.exporting import ExportController
from app.playback.controller import PlaybackController
from app.prediction_cache import PredictionCache
from app.settings import APPLICATION, ORGANIZATION, Settings
from app.startup import choose_model, parse_window_args
from app.training.layer import TrainingLayer
from app.widgets.class_panel import ClassPanel
from app.widgets.frame_list import FrameListModel, FrameListView
from app.widgets.problems import ProblemsDock
from app.widgets.status_fields import StatusFields
from app.widgets.timeline import Timeline
from app.workers.frame_loader import FrameLoader
from app.workers.inference import InferenceWorker
from app.workers.thumbnails import ThumbnailLoader

MESSAGE_MS = 8000


class MainWindow(QMainWindow):
    """The window. `model` is a checkpoint to load at once (None: start without one and say
    `no_model_reason` in the status bar)."""

    #: emitted on the GUI thread once the window has taken the worker's news in
    modelReady = Signal(dict)
    batchFinished = Signal(int, int, bool)

    def __init__(self, model: str | Path | None = None, *, device: str = "auto",
                 precision: str = "auto", settings: Settings | None = None,
                 no_model_reason: str = "") -> None:
        super().__init__()
        self.setWindowTitle("SegNet Studio[*]")
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.cache = PredictionCache()
        self.loader = FrameLoader()
        self._wanted: FrameRef | None = None  # the frame asked for, shown once loaded
        self.model_info: dict | None = None
        self._closed = False

        self.thumbnails = ThumbnailLoader(self)
        self.frames_model = FrameListModel(FrameList(), self.thumbnails, self)
        self.frame_view = FrameListView(self.frames_model)
        self.canvas = CanvasView()
        self.timeline = Timeline()
        self.class_panel = ClassPanel()
        self.problems = ProblemsDock(self)
        self.status = StatusFields(self.statusBar())
        self.display = FrameDisplay(self.canvas, self.class_panel, camvid_label_set(), self)
        self.worker = InferenceWorker(device, precision)
        self.actions = build_actions(self)
        self.editing = EditingLayer(self, display=self.display, class_panel=self.class_panel,
                                    frames_model=self.frames_model, cache=self.cache,
                                    settings=self.settings, problems=self.problems)
        self.loader.companion = self.editing.read_saved_mask
        self.training = TrainingLayer(self, device=device, precision=precision)
        self._assemble()
        self._connect()
        self.playback = PlaybackController(self)  # play/pause, speed, go to frame
        self.exporter = ExportController(self)  # File > Export...
        self._restore()
        self.worker.start()
        self.loader.start()
        if model is not None:
            self.load_model(model)
        else:
            why = no_model_reason or "no model given"
            self.status.set_no_model(why)
            self.statusBar().showMessage(f"No model loaded ({why}). Use File > Load model...")

    @property
    def frames(self) -> FrameList:
        return self.frames_model.frames

    @property
    def current_key(self) -> FrameRef | None:
        return self.display.current_key

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
        self._dock("Classes", "classes", self.class_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems)
        self.problems.hide()
        self.resize(1280, 800)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)

    def _connect(self) -> None:
        a = self.actions
        a.open_images.triggered.connect(lambda: self._ask(dialogs.ask_images))
        a.open_folder.triggered.connect(lambda: self._ask(dialogs.ask_folder))
        a.open_video.triggered.connect(lambda: self._ask(dialogs.ask_video))
        a.load_model.triggered.connect(self._ask_model)
        a.quit.triggered.connect(self.close)
        a.recent_menu.aboutToShow.connect(lambda: dialogs.fill_recent_menu(
            a.recent_menu, self.settings, self.open_paths))
        a.fit.triggered.connect(self.canvas.fit)
        a.zoom_in.triggered.connect(lambda: self.canvas.zoom_by(1.25))
        a.zoom_out.triggered.connect(lambda: self.canvas.zoom_by(0.8))
        a.overlay.toggled.connect(self.canvas.set_overlay_visible)
        a.confidence.toggled.connect(
            lambda on: self.display.set_mode(CONFIDENCE if on else LABELS))
        a.next_frame.triggered.connect(lambda: self.step(1))
        a.previous_frame.triggered.connect(lambda: self.step(-1))
        a.segment_all.triggered.connect(self.segment_all)
        a.cancel_segment_all.triggered.connect(self.cancel_segment_all)
        a.show_problems.triggered.connect(self.problems.show)
        a.opacity.valueChanged.connect(self._set_opacity)
        self.status.cancelClicked.connect(self.cancel_segment_all)
        self.frame_view.rowChosen.connect(self.show_row)
        self.timeline.frameChosen.connect(self._on_timeline)
        self.canvas.pixelHovered.connect(
            lambda x, y: self.status.set_readout(self.display.readout(x, y)))
        self.canvas.pixelLeft.connect(lambda: self.status.set_readout(""))
        self.loader.loaded.connect(self._on_frame_loaded)
        self.loader.failed.connect(self._on_frame_failed)
        w = self.worker
        w.resultReady.connect(self._on_result)
        w.failed.connect(self._on_failed)
        w.modelLoaded.connect(self._on_model_loaded)
        w.modelFailed.connect(self._on_model_failed)
        w.progress.connect(self.status.set_progress)
        w.batchFinished.connect(self._on_batch_finished)

    def _restore(self) -> None:
        geometry, state = self.settings.geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.actions.opacity.setValue(round(self.settings.opacity * 100))
        self._set_opacity(self.actions.opacity.value())

    # ------------------------------------------------------------ opening

    def open_paths(self, paths: Iterable[str | Path]) -> None:
        """Open images, folders and videos; report what cannot be opened; show the first
        new frame."""
        report = self.frames_model.add_paths(paths)
        for problem in report.problems:
            self.problems.add(problem.path, problem.reason)
        for path in report.opened:
            self.settings.add_recent(path)
            self.settings.last_folder = path if path.is_dir() else path.parent
        skipped = f"; {len(report.problems)} skipped (see Problems)" if report.problems else ""
        self.statusBar().showMessage(f"Opened {report.added} frame(s){skipped}", MESSAGE_MS)
        self.editing.frames_opened()
        if report.first_row is not None:
            self.show_row(report.first_row)

    def _ask(self, dialog) -> None:
        paths = dialog(self, self.settings.last_folder)
        if paths:
            self.open_paths(paths)

    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    # ------------------------------------------------------------ frames

    def current_row(self) -> int | None:
        """The row last asked for (its image may still be loading)."""
        return None if self._wanted is None else self.frames.row_of(self._wanted)

    def step(self, delta: int) -> None:
        row = self.current_row()
        if row is not None:
            self.show_row(max(0, min(len(self.frames) - 1, row + delta)))

    def show_row(self, row: int) -> None:
        """Go to frame `row`: the list, timeline and title follow at once, the image when the
        loader has read it, the overlay from the cache or when the worker has segmented it."""
        if not 0 <= row < len(self.frames) or self.frames[row] == self._wanted:
            return
        ref = self._wanted = self.frames[row]
        with QSignalBlocker(self.frame_view):  # no second show_row from the list
            self.frame_view.select_row(row)
        span = self.frames.video_span(ref.path) if ref.is_video_frame else None
        if span is None:
            self.timeline.setVisible(False)
        else:
            self.timeline.show_video(span[1], ref.index)
        self.setWindowTitle(f"{ref.name}[*] - SegNet Studio")
        self.worker.drop_pending()  # the frame it waits for is no longer wanted
        self.loader.request(ref)

    def _on_frame_loaded(self, ref: FrameRef, image: np.ndarray, saved: MaskFile) -> None:
        if ref != self._wanted:
            return
        document = FrameDocument(ref, image, self.cache.get(ref),
                                 self.editing.labels_for(ref, image, saved))
        self.display.show(document)
        if document.prediction is None:
            self.worker.request(ref, image)

    def _on_frame_failed(self, ref: FrameRef, reason: str) -> None:
        self.problems.add(ref.path, reason)
        self.frames_model.set_status(ref, FrameStatus.UNREADABLE)
        if ref == self._wanted:
            self.display.show(None)

    def _on_timeline(self, index: int) -> None:
        key = self._wanted
        span = self.frames.video_span(key.path) if key is not None else None
        if span is not None:
            self.show_row(span[0] + min(index, span[1] - 1))

    # ------------------------------------------------------------ model

    def _ask_model(self) -> None:
        path = dialogs.ask_model(self, self.settings.last_folder)
        if path:
            self.load_model(path)

    def load_model(self, path: str | Path) -> None:
        self.worker.cancel_all()
        self.statusBar().showMessage(f"Loading model {Path(path).name}...")
        self.worker.load_model(path)

    def _on_model_loaded(self, info: dict) -> None:
        had_model = self.model_info is not None
        self.model_info = info
        self.status.set_model(info)
        message = f"Model {info['name']} loaded: {info['device']}, {info['precision']}"
        label_set = LabelSet.from_dict(info["labels"])
        if label_set != self.display.label_set:
            self.display.set_label_set(label_set)
            self.editing.set_label_set(label_set)
            names = ", ".join(label_set.names[:6]) + (", ..." if label_set.num_classes > 6 else "")
            message += (f". The classes now follow this model: {label_set.num_classes} "
                        f"({names})")
        self.statusBar().showMessage(message, 3 * MESSAGE_MS)
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
        self.cache.clear()
        for ref in self.frames.with_status(FrameStatus.SEGMENTED):
            self.frames_model.set_status(ref, FrameStatus.NOT_SEGMENTED)
        document = self.display.document
        if document is not None:
            document.prediction = None
            self.display.show(document)
            self.worker.request(document.key, document.image)

    def _on_model_failed(self, message: str) -> None:
        self.problems.add(None, f"model not loaded: {message}")
        self.statusBar().showMessage(f"Model not loaded: {message}", 3 * MESSAGE_MS)
        if self.model_info is None:
            self.status.set_no_model(message)

    def _on_result(self, key, labels: np.ndarray, confidence: np.ndarray, seconds: float) -> None:
        prediction = Prediction(labels, confidence)
        self.cache.put(key, prediction)
        if self.frames.row_of(key) is not None and \
                self.frames.status(key) == FrameStatus.NOT_SEGMENTED:
            self.frames_model.set_status(key, FrameStatus.SEGMENTED)
        self.status.set_inference_time(seconds)
        self.display.set_prediction(key, prediction)

    def _on_failed(self, key, message: str) -> None:
        path = key.path if isinstance(key, FrameRef) else None
        reason = message.removeprefix(f"{path}: ") if path is not None else message
        self.problems.add(path, reason)

    # ------------------------------------------------------------ segment all

    def segment_all(self) -> None:
        refs = self.frames.with_status(FrameStatus.NOT_SEGMENTED)
        if not refs:
            self.statusBar().showMessage("Every frame is segmented already", MESSAGE_MS)
            return
        self.status.start_progress(len(refs))
        self.actions.segment_all.setEnabled(False)
        self.actions.cancel_segment_all.setEnabled(True)
        self.worker.segment_all(refs)

    def cancel_segment_all(self) -> None:
        # a slot of the window, not the worker: a worker slot would be queued to the worker
        # thread and run only after the job it should stop
        self.worker.cancel_all()
        self.status.cancel.setEnabled(False)

    def _on_batch_finished(self, done: int, total: int, cancelled: bool) -> None:
        self.status.end_progress()
        self.actions.segment_all.setEnabled(True)
        self.actions.cancel_segment_all.setEnabled(False)
        what = "Cancelled after" if cancelled else "Segmented"
        self.statusBar().showMessage(f"{what} {done} of {total} frame(s)", MESSAGE_MS)
        self.batchFinished.emit(done, total, cancelled)

    # ------------------------------------------------------------ view

    def _set_opacity(self, value: int) -> None:
        self.canvas.set_overlay_opacity(value / 100.0)
        self.settings.opacity = value / 100.0

    def closeEvent(self, event) -> None:
        if not self._closed:
            if not self.editing.confirm_close():
                event.ignore()
                return
            self._closed = True
            self.editing.shutdown()
            self.settings.save_window(self.saveGeometry(), self.saveState())
            self.settings.sync()
            self.training.shutdown()
            self.playback.shutdown()
            self.exporter.shutdown()
            self.worker.shutdown()
            self.thumbnails.shutdown()
            self.loader.shutdown()
        super().closeEvent(event)


def run(argv: list[str]) -> int:
    """Start the window: `argv` holds paths to open and the options of `startup`."""
    options = parse_window_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    model, why = choose_model(options.model)
    window = MainWindow(model, device=options.device, precision=options.precision,
                        no_model_reason=why)
    window.show()
    if options.screenshot:
        _save_screenshot_when_drawn(window, Path(options.screenshot))
    window.open_paths(options.paths)
    code = app.exec()
    window.close()
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
