"""The window's status bar: a message too long for the room left of the permanent fields
ends in an ellipsis (QStatusBar cuts it off mid-letter), and hovering the bar shows it whole.

`currentMessage()` stays the whole text; only the painting is shortened.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizeGrip, QStatusBar, QStyle, QStyleOption, QWidget

_LEFT = 6  # where QStatusBar starts its message, and how far from the right it stops
_RIGHT = 12
_GAP = 2  # between the message and the first field right of it


class ElidingStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # through a Python slot: PySide cannot bind QStatusBar's inherited setToolTip
        self.messageChanged.connect(lambda text: self.setToolTip(text))

    def message_rect(self) -> QRect:
        """The room a message has: from the left edge to the first field shown right of it
        (while a message shows, only the permanent fields and the size grip are)."""
        right = self.width() - _RIGHT
        for child in self._fields():
            if child.isVisible():
                right = min(right, child.x() - _GAP)
        return QRect(_LEFT, 0, max(0, right - _LEFT), self.height())

    def shown_message(self) -> str:
        """The message as painted: whole where it fits, else cut short with '…'."""
        return self.fontMetrics().elidedText(self.currentMessage(), Qt.TextElideMode.ElideRight,
                                             self.message_rect().width())

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.currentMessage():
            super().paintEvent(event)
            return
        # QStatusBar's own painting, with the message elided: the panel, the frames of the
        # fields shown, the text
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        style = self.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
        for child in self._fields():
            if child.isVisible() and not isinstance(child, QSizeGrip):
                frame = QStyleOption()
                frame.rect = child.geometry().adjusted(-2, -1, 2, 1)
                frame.palette = self.palette()
                style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameStatusBarItem, frame,
                                    painter, child)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(self.message_rect(), Qt.AlignmentFlag.AlignLeading
                         | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine,
                         self.shown_message())
        painter.end()

    def _fields(self) -> list[QWidget]:
        return self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
