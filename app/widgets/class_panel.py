"""The class panel: one row per class with its colour, name, share of the frame's pixels,
a visibility checkbox and a "solo" checkbox that shows that class's mask alone (the Show
boxes grey meanwhile). The class
that edits paint is shown in bold; clicking a class's name makes it that class. Above the
table, a search box (Ctrl+K) shows only the classes whose name holds what is typed (or
whose number it is); Enter paints with the first of them."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QDockWidget, QHeaderView, QLineEdit,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from segnet_core.labels import LabelSet

NAME, SHARE, VISIBLE, SOLO = range(4)
_CHECKABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
_CHECKED, _UNCHECKED = Qt.CheckState.Checked, Qt.CheckState.Unchecked


def _swatch(color: Sequence[int], size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*color))
    return QIcon(pixmap)


class _SearchBox(QLineEdit):
    """Emits `escaped()` for Esc (which ends the search, not Segment all: the window's Esc)."""

    escaped = Signal()

    def event(self, event) -> bool:
        if event.type() == event.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)


class ClassPanel(QTableWidget):
    """Emits `visibilityChanged(list[bool])`, `soloChanged(int)` (-1: no solo) and
    `classChosen(int)` when a class's name is clicked or found; `searchDone()` when a
    search ends (Enter or Esc)."""

    visibilityChanged = Signal(list)
    soloChanged = Signal(int)
    classChosen = Signal(int)
    searchDone = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(["Class", "Pixels", "Show", "Solo"])
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for column in (SHARE, VISIBLE, SOLO):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self._updating = False
        self._solo = -1
        self.itemChanged.connect(self._on_item_changed)
        self.search = _SearchBox()
        self.search.setPlaceholderText("Find class (Ctrl+K)")
        self.search.setClearButtonEnabled(True)
        self.search.setAcceptDrops(False)  # files dropped here open, as anywhere
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._choose_found)
        self.search.escaped.connect(self._end_search)
        self.cellClicked.connect(
            lambda row, column: self.classChosen.emit(row) if column == NAME else None)

    def set_label_set(self, label_set: LabelSet) -> None:
        """One row per class, all visible, no solo."""
        self._updating = True
        try:
            self.setRowCount(label_set.num_classes)
            for row, (name, color) in enumerate(zip(label_set.names, label_set.colors)):
                name_item = QTableWidgetItem(_swatch(color), name)
                name_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                name_item.setToolTip(f"class {row}: {name}, colour {tuple(color)}")
                share = QTableWidgetItem("")
                share.setFlags(Qt.ItemFlag.ItemIsEnabled)
                share.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                visible = QTableWidgetItem()
                visible.setFlags(_CHECKABLE)
                visible.setCheckState(_CHECKED)
                solo = QTableWidgetItem()
                solo.setFlags(_CHECKABLE)
                solo.setCheckState(_UNCHECKED)
                for column, item in ((NAME, name_item), (SHARE, share), (VISIBLE, visible),
                                     (SOLO, solo)):
                    self.setItem(row, column, item)
            self._solo = -1
        finally:
            self._updating = False
        self.filter(self.search.text())

    def with_search(self) -> QWidget:
        """The panel under its search box, for a dock."""
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.search)
        layout.addWidget(self, 1)
        return body

    def start_search(self) -> None:
        """Show the panel (its dock too) and put the cursor in the search box."""
        widget = self.search.parentWidget()
        while widget is not None and not isinstance(widget, QDockWidget):
            widget = widget.parentWidget()
        if widget is not None:
            widget.show()
            widget.raise_()
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def filter(self, text: str) -> list[int]:
        """Show only the classes whose name holds `text` (any case) or whose number (from
        1) it is; the rows shown."""
        wanted = text.strip().lower()
        shown = []
        for row in range(self.rowCount()):
            name = self.item(row, NAME).text().lower()
            match = not wanted or wanted in name or wanted == str(row + 1)
            self.setRowHidden(row, not match)
            if match:
                shown.append(row)
        return shown

    def _choose_found(self) -> None:
        shown = self.filter(self.search.text())
        if shown and self.search.text().strip():
            self.classChosen.emit(shown[0])
        self._end_search()

    def _end_search(self) -> None:
        self.search.clear()
        self.searchDone.emit()

    def set_shares(self, shares: Sequence[float] | None) -> None:
        """Pixel shares (fractions) of the current frame, or None when it has no prediction."""
        self._updating = True
        try:
            for row in range(self.rowCount()):
                text = "" if shares is None or row >= len(shares) else f"{100 * shares[row]:.1f} %"
                self.item(row, SHARE).setText(text)
        finally:
            self._updating = False

    def set_current_class(self, row: int) -> None:
        """Show class `row` as the one edits paint."""
        self._updating = True
        try:
            for other in range(self.rowCount()):
                font = QFont(self.font())
                font.setBold(other == row)
                self.item(other, NAME).setFont(font)
        finally:
            self._updating = False

    def current_class(self) -> int:
        return next((row for row in range(self.rowCount())
                     if self.item(row, NAME).font().bold()), -1)

    def visible(self) -> list[bool]:
        return [self.item(row, VISIBLE).checkState() == _CHECKED for row in range(self.rowCount())]

    def solo(self) -> int:
        return self._solo

    def set_visible(self, row: int, visible: bool) -> None:
        self.item(row, VISIBLE).setCheckState(_CHECKED if visible else _UNCHECKED)

    def set_solo(self, row: int) -> None:
        """Show class `row` alone; -1 shows the visible classes again."""
        if row >= 0:
            self.item(row, SOLO).setCheckState(_CHECKED)  # the handler clears the others
        elif self._solo >= 0:
            self.item(self._solo, SOLO).setCheckState(_UNCHECKED)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        if item.column() == VISIBLE:
            self.visibilityChanged.emit(self.visible())
        elif item.column() == SOLO:
            if item.checkState() == _CHECKED:
                self._solo = item.row()
                self._updating = True
                try:  # solo is exclusive: clear the others without signalling each
                    for other in range(self.rowCount()):
                        if other != item.row():
                            self.item(other, SOLO).setCheckState(_UNCHECKED)
                finally:
                    self._updating = False
                self._show_boxes_follow_solo()
                self.soloChanged.emit(self._solo)
            elif item.row() == self._solo:
                self._solo = -1
                self._show_boxes_follow_solo()
                self.soloChanged.emit(-1)

    def _show_boxes_follow_solo(self) -> None:
        """Grey every Show box while a class is soloed: the overlay shows that class alone
        whatever they say (a user took the ticked boxes for classes shown); each keeps its
        state for when Solo ends."""
        soloed = self._solo >= 0
        self._updating = True
        try:
            for row in range(self.rowCount()):
                box = self.item(row, VISIBLE)
                box.setFlags(Qt.ItemFlag.ItemIsUserCheckable if soloed else _CHECKABLE)
                box.setToolTip(f"Solo shows {self.item(self._solo, NAME).text()} only: "
                               "untick its Solo box to use the Show boxes" if soloed else "")
        finally:
            self._updating = False
