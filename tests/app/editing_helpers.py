"""Driving the canvas as a user does: mouse events at image pixels, keys on the window."""

from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog

from tests.app.conftest import settle

RESULT_TIMEOUT = 60000


def at(window, x: int, y: int) -> QPoint:
    """The viewport position over the centre of image pixel (x, y)."""
    return window.canvas.mapFromScene(QPointF(x + 0.5, y + 0.5))


def drag(window, points: Sequence[tuple[int, int]]) -> None:
    """Press at the first pixel, move through the others, release at the last."""
    viewport = window.canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=at(window, *points[0]))
    for point in points[1:]:
        QTest.mouseMove(viewport, at(window, *point))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=at(window, *points[-1]))


def click(window, x: int, y: int) -> None:
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=at(window, x, y))


def when_modal(act: Callable, kind: type = QDialog, every_ms: int = 20) -> None:
    """Call `act(dialog)` once a modal dialog of `kind` is up: a real one, waiting in its
    exec(), so it is read and answered from inside its own event loop."""
    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, kind):
            QTimer.singleShot(every_ms, look)
            return
        try:
            act(dialog)
        except BaseException:  # a failed check fails the test, not hangs it in exec()
            dialog.reject()
            raise

    QTimer.singleShot(every_ms, look)


def key(window, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A key as the user presses it with the window active (so shortcuts fire)."""
    QTest.keyClick(window, key, modifiers)


def open_folder(qtbot, window, folder, model: bool = True) -> None:
    """Open `folder` and wait for its first frame (and its overlay when a model is loaded)."""
    if model:
        with qtbot.waitSignal(window.display.overlayDrawn, timeout=RESULT_TIMEOUT):
            window.open_paths([folder])
    else:
        window.open_paths([folder])
        qtbot.waitUntil(lambda: window.display.document is not None, timeout=10000)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def show_row(qtbot, window, row: int) -> None:
    window.show_row(row)
    qtbot.waitUntil(lambda: window.current_key == window.frames[row], timeout=10000)


def labels(window):
    return window.editing.editor.labels


def wait_saved(window) -> None:
    """Let the mask writer finish, then deliver its results."""
    settle(window.editing.store.writer.tasks)


def write_while_away(qtbot, window, path, text: str) -> None:
    """Another window becomes active, `path` gets `text` (the user edits it in another
    program), and the window is activated again (as coming back to it does)."""
    away_and_back(qtbot, window, lambda: path.write_text(text))


def away_and_back(qtbot, window, elsewhere) -> None:
    """Another window becomes active, `elsewhere()` runs (the user works in another
    program), and the window is activated again (as coming back to it does)."""
    from PySide6.QtWidgets import QWidget

    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(other.isActiveWindow, timeout=5000)
    elsewhere()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def crash(window) -> None:
    """The window's session "crashes" here: its process is gone as far as other sessions can
    tell (its marks in the labels folders: `segnet_core.masks.live_sessions`), while the
    window is left as it is, nothing saved."""
    window.context.live.close()
