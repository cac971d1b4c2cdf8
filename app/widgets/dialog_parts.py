"""Pieces the window's dialogs share: a row of a field and its buttons, a red line for what
is wrong, and OK / Cancel with OK renamed."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QWidget


def field_row(field: QWidget, *buttons: QWidget) -> QWidget:
    """`field` stretched, its buttons after it, on one row."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(field, 1)
    for button in buttons:
        layout.addWidget(button)
    return row


def error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet("color: #b00020")
    label.setWordWrap(True)
    return label


def ok_cancel(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    """OK (named `ok_text`) accepts `dialog`, Cancel rejects it."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                               QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons
