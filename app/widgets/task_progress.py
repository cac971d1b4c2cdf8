"""A progress bar with a Cancel button, for a status-bar field of a long task."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget


class TaskProgress(QWidget):
    """Hidden until `start`; emits `cancelClicked()` (the button then waits for `end`)."""

    cancelClicked = Signal()

    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(180)
        self.bar.setFormat(f"{what} %v / %m")
        self.cancel_button = QPushButton(f"Cancel {what}")
        self.cancel_button.clicked.connect(self._on_cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.setVisible(False)

    def start(self, total: int = 0) -> None:
        """Show the bar (busy until the total is known, when `total` is 0)."""
        self.bar.setRange(0, total)
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)
        self.setVisible(True)

    def set_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)

    def end(self) -> None:
        self.setVisible(False)

    def _on_cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancelClicked.emit()
