"""The canvas: an image with an overlay on top, zoomed at the cursor and panned by hand.

Ctrl+wheel zooms at the cursor, the plain wheel scrolls, Space-drag or middle-drag pans,
`fit()` shows the whole image. The overlay is an image of the image's size at the same
origin, so its pixels sit exactly on the image's; `update_overlay_region` repaints a part.
Other mouse and key input goes to `tool_handler` (the editor) when one is set.
"""

from __future__ import annotations

import math

from typing import Protocol

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QImage, QMouseEvent, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

from app.canvas.overlay_item import OverlayItem

MIN_SCALE, MAX_SCALE = 0.02, 64.0
WHEEL_ZOOM_STEP = 1.25  # per wheel notch (120 units)


class ToolHandler(Protocol):
    """Who gets the canvas's input besides zoom and pan; points are scene points."""

    def press(self, point: QPointF, button: Qt.MouseButton) -> bool: ...

    def move(self, point: QPointF, buttons: Qt.MouseButton) -> None: ...

    def release(self, point: QPointF, button: Qt.MouseButton) -> bool: ...

    def double_click(self, point: QPointF, button: Qt.MouseButton) -> bool: ...

    def key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool: ...

    # whether `key` would do something now
    def takes_key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool: ...

    def leave(self) -> None: ...


