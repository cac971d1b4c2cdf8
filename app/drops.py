"""Files dropped anywhere in the window open, as a copy (never a move).

Qt hands a drag to the widget under the cursor and, while that widget does not take it, to
its parents up to the window. Most of the window's widgets take no drops, so their drags
reach the window; but a few take drags of their own and would refuse files: the canvas (a
QGraphicsView: its scene accepts the enter and ignores every move over an empty scene, so
the drop never comes) and text boxes (they would paste the path). `FileDrops` watches the
window and each of those widgets and takes a drag of local files before they see it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QWidget

_DRAGS = (QEvent.Type.DragEnter, QEvent.Type.DragMove)


def local_paths(event: QDropEvent) -> list[Path]:
    """The local files and folders a drag carries (remote URLs left out)."""
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class FileDrops(QObject):
    """Opens the files dropped on `window` or on any widget in it with `open_paths`
    (after the drop returns, so the program the drag came from is not kept waiting)."""

    def __init__(self, window: QWidget, open_paths: Callable[[list[Path]], None]) -> None:
        super().__init__(window)
        self._window = window
        self._open = open_paths
        self._watched: set[int] = set()
        window.setAcceptDrops(True)
        self.cover()

    def cover(self) -> int:
        """Watch the window and every widget in it that takes drops of its own (call again
        after adding such widgets); how many are watched."""
        for widget in [self._window, *self._window.findChildren(QWidget)]:
            if (widget is self._window or widget.acceptDrops()) and \
                    id(widget) not in self._watched:
                self._watched.add(id(widget))
                widget.installEventFilter(self)
                widget.destroyed.connect(lambda _obj=None, key=id(widget):
                                         self._watched.discard(key))
        return len(self._watched)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in _DRAGS and kind != QEvent.Type.Drop:
            return False
        paths = local_paths(event)
        if not paths:
            return False  # text, colours...: the widget's own business
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        if kind == QEvent.Type.Drop:
            QTimer.singleShot(0, lambda: self._open(paths))
        return True
