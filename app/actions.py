"""The window's own actions (open, model, view, go, segment) in their menus, and the view
toolbar. Only builds; the window's controllers connect the actions to what they do."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QSlider, QToolBar

from app.context import WindowHost
from app.menus import MenuBar, Place
from app.widgets.icons import decorate, icon
from app.widgets.own_keys import SLIDER_KEYS, takes_keys


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
    first_frame: QAction
    last_frame: QAction
    segment_all: QAction
    cancel_segment_all: QAction
    show_problems: QAction
    opacity: QSlider


def build_actions(host: WindowHost, menus: MenuBar) -> WindowActions:
    """Create the actions, put them in their menus and add a toolbar with the opacity
    slider."""
    action, parent = host.action, host.widget
    a = WindowActions(
        open_images=action("&Open image(s)...", QKeySequence.StandardKey.Open),
        open_folder=action("Open &folder...", "Ctrl+Shift+O"),
        open_video=action("Open &video..."),
        load_model=action("&Load model...", tip="Load a SegNet Studio checkpoint"),
        quit=action("&Quit", "Ctrl+Q"),
        recent_menu=QMenu("&Recent files", parent),
        fit=action("&Fit", "Ctrl+0"),
        zoom_in=action("Zoom &in", QKeySequence.StandardKey.ZoomIn, "Ctrl+="),
        zoom_out=action("Zoom &out", QKeySequence.StandardKey.ZoomOut),
        overlay=action("&Overlay", "O", checkable=True,
                       tip="Show the predicted classes over the image"),
        confidence=action("&Confidence view", "C", checkable=True,
                          tip="Show how unsure the model is: bright = unsure"),
        next_frame=action("&Next frame", "D", "Right"),
        previous_frame=action("&Previous frame", "A", "Left"),
        first_frame=action("Fi&rst frame", "Home", tip="The first frame of the list as shown"),
        last_frame=action("&Last frame", "End", tip="The last frame of the list as shown"),
        segment_all=action("Segment &all", "Ctrl+Shift+A",
                           tip="Segment every frame not segmented yet, then estimate how right "
                               "each is (Next suggested frame needs the estimates)"),
        cancel_segment_all=action("&Cancel segment all", "Esc",
                                  tip="Stop Segment all; the frames done keep their results "
                                      "(Esc drops a polygon or stroke being drawn first)"),
        show_problems=action("&Problems"),
        opacity=QSlider(Qt.Orientation.Horizontal),
    )
    a.overlay.setChecked(True)
    a.cancel_segment_all.setEnabled(False)
    menus.add(Place.FILE_OPEN, a.open_images, a.open_folder, a.open_video, a.recent_menu)
    menus.add(Place.FILE_MODEL, a.load_model)
    menus.add(Place.FILE_QUIT, a.quit)
    menus.add(Place.VIEW_ZOOM, a.fit, a.zoom_in, a.zoom_out)
    menus.add(Place.VIEW_OVERLAY, a.overlay, a.confidence)
    menus.add(Place.VIEW_PANELS, a.show_problems)
    menus.add(Place.GO_STEP, a.next_frame, a.previous_frame, a.first_frame, a.last_frame)
    menus.add(Place.SEGMENT_ALL, a.segment_all, a.cancel_segment_all)

    a.opacity.setRange(0, 100)
    a.opacity.setMaximumWidth(110)
    a.opacity.setToolTip("Overlay opacity")
    takes_keys(a.opacity, *SLIDER_KEYS)  # focused, its keys move it, not the frame
    for item, name in ((a.open_folder, "open"), (a.segment_all, "segment-all"),
                       (a.overlay, "overlay"), (a.confidence, "confidence"), (a.fit, "fit")):
        decorate(item, name)
    opacity_icon = QLabel()
    opacity_icon.setPixmap(icon("opacity").pixmap(20, 20))
    opacity_icon.setToolTip("Overlay opacity")
    toolbar = QToolBar("View", parent)
    toolbar.setObjectName("view_toolbar")
    toolbar.addAction(a.open_folder)
    toolbar.addAction(a.segment_all)
    toolbar.addSeparator()
    toolbar.addAction(a.overlay)
    toolbar.addAction(a.confidence)
    toolbar.addWidget(opacity_icon)
    toolbar.addWidget(a.opacity)
    toolbar.addAction(a.fit)
    host.add_toolbar(toolbar)
    return a
