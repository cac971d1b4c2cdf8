"""Space is the window's Play / pause shortcut, even where the focus is on a button, a check
box or a table of them (the class panel's Show boxes): a Space meant for Play must not flip a
setting or hide a class. A widget that needs Space to be usable from the keyboard (the
fine-tune panel's list of frames to tick for holding out) opts in with
`takes_space(widget)`: while it has the focus, Space goes to it, not to the shortcut."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget


class _SpaceIsMine(QObject):
    """On the widget that opted in: a bare Space pressed there is not the shortcut's."""

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and \
                event.key() == Qt.Key.Key_Space and \
                event.modifiers() == Qt.KeyboardModifier.NoModifier:
            event.accept()
            return True
        return False


def takes_space(widget: QWidget) -> None:
    """Let `widget`, focused, take Space itself instead of Play / pause."""
    widget.installEventFilter(_SpaceIsMine(widget))
