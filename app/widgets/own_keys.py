"""Keys a focused widget keeps from the window's shortcuts.

Space is the window's Play / pause shortcut, even where the focus is on a button, a check
box or a table of them (the class panel's Show boxes): a Space meant for Play must not flip a
setting or hide a class. A widget that needs Space to be usable from the keyboard (the
fine-tune panel's list of frames to tick for holding out) opts in with
`takes_space(widget)`: while it has the focus, Space goes to it, not to the shortcut.
Likewise the arrows, Home and End (Go > Next, Previous, First and Last frame) go to a
focused slider, as they would anywhere else (`takes_keys`, `SLIDER_KEYS`): the overlay's
opacity, or the video's frames along its timeline, not the rows of the frame list (a review).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget


#: the keys a slider moves by, which the Go menu's shortcuts also use
SLIDER_KEYS = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End)


class _KeysAreMine(QObject):
    """On the widget that opted in: those keys, pressed bare there, are not shortcuts."""

    def __init__(self, keys: tuple[Qt.Key, ...], parent: QObject) -> None:
        super().__init__(parent)
        self.keys = keys

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and \
                event.key() in self.keys and \
                event.modifiers() == Qt.KeyboardModifier.NoModifier:
            event.accept()
            return True
        return False


def takes_keys(widget: QWidget, *keys: Qt.Key) -> None:
    """Let `widget`, focused, take `keys` (pressed without modifiers) itself instead of
    the window's shortcuts."""
    widget.installEventFilter(_KeysAreMine(keys, widget))


def takes_space(widget: QWidget) -> None:
    """Let `widget`, focused, take Space itself instead of Play / pause."""
    takes_keys(widget, Qt.Key.Key_Space)
