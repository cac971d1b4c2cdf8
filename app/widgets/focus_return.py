"""The window gets its activation, and its focused widget the focus, back after a modal
dialog (a question, a file dialog) closes. A window manager does that; without one (Xvfb, a
bare X session, some kiosk setups) no window is active afterwards and no shortcut works
until the user clicks the window. Nothing is done where a window is active already, so a
desktop's window manager gets no extra request."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication, QDialog, QWidget


class FocusReturn(QObject):
    """Follows every modal dialog with a parent that takes the focus: `install` once."""

    @classmethod
    def install(cls, app: QApplication) -> None:
        if app.findChild(cls) is None:
            cls(app)

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        app.focusWindowChanged.connect(self._on_focus_window)

    def _on_focus_window(self, focused: QWindow | None) -> None:
        if focused is None:
            return
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog) and dialog.windowHandle() is focused and \
                dialog.parentWidget() is not None:
            dialog.installEventFilter(self)  # once: installing again changes nothing
            return
        # a dialog answered before its activation came through (a key typed ahead, a busy
        # machine: the focus then went to a window already hidden, and stayed there)
        closed = next((widget for widget in QApplication.topLevelWidgets()
                       if isinstance(widget, QDialog) and widget.windowHandle() is focused
                       and not widget.isVisible() and widget.parentWidget() is not None),
                      None)
        if closed is not None:
            owner = closed.parentWidget().window()
            QTimer.singleShot(0, lambda: _back(owner))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Hide and isinstance(watched, QDialog) and \
                watched.parentWidget() is not None:
            owner = watched.parentWidget().window()
            QTimer.singleShot(0, lambda: _back(owner))  # once exec() has returned
        return False


def _back(owner: QWidget) -> None:
    active = QApplication.activeWindow()  # a dialog hidden still counts as active
    if shiboken6.isValid(owner) and owner.isVisible() and \
            (active is None or not active.isVisible()) and \
            QApplication.activeModalWidget() is None:
        owner.activateWindow()  # its focus widget gets the focus back with it
