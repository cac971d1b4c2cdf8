"""The overlay as a scene item that can repaint part of itself.

It keeps one premultiplied ARGB32 QImage (the fast format to draw) and draws only the part
the view exposes. `paste` replaces a rectangle of it and asks the scene to repaint just that
rectangle, so a brush dab on a 4000x3000 frame costs the dab, not the frame.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem

_FAST = QImage.Format.Format_ARGB32_Premultiplied


class OverlayItem(QGraphicsItem):
    def __init__(self) -> None:
        super().__init__()
        self._image = QImage()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def image(self) -> QImage:
        return self._image

    def set_image(self, image: QImage | None) -> None:
        self.prepareGeometryChange()
        self._image = QImage() if image is None else image.convertToFormat(_FAST)
        self.update()

    def paste(self, x: int, y: int, patch: QImage) -> None:
        """Put `patch` at pixel (x, y) of the overlay, replacing what was there."""
        if self._image.isNull():
            return
        painter = QPainter(self._image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(x, y, patch)
        painter.end()
        self.update(QRectF(x, y, patch.width(), patch.height()))

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._image.width(), self._image.height())

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._image.isNull():
            return
        exposed: QRect = option.exposedRect.toAlignedRect().intersected(self._image.rect())
        if not exposed.isEmpty():
            painter.drawImage(exposed, self._image, exposed)
