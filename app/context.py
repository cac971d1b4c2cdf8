"""What a feature of the window may read and call: a `FeatureContext`, never the window.

The window builds the shared parts once (the frames, the display, the prediction cache, the
inference worker, the label store, the menus) and hands each feature (editing, playback,
export, ...) the same context. `WindowHost` is the little a feature may do to the main
window itself: add actions, toolbars, docks and status-bar fields, and show messages.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar, QWidget

from segnet_core.masks.live_sessions import LiveSessions

from app.editing.store import LabelStore
from app.frame_display import FrameDisplay
from app.frames import FrameList
from app.menus import MenuBar
from app.prediction_cache import PredictionCache
from app.settings import Settings
from app.widgets.frame_list import FrameListModel
from app.widgets.problems import ProblemsDock
from app.workers.inference import InferenceWorker


class MessageTime(enum.IntEnum):
    """How long a status-bar message stays (ms): the one source for every feature."""

    UNTIL_REPLACED = 0
    #: news of a quick step the user sees happen (an undo): it hides the pixel read-out
    #: meanwhile (a user's check: repeated undos never let it show)
    SHORT = 3000
    NORMAL = 8000
    LONG = 15000  # a result worth reading: a model loaded or not, an export's summary


class WindowHost:
    """The main window as features may use it."""

    def __init__(self, window: QMainWindow) -> None:
        self._window = window
        self._title = "SegNet Studio"
        self._unsaved = 0

    @property
    def widget(self) -> QWidget:
        """The parent of the features' actions and dialogs."""
        return self._window

    def action(self, text: str, *keys: str | QKeySequence.StandardKey | Qt.Key,
               checkable: bool = False, tip: str = "") -> QAction:
        """A window-wide action: its shortcuts work wherever the focus is in the window, even
        while the menu bar is hidden. A `tip` is the status tip and, with the keys, the
        tooltip."""
        action = QAction(text, self._window)
        sequences = [QKeySequence(k) for k in keys]
        if sequences:
            action.setShortcuts(sequences)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        if tip:
            action.setStatusTip(tip)
            shown = ", ".join(s.toString() for s in sequences)
            action.setToolTip(f"{text.replace('&', '')} ({shown})" if shown else tip)
        self._window.addAction(action)
        return action

    def add_toolbar(self, toolbar: QToolBar) -> None:
        self._window.addToolBar(toolbar)

    def add_dock(self, dock: QDockWidget, area: Qt.DockWidgetArea) -> None:
        self._window.addDockWidget(area, dock)

    def add_status_widget(self, widget: QWidget) -> None:
        """A permanent field at the right of the status bar."""
        self._window.statusBar().addPermanentWidget(widget)

    def show_message(self, text: str, time: MessageTime = MessageTime.NORMAL) -> None:
        self._window.statusBar().showMessage(text, int(time))

    def current_message(self) -> str:
        """The status bar's message now ("" for none)."""
        return self._window.statusBar().currentMessage()

    def withdraw_message(self, text: str) -> None:
        """Clear the status bar if it still shows `text` (news that no longer holds)."""
        if self._window.statusBar().currentMessage() == text:
            self._window.statusBar().clearMessage()

    def set_modified(self, unsaved: int) -> None:
        """How many frames hold unsaved changes: said at the end of the title, with the `*`
        of a modified window (the session's, not the frame shown's)."""
        self._unsaved = int(unsaved)
        self._show_title()
        self._window.setWindowModified(self._unsaved > 0)

    def set_title(self, title: str) -> None:
        """The title's own part, e.g. the frame shown (the unsaved count follows it)."""
        self._title = title
        self._show_title()

    def _show_title(self) -> None:
        unsaved = f" ({self._unsaved} frame(s) unsaved)" if self._unsaved else ""
        self._window.setWindowTitle(f"{self._title}{unsaved}[*]")


#: what an action on frames says with none open
NOTHING_OPEN = ("Nothing is open yet: Ctrl+O opens images, Ctrl+Shift+O a folder (File menu: "
                "a video too), or drop them here")  # short: the status bar cuts long ones


@dataclass(frozen=True)
class FeatureContext:
    """The window's shared parts a feature may use."""

    host: WindowHost
    menus: MenuBar
    settings: Settings
    problems: ProblemsDock
    frames_model: FrameListModel  # the open frames and their statuses, as the list shows them
    display: FrameDisplay  # the frame shown, its overlay and label set
    cache: PredictionCache  # the model's results by frame
    inference: InferenceWorker
    labels: LabelStore  # every frame's label mask and its saving
    #: the labels folders this window works in, marked so; and the other windows' marks
    live: LiveSessions

    @property
    def frames(self) -> FrameList:
        return self.frames_model.frames

    def said_nothing_open(self) -> bool:
        """With no frame open, say how to open one and return True (a key pressed in the
        empty window: a user's check got "Every frame is segmented already")."""
        if len(self.frames):
            return False
        self.host.show_message(NOTHING_OPEN)
        return True

    @property
    def open_folder(self) -> Path | None:
        """The folder of the frame shown (a video's folder for its frames), else of the first
        frame open; None with nothing open: where import and export work."""
        key = self.display.current_key
        frames = self.frames
        ref = key if key is not None else (frames[0] if len(frames) else None)
        return None if ref is None else ref.path.parent
