"""A dock listing files that could not be opened or read, and why. Never modal. A line about
a file read after all since (mended) stays, marked resolved. A line names its file; where two
files of one name in different folders have lines (two drives' frame_0001.png), each is named
with its folder too ("drive_a/frame_0001.png"), and its tooltip gives the whole path."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QDockWidget, QHBoxLayout, QListWidget, QListWidgetItem,
                               QPushButton, QWidget)


_PATH = Qt.ItemDataRole.UserRole  # the file a line says cannot be read
_RESOLVED = Qt.ItemDataRole.UserRole + 1  # resolved since (`ProblemsDock.resolve`)
_FILE = Qt.ItemDataRole.UserRole + 2  # the file any line is about
_SHOWN = Qt.ItemDataRole.UserRole + 3  # how the line names it: its first words


class _CompactList(QListWidget):
    def sizeHint(self) -> QSize:
        return QSize(400, 80)  # a few lines: the canvas keeps the room


class ProblemsDock(QDockWidget):
    """Shows itself when a problem is added; the user clears or closes it."""

    def __init__(self, parent=None) -> None:
        super().__init__("Problems", parent)
        self.setObjectName("problems")
        self.list = _CompactList()
        self.list.setWordWrap(True)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.list, 1)
        layout.addWidget(clear, 0, Qt.AlignmentFlag.AlignTop)
        self.setWidget(body)

    def add(self, path: Path | str | None, reason: str, unreadable: bool = False) -> None:
        """A line about `path` (None: about no file); `unreadable`: it says the file (or
        frames of it) cannot be read, which `resolve` can take back."""
        shown = None if path is None else self._name_for(Path(path))
        item = QListWidgetItem(reason if shown is None else f"{shown}: {reason}")
        item.setToolTip(reason if path is None else f"{path}\n{reason}")
        item.setData(_PATH, str(path) if unreadable and path is not None else None)
        item.setData(_FILE, None if path is None else str(path))
        item.setData(_SHOWN, shown)
        self.list.addItem(item)
        self.list.scrollToBottom()
        self.show()
        self.raise_()

    def resolve(self, path: Path | str, note: str) -> int:
        """The lines saying `path` cannot be read (`add(..., unreadable=True)`), not resolved
        yet, end with `(note)` and turn grey: a log keeps them, but they no longer read as a
        problem now. Other lines about the file stay as they are. How many lines changed."""
        changed = 0
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(_PATH) == str(path) and not item.data(_RESOLVED):
                item.setText(f"{item.text()} ({note})")
                item.setData(_RESOLVED, True)
                item.setForeground(self.palette().brush(QPalette.ColorGroup.Disabled,
                                                        QPalette.ColorRole.Text))
                changed += 1
        return changed

    def _name_for(self, path: Path) -> str:
        """How a line names `path`: its file name, or with its folder where lines name
        another file of that name (those lines are named so too, from now on)."""
        items = [self.list.item(row) for row in range(self.list.count())]
        same_name = [item for item in items
                     if item.data(_FILE) is not None and Path(item.data(_FILE)).name == path.name]
        if all(Path(item.data(_FILE)) == path for item in same_name):
            return path.name
        for item in same_name:
            old, other = item.data(_SHOWN), Path(item.data(_FILE))
            new = f"{other.parent.name}/{other.name}"
            if old != new:
                item.setText(new + item.text()[len(old):])
                item.setData(_SHOWN, new)
        return f"{path.parent.name}/{path.name}"

    def entries(self) -> list[str]:
        return [self.list.item(row).text() for row in range(self.list.count())]

    def clear(self) -> None:
        self.list.clear()
