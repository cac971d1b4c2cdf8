"""The window's actions, menus and toolbar, with the shortcuts the README lists.

Only builds; the window connects the actions to what they do.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QSlider, QToolBar


@dataclass
class WindowActions:
    open_images: QAction
    open_folder: QAction
    open_video: QAction
    load_model: QAction
    quit: QAction
    recent_menu: QMenu
    fit: QAction
    zoom_in: QAction
    zoom_out: QAction
    overlay: QAction
    confidence: QAction
    next_frame: QAction
    previous_frame: QAction
    segment_all: QAction
    cancel_segment_all: QAction
    show_problems: QAction
    opacity: QSlider


def _action(window: QMainWindow, text: str, *shortcuts, checkable: bool = False,
            tip: str = "") -> QAction:
    action = QAction(text, window)
    keys = [QKeySequence(s) for s in shortcuts]
    if keys:
        action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setCheckable(checkable)
    if tip:
        action.setStatusTip(tip)
    window.addAction(action)  # shortcuts work even while the menu bar is hidden
    return action


def build_actions(window: QMainWindow) -> WindowActions:
    """Create the actions, fill the menu bar and add a toolbar with the opacity slider."""
    a = WindowActions(
        open_images=_action(window, "&Open image(s)...", QKeySequence.StandardKey.Open),
        open_folder=_action(window, "Open &folder...", "Ctrl+Shift+O"),
        open_video=_action(window, "Open &video..."),
        load_model=_action(window, "&Load model...", tip="Load a SegNet Studio checkpoint"),
        quit=_action(window, "&Quit", "Ctrl+Q"),
        recent_menu=QMenu("&Recent files", window),
        fit=_action(window, "&Fit", "Ctrl+0"),
        zoom_in=_action(window, "Zoom &in", QKeySequence.StandardKey.ZoomIn, "Ctrl+="),
        zoom_out=_action(window, "Zoom &out", QKeySequence.StandardKey.ZoomOut),
        overlay=_action(window, "&Overlay", "O", checkable=True,
                        tip="Show the predicted classes over the image"),
        confidence=_action(window, "&Confidence view", "C", checkable=True,
                           tip="Show how unsure the model is: bright = unsure"),
        next_frame=_action(window, "&Next frame", "D", "Right"),
        previous_frame=_action(window, "&Previous frame", "A", "Left"),
        segment_all=_action(window, "Segment &all",
                            tip="Segment every frame not segmented yet"),
        cancel_segment_all=_action(window, "&Cancel segment all"),
        show_problems=_action(window, "&Problems"),
        opacity=QSlider(Qt.Orientation.Horizontal),
    )
    a.overlay.setChecked(True)
    a.cancel_segment_all.setEnabled(False)

    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for item in (a.open_images, a.open_folder, a.open_video, a.recent_menu, None,
                 a.load_model, None, a.quit):
        _add(file_menu, item)
    view_menu = bar.addMenu("&View")
    for item in (a.fit, a.zoom_in, a.zoom_out, None, a.overlay, a.confidence, None,
                 a.show_problems):
        _add(view_menu, item)
    frame_menu = bar.addMenu("&Go")
    for item in (a.next_frame, a.previous_frame):
        _add(frame_menu, item)
    segment_menu = bar.addMenu("&Segment")
    for item in (a.segment_all, a.cancel_segment_all):
        _add(segment_menu, item)

    a.opacity.setRange(0, 100)
    a.opacity.setMaximumWidth(140)
    a.opacity.setToolTip("Overlay opacity")
    toolbar = QToolBar("View", window)
    toolbar.setObjectName("view_toolbar")
    toolbar.addAction(a.open_folder)
    toolbar.addAction(a.segment_all)
    toolbar.addSeparator()
    toolbar.addAction(a.overlay)
    toolbar.addAction(a.confidence)
    toolbar.addWidget(QLabel(" Opacity "))
    toolbar.addWidget(a.opacity)
    toolbar.addAction(a.fit)
    window.addToolBar(toolbar)
    return a


def _add(menu: QMenu, item) -> None:
    if item is None:
        menu.addSeparator()
    elif isinstance(item, QMenu):
        menu.addMenu(item)
    else:
        menu.addAction(item)
