"""Marks the editing tools draw over the frame: the brush outline at the brush's real size
(it scales with the zoom like the image) and the polygon being drawn. Lines are cosmetic
(one screen pixel wide at any zoom) and drawn twice, light under dark dashes, so they show
on any background."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPathItem, QGraphicsScene

Z_MARKS = 3


def _pens(color: QColor) -> tuple[QPen, QPen]:
    under = QPen(QColor(255, 255, 255, 230), 0)
    under.setCosmetic(True)
    over = QPen(color, 0, Qt.PenStyle.DashLine)
    over.setCosmetic(True)
    return under, over


class CanvasMarks:
    """The brush outline and polygon preview of one scene. Positions are scene points;
    pixel (r, c) covers [c, c+1) x [r, r+1)."""

    def __init__(self, scene: QGraphicsScene) -> None:
        under, over = _pens(QColor(0, 0, 0))
        self.outline = [QGraphicsEllipseItem(), QGraphicsEllipseItem()]
        self.polygon = [QGraphicsPathItem(), QGraphicsPathItem()]
        for items in (self.outline, self.polygon):
            for item, pen in zip(items, (under, over)):
                item.setPen(pen)
                item.setZValue(Z_MARKS)
                item.setVisible(False)
                scene.addItem(item)

    def show_brush(self, centre: QPointF, diameter: float) -> None:
        rect = QRectF(centre.x() - diameter / 2, centre.y() - diameter / 2, diameter, diameter)
        for item in self.outline:
            if item.rect() != rect:
                item.setRect(rect)
            item.setVisible(True)

    def hide_brush(self) -> None:
        for item in self.outline:
            item.setVisible(False)

    @property
    def brush_visible(self) -> bool:
        return self.outline[0].isVisible()

    def brush_rect(self) -> QRectF:
        return self.outline[0].rect()

    def set_polygon(self, points: Sequence[QPointF], color: QColor) -> None:
        """Show the open polygon through `points` (none: hide it)."""
        path = QPainterPath()
        if points:
            path.moveTo(points[0])
            for point in points[1:]:
                path.lineTo(point)
        under, over = self.polygon
        over.setPen(_pens(color)[1])
        for item in self.polygon:
            item.setPath(path)
            item.setVisible(bool(points))
