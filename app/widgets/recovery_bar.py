"""A bar above the canvas offering back autosaved edits from an earlier session. Never
modal: the user may go on working and answer later."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


class RecoveryBar(QFrame):
    """Emits `restoreClicked()` or `discardClicked()`, then hides."""

    restoreClicked = Signal()
    discardClicked = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("recovery_bar")
        self.setStyleSheet("#recovery_bar { background: #fff4c2; }"
                           "#recovery_bar QLabel { color: #333; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.restore_button = QPushButton("Restore")
        self.discard_button = QPushButton("Discard")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.restore_button)
        layout.addWidget(self.discard_button)
        self.restore_button.clicked.connect(lambda: self._answer(self.restoreClicked))
        self.discard_button.clicked.connect(lambda: self._answer(self.discardClicked))
        self.setVisible(False)

    def offer(self, names: Sequence[str]) -> None:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        self.label.setText(f"{len(names)} frame(s) have autosaved edits newer than their saved "
                           f"labels ({shown}). Restore them?")
        self.setVisible(True)

    def _answer(self, signal) -> None:
        self.setVisible(False)
        signal.emit()
