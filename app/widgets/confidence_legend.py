"""The confidence view's legend: a colour bar from 0 (the model is sure) to 1 (it cannot
tell the classes apart), drawn with the very colours of the heat map, in the corner of the
canvas."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QWidget

from app.canvas.overlay import confidence_rgba
from app.canvas.qimage import array_to_qimage

BAR_WIDTH, BAR_HEIGHT, MARGIN = 180, 12, 10


def legend_colors(num_classes: int, width: int = BAR_WIDTH) -> np.ndarray:
    """The heat map's colours from uncertainty 0 (left) to 1 (right): 1 x width x 4."""
    uncertainty = np.linspace(0.0, 1.0, width, dtype=np.float32)
    floor = 1.0 / max(1, num_classes)
    confidence = 1.0 - uncertainty * (1.0 - floor)  # the inverse of overlay.uncertainty
    return confidence_rgba(confidence[None, :], num_classes)


class ConfidenceLegend(QWidget):
    """Sits in the bottom right corner of its parent (the canvas) and follows its size."""

    def __init__(self, parent: QWidget, num_classes: int) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._bar = QPixmap()
        self.set_num_classes(num_classes)
        self.setFixedSize(BAR_WIDTH + 2 * MARGIN, BAR_HEIGHT + 40)
        parent.installEventFilter(self)
        self.hide()

    def set_num_classes(self, num_classes: int) -> None:
        floor = 1.0 / max(1, num_classes)
        self._bar = QPixmap.fromImage(array_to_qimage(legend_colors(num_classes)))
        self.setToolTip(f"Uncertainty: 0 where the model gives a class probability 1, 1 where "
                        f"it gives every class the same ({floor:.2f} for {num_classes} "
                        "classes)")
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def showEvent(self, event) -> None:
        self._place()
        self.raise_()
        super().showEvent(event)

    def _place(self) -> None:
        parent = self.parentWidget()
        self.move(parent.width() - self.width() - 20, parent.height() - self.height() - 20)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 170))
        painter.setPen(QColor(235, 235, 235))
        text_height = painter.fontMetrics().height()
        painter.drawText(QRect(MARGIN, 2, BAR_WIDTH, text_height),
                         Qt.AlignmentFlag.AlignHCenter, "uncertainty")
        bar = QRect(MARGIN, 4 + text_height, BAR_WIDTH, BAR_HEIGHT)
        painter.drawPixmap(bar, self._bar)
        below = QRect(MARGIN - 4, bar.bottom() + 2, BAR_WIDTH + 8, text_height)
        painter.drawText(below, Qt.AlignmentFlag.AlignLeft, "0 sure")
        painter.drawText(below, Qt.AlignmentFlag.AlignHCenter, "0.5")
        painter.drawText(below, Qt.AlignmentFlag.AlignRight, "1 unsure")
        painter.end()
