"""Two small QPainter charts for the training panel: a per-epoch curve and the class-balance
bars. Plain widgets, no plotting library."""

from __future__ import annotations

import math
from typing import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from segnet_core.finetune import ClassBalanceRow

_AXIS = QColor(120, 120, 120)
_TEXT = QColor(40, 40, 40)


class CurveChart(QWidget):
    """One value per epoch as a line with dots. `fixed_range` (low, high) pins the y axis
    (e.g. 0..1 for mIoU); otherwise it follows the values."""

    def __init__(self, title: str, color: QColor, fixed_range: tuple[float, float] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.color = QColor(color)
        self.fixed_range = fixed_range
        self.points: list[tuple[float, float]] = []
        self.x_extent = 1.0
        self.setMinimumSize(160, 110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(220, 130)

    def clear(self, x_extent: float = 1.0) -> None:
        self.points = []
        self.x_extent = max(1.0, float(x_extent))
        self.update()

    def add_point(self, x: float, y: float) -> None:
        if not math.isfinite(y):
            return
        self.points.append((float(x), float(y)))
        self.x_extent = max(self.x_extent, float(x))
        self.update()

    def _y_range(self) -> tuple[float, float]:
        if self.fixed_range is not None:
            return self.fixed_range
        values = [y for _, y in self.points] or [0.0, 1.0]
        low, high = min(0.0, min(values)), max(values)
        return (low, high if high > low else low + 1.0)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(252, 252, 252))
        metrics = painter.fontMetrics()
        line = metrics.height()
        last = f": {self.points[-1][1]:.3f}" if self.points else ""
        painter.setPen(_TEXT)
        painter.drawText(QPointF(6, line), self.title + last)
        plot = QRectF(34, line + 6, max(10, self.width() - 44), max(10, self.height() - 2 * line - 14))
        low, high = self._y_range()
        painter.setPen(QPen(_AXIS, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())
        painter.drawText(QRectF(0, plot.top() - line / 2, 30, line),
                         Qt.AlignmentFlag.AlignRight, f"{high:.2g}")
        painter.drawText(QRectF(0, plot.bottom() - line / 2, 30, line),
                         Qt.AlignmentFlag.AlignRight, f"{low:.2g}")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), line),
                         Qt.AlignmentFlag.AlignRight, f"epoch {self.x_extent:g}")
        if not self.points:
            return

        def at(x: float, y: float) -> QPointF:
            fx = x / self.x_extent if self.x_extent else 0.0
            fy = (y - low) / (high - low)
            return QPointF(plot.left() + fx * plot.width(),
                           plot.bottom() - max(0.0, min(1.0, fy)) * plot.height())

        path = QPainterPath(at(*self.points[0]))
        for point in self.points[1:]:
            path.lineTo(at(*point))
        painter.setPen(QPen(self.color, 2))
        painter.drawPath(path)
        painter.setBrush(self.color)
        for point in self.points:
            painter.drawEllipse(at(*point), 2.5, 2.5)


class BalanceChart(QWidget):
    """Per class: a bar for its share of the training pixels (its colour) and one for its
    loss weight (grey outline), each scaled to its own largest value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ClassBalanceRow] = []
        self.colors: list[tuple[int, int, int]] = []
        self.setMinimumSize(160, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(260, 150)

    def set_rows(self, rows: Sequence[ClassBalanceRow],
                 colors: Sequence[Sequence[int]]) -> None:
        self.rows = list(rows)
        self.colors = [tuple(int(v) for v in c) for c in colors]
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(252, 252, 252))
        line = painter.fontMetrics().height()
        painter.setPen(_TEXT)
        if not self.rows:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no corrected frames")
            return
        painter.drawText(QPointF(6, line), "share of pixels (colour) / loss weight (outline)")
        plot = QRectF(6, line + 6, self.width() - 12, self.height() - 2 * line - 12)
        share_max = max((r.share for r in self.rows), default=0.0) or 1.0
        weight_max = max((r.weight for r in self.rows), default=0.0) or 1.0
        slot = plot.width() / len(self.rows)
        bar = max(2.0, slot * 0.35)
        for i, row in enumerate(self.rows):
            left = plot.left() + i * slot + slot * 0.1
            color = QColor(*self.colors[i]) if i < len(self.colors) else QColor(100, 100, 100)
            h = plot.height() * row.share / share_max
            painter.fillRect(QRectF(left, plot.bottom() - h, bar, h), color)
            h = plot.height() * row.weight / weight_max
            painter.setPen(QPen(QColor(60, 60, 60), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(left + bar + 1, plot.bottom() - h, bar, h))
            painter.setPen(_TEXT)
            painter.drawText(QRectF(plot.left() + i * slot, plot.bottom() + 2, slot, line),
                             Qt.AlignmentFlag.AlignHCenter,
                             painter.fontMetrics().elidedText(row.name, Qt.TextElideMode.ElideRight,
                                                              int(slot)))
