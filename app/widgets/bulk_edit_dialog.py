"""The small dialog of "Keep prediction where confident" and "Replace class": its values,
and whether to apply them to this frame or to a range of frames."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox,
                               QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QRadioButton,
                               QSpinBox, QWidget)

from segnet_core.labels import LabelSet

class BulkKind(enum.StrEnum):
    KEEP = "keep"
    REPLACE = "replace"


@dataclass(frozen=True)
class BulkRequest:
    """Rows first..last (0-based, inclusive); `threshold` to keep, classes a -> b to replace."""

    kind: BulkKind
    first: int
    last: int
    threshold: float = 0.9
    a: int = 0
    b: int = 0


class BulkEditDialog(QDialog):
    def __init__(self, kind: BulkKind, label_set: LabelSet, frame_count: int, current_row: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.current_row = current_row
        form = QFormLayout(self)
        if kind == BulkKind.KEEP:
            self.setWindowTitle("Keep prediction where confident")
            self.threshold = QDoubleSpinBox()
            self.threshold.setRange(0.0, 1.0)
            self.threshold.setSingleStep(0.05)
            self.threshold.setDecimals(2)
            self.threshold.setValue(0.9)
            form.addRow("Confidence above", self.threshold)
            form.addRow(QLabel("Elsewhere the labels stay as they are."))
        else:
            self.setWindowTitle("Replace class")
            names = [*label_set.names, f"void ({label_set.void_name})"]
            self.class_a, self.class_b = QComboBox(), QComboBox()
            for combo in (self.class_a, self.class_b):
                combo.addItems(names)
            self.class_b.setCurrentIndex(min(1, len(names) - 1))
            form.addRow("Replace", self.class_a)
            form.addRow("by", self.class_b)
        self._void_index = label_set.void_index
        self.this_frame = QRadioButton("This frame")
        self.range = QRadioButton("Frames")
        self.this_frame.setChecked(True)
        scope = QButtonGroup(self)
        scope.addButton(self.this_frame)
        scope.addButton(self.range)
        self.first, self.last = QSpinBox(), QSpinBox()
        for spin, value in ((self.first, current_row + 1), (self.last, frame_count)):
            spin.setRange(1, max(1, frame_count))
            spin.setValue(value)
            spin.valueChanged.connect(lambda _v: self.range.setChecked(True))
        row = QHBoxLayout()
        for widget in (self.range, self.first, QLabel("to"), self.last):
            row.addWidget(widget)
        form.addRow(self.this_frame)
        form.addRow(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def request(self) -> BulkRequest:
        if self.this_frame.isChecked():
            first = last = self.current_row
        else:
            first, last = sorted((self.first.value() - 1, self.last.value() - 1))
        if self.kind == BulkKind.KEEP:
            return BulkRequest(BulkKind.KEEP, first, last, threshold=self.threshold.value())
        return BulkRequest(BulkKind.REPLACE, first, last, a=self._class(self.class_a),
                           b=self._class(self.class_b))

    def _class(self, combo: QComboBox) -> int:
        index = combo.currentIndex()
        return self._void_index if index == combo.count() - 1 else index
