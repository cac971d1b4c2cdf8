"""The training panel's result views: the before / after figures of a run (with the number
of held-out frames they rest on and the drift on the uncorrected frames), the per-class table
and the class balance of the training frames. Only widgets; the panel puts them in tabs."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHeaderView, QLabel,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from segnet_core.balance import Balance
from segnet_core.finetune import ClassBalanceRow
from segnet_core.finetune.report import CLASS_FIGURES, SUMMARY_FIGURES, class_rows, summary_rows
from segnet_core.labels import LabelSet

from app.training.charts import BalanceChart


def _item(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _table(columns: Sequence[str], fit: bool) -> QTableWidget:
    """A read-only table; `fit`: as tall as its rows, else it scrolls on its own."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    if fit:
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        _fit_height(table)
    return table


def _fit_height(table: QTableWidget) -> None:
    rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
    table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows + 4)


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.setItem(r, c, _item(value, c > 0))


def drift_text(drift: float | None, frames: int = 0, uncorrected: int = 0) -> str:
    """The drift figure as the panel says it: measured on `frames` frames spread over the
    `uncorrected` ones (0: not known)."""
    if drift is None:
        return "Drift: not measured (no uncorrected frames, or the classes changed)"
    on = (f" of {frames} frames spread over the {uncorrected} uncorrected ones"
          if uncorrected > frames > 0 else
          f" of {frames} uncorrected frame(s)" if frames else " of the uncorrected frames")
    return f"Drift: {100.0 * drift:.1f} % of the pixels{on} change class with the new model"


class ResultPanel(QWidget):
    """Before / after on the held-out frames (the header says how many), the drift."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result_label = QLabel("No run yet: the figures of the last run show here.")
        self.result_label.setWordWrap(True)
        self.summary_table = _table(["Held-out frames", "Before", "After"], fit=True)
        self.drift_label = QLabel("")
        self.drift_label.setWordWrap(True)
        self.drift_label.setToolTip("Share of the pixels of the frames nobody corrected whose "
                                    "class the new model changes: how much it would redo")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_table)
        layout.addWidget(self.drift_label)
        layout.addWidget(self.result_label)
        layout.addStretch(1)

    def clear(self) -> None:
        self.summary_table.setRowCount(0)
        _fit_height(self.summary_table)
        self.result_label.setText("")
        self.drift_label.setText("")

    def show_result(self, before: dict | None, after: dict | None, text: str, held: int,
                    drift: float | None, drift_frames: int, uncorrected: int = 0) -> None:
        self.result_label.setText(text)
        self.summary_table.setHorizontalHeaderLabels(
            [f"{held} held-out frame(s), %", "Before", "After"])
        _fill(self.summary_table, summary_rows(before, after))
        _fit_height(self.summary_table)
        self.drift_label.setText(drift_text(drift, drift_frames, uncorrected))

    def shown_miou(self) -> tuple[str, str]:
        """The mIoU row as displayed: (before, after) in percent text."""
        row = [key for _, key in SUMMARY_FIGURES].index("miou")
        return (self.summary_table.item(row, 1).text(), self.summary_table.item(row, 2).text())


class ClassScoresPanel(QWidget):
    """Per class, each of `CLASS_FIGURES` before and after (scrolls on its own)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.class_table = _table(["Class"] + [f"{label}\n{when}" for label, _ in CLASS_FIGURES
                                               for when in ("before", "after")], fit=False)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Held-out frames, %"))
        layout.addWidget(self.class_table, 1)

    def show_result(self, before: dict | None, after: dict | None) -> None:
        _fill(self.class_table, class_rows(before, after))


class BalancePanel(QWidget):
    """The class balance of the training frames under the chosen weighting: table and bars."""

    def __init__(self, default: Balance, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[str, list[ClassBalanceRow]] = {}
        self._colors: list[tuple[int, int, int]] = []
        self.balance_mode = QComboBox()
        for mode in Balance:
            self.balance_mode.addItem(mode.description, mode.value)
        self.balance_mode.setCurrentIndex(self.balance_mode.findData(default.value))
        self.balance_table = _table(["Class", "Pixels", "Freq.", "Weight", "Share", "Frames"],
                                    fit=False)
        # each column as wide as its widest figure, the table scrolling sideways in a narrow
        # dock (sharing its width cut the pixel counts to "110,...")
        self.balance_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.balance_chart = BalanceChart()
        self.balance_chart.setFixedHeight(100)  # the table gets the rest of the tab
        layout = QVBoxLayout(self)
        layout.addWidget(self.balance_mode)
        layout.addWidget(self.balance_table, 1)
        layout.addWidget(self.balance_chart)
        self.balance_mode.currentIndexChanged.connect(lambda _i: self._show())

    def set_rows(self, rows: dict[str, list[ClassBalanceRow]], label_set: LabelSet) -> None:
        self._rows = dict(rows)
        self._colors = [tuple(c) for c in label_set.colors]
        self._show()

    def _show(self) -> None:
        rows = self._rows.get(self.balance_mode.currentData(), [])
        _fill(self.balance_table, [(row.name, f"{row.pixels:,}", f"{row.frequency:.4f}",
                                    f"{row.weight:.3f}", f"{100 * row.share:.1f} %",
                                    str(row.images)) for row in rows])
        self.balance_chart.set_rows(rows, self._colors)