class CanvasView(QGraphicsView):
    """Shows one frame. Emits `pixelHovered(x, y)` for the image pixel under the cursor and
    `pixelLeft()` when the cursor leaves the image, also when a still cursor comes over
    another pixel or off the image (another frame shown, fitted its own way)."""

    pixelHovered = Signal(int, int)
    pixelLeft = Signal()
    #: Space pressed and released without a drag in between (plays / pauses a video)
    spaceTapped = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._image_item = QGraphicsPixmapItem()
        self._overlay_item = OverlayItem()
        self._overlay_item.setZValue(1)
        self._image_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        for item in (self._image_item, self._overlay_item):  # the overlay draws crisp pixels
            self.scene().addItem(item)                         # as the view's hints say
        self.setBackgroundBrush(QColor(40, 40, 40))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._space_held = False
        self._space_dragged = False
        self._pan_from: QPoint | None = None
        self._fitted = True
        self.tool_handler: ToolHandler | None = None
        self.tool_cursor: QCursor | None = None  # the cursor while not panning
        self._placeholder = ""  # said in the middle while no image is shown
        self._pointer: QPoint | None = None  # where the cursor is on the viewport, if on it

    # ------------------------------------------------------------------ content

    def set_image(self, image: QImage | None) -> None:
        """Show `image` (None clears). A new image size fits the view; the same size keeps
        the zoom and position, so stepping through a video stays put."""
        old_size = self._image_item.pixmap().size()
        pixmap = QPixmap() if image is None else QPixmap.fromImage(image)
        self._image_item.setPixmap(pixmap)
        self._overlay_item.set_image(None)
        self.scene().setSceneRect(QRectF(pixmap.rect()))
        if pixmap.size() != old_size or self._fitted:
            self.fit()
        if self._pointer is not None:  # a still cursor over another image, or off it
            self._report_pixel(self.mapToScene(self._pointer))

    def set_placeholder(self, text: str) -> None:
        """What the empty canvas says (what to do first); "" for nothing."""
        self._placeholder = text
        self.viewport().update()

    @property
    def placeholder(self) -> str:
        return self._placeholder

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self._placeholder and self._image_item.pixmap().isNull():
            painter = QPainter(self.viewport())
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.viewport().rect().adjusted(24, 24, -24, -24),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._placeholder)
            painter.end()

    def set_overlay(self, overlay: QImage | None) -> None:
        self._overlay_item.set_image(overlay)

    def update_overlay_region(self, x: int, y: int, patch: QImage) -> None:
        """Replace the overlay's pixels from (x, y) by `patch`; only that part is redrawn."""
        self._overlay_item.paste(x, y, patch)

    def set_overlay_opacity(self, opacity: float) -> None:
        self._overlay_item.setOpacity(max(0.0, min(1.0, float(opacity))))

    def set_overlay_visible(self, visible: bool) -> None:
        self._overlay_item.setVisible(bool(visible))

    def overlay_pixmap(self) -> QPixmap:
        return QPixmap.fromImage(self._overlay_item.image())

    def image_pixmap(self) -> QPixmap:
        return self._image_item.pixmap()

    # ------------------------------------------------------------------- zoom

    @property
    def scale_factor(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        if not self._image_item.pixmap().isNull():
            self.fitInView(self._image_item, Qt.AspectRatioMode.KeepAspectRatio)
        else:  # no image: no zoom left over, nor scroll bars over what the canvas says (a
            self.resetTransform()  # probe: a 7x3 image's zoom stayed over a frame unread)
        self._fitted = True

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom by `factor` keeping the scene point under `anchor` (view coordinates; the
        view's centre when None) where it is."""
        target = min(MAX_SCALE, max(MIN_SCALE, self.scale_factor * factor))
        factor = target / self.scale_factor
        if abs(factor - 1.0) < 1e-9:
            return
        anchor = anchor if anchor is not None else self.viewport().rect().center()
        before = self.mapToScene(anchor)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(factor, factor)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        # move with the scroll bars: a translation put in the transform is dropped once
        # the scroll bars that zooming in from "fit" brings are laid out
        moved = self.mapFromScene(before) - anchor
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())
        self._fitted = False

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            notches = event.angleDelta().y() / 120.0
            if notches:
                self.zoom_by(WHEEL_ZOOM_STEP ** notches, event.position().toPoint())
            event.accept()
            return
        super().wheelEvent(event)

    # -------------------------------------------------------------------- pan

    def event(self, event) -> bool:
        # Space is the window's play/pause shortcut; over the canvas it must reach the key
        # handlers first (held, it pans; tapped, `spaceTapped` plays or pauses)
        if event.type() == event.Type.ShortcutOverride and event.key() == Qt.Key.Key_Space:
            event.accept()
            return True
        # Esc drops the polygon or stroke being drawn before it cancels Segment all (the
        # window's Esc), Ctrl+Z takes back a polygon's corner before it undoes an edit:
        # while the tool would take a key, it comes to `keyPressEvent`
        if event.type() == event.Type.ShortcutOverride and self.tool_handler is not None and \
                self.tool_handler.takes_key(event.key(), event.modifiers()):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and event.isAutoRepeat():
            event.accept()
            return
        if event.key() == Qt.Key.Key_Space:
            self._space_held = True
            self._space_dragged = False
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if self.tool_handler is not None and \
                self.tool_handler.key(event.key(), event.modifiers()):
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            tapped = self._space_held and not self._space_dragged
            self._space_held = False
            self._pan_from = None
            self.restore_cursor()
            event.accept()
            if tapped:
                self.spaceTapped.emit()
            return
        if event.key() == Qt.Key.Key_Space:
            event.accept()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
                button == Qt.MouseButton.LeftButton and self._space_held):
            self._pan_from = event.position().toPoint()
            self._space_dragged = self._space_held
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if self.tool_handler is not None and self.tool_handler.press(
                self.mapToScene(event.position().toPoint()), button):
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool_handler is not None and not self._space_held and \
                self.tool_handler.double_click(self.mapToScene(event.position().toPoint()),
                                               event.button()):
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = self._pointer = event.position().toPoint()
        if self._pan_from is not None:
            delta = position - self._pan_from
            self._pan_from = position
            self.pan_by(delta.x(), delta.y())
            event.accept()
        else:
            if self.tool_handler is not None:
                self.tool_handler.move(self.mapToScene(position), event.buttons())
            super().mouseMoveEvent(event)
        self._report_pixel(self.mapToScene(position))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None and event.button() in (
                Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            if self._space_held:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.restore_cursor()
            event.accept()
            return
        if self.tool_handler is not None and self.tool_handler.release(
                self.mapToScene(event.position().toPoint()), event.button()):
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def restore_cursor(self) -> None:
        if self.tool_cursor is None:
            self.viewport().unsetCursor()
        else:
            self.viewport().setCursor(self.tool_cursor)

    def pan_by(self, dx: int, dy: int) -> None:
        """Move the content by (dx, dy) view pixels, as a hand drag does."""
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - dx)
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - dy)
        self._fitted = False

    def leaveEvent(self, event) -> None:
        self._pointer = None
        self.pixelLeft.emit()
        if self.tool_handler is not None:
            self.tool_handler.leave()
        super().leaveEvent(event)

    def _report_pixel(self, scene_point: QPointF) -> None:
        pixmap = self._image_item.pixmap()
        x, y = math.floor(scene_point.x()), math.floor(scene_point.y())
        if not pixmap.isNull() and 0 <= x < pixmap.width() and 0 <= y < pixmap.height():
            self.pixelHovered.emit(x, y)
        else:
            self.pixelLeft.emit()
