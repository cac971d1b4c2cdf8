"""The timeline of a video: a slider over its frames and the frame number."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget


class Timeline(QWidget):
    """Emits `frameChosen(index)` when the user moves the slider. Hidden unless a video
    frame is shown."""

    frameChosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(10)
        self.label = QLabel()
        self.label.setMinimumWidth(110)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._on_value)
        self._quiet = False
        self.setVisible(False)

    def show_video(self, frame_count: int, index: int) -> None:
        """Show the timeline of a `frame_count`-frame video at frame `index`."""
        self._quiet = True
        try:
            self.slider.setRange(0, max(0, frame_count - 1))
            self.slider.setValue(index)
        finally:
            self._quiet = False
        self._set_label(index)
        self.setVisible(True)

    def _set_label(self, index: int) -> None:
        self.label.setText(f"frame {index + 1} / {self.slider.maximum() + 1}")

    def _on_value(self, value: int) -> None:
        self._set_label(value)
        if not self._quiet:
            self.frameChosen.emit(value)
