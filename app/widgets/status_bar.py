"""The window's status bar: a message too long for the room left of the permanent fields
ends in an ellipsis (QStatusBar cuts it off mid-letter), and hovering the bar shows it whole.
Such a message stays long enough to be read whole (`reading_ms`), and no message times out
while the pointer is on it (a user hovering to read a long summary saw it vanish).

`currentMessage()` stays the whole text; only the painting is shortened.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QCursor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizeGrip, QStatusBar, QStyle, QStyleOption, QWidget

_LEFT = 6  # where QStatusBar starts its message, and how far from the right it stops
_RIGHT = 12
_GAP = 2  # between the message and the first field right of it
#: characters a second a message cut short is given to be read whole (hovering the bar);
#: at most `MAX_READING_MS`
READING_RATE = 15
MAX_READING_MS = 60000
HOVER_GRACE_MS = 1500  # a timed-out message goes this long after the pointer leaves the bar


def reading_ms(text: str, timeout: int) -> int:
    """How long a message cut short stays: `timeout` (ms), or its reading time if longer."""
    return max(timeout, min(MAX_READING_MS, round(1000 * len(text) / READING_RATE)))


class ElidingStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # through a Python slot: PySide cannot bind QStatusBar's inherited setToolTip
        self.messageChanged.connect(lambda text: self.setToolTip(text))
        self._timed = ""  # the message the timer takes away
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._time_up)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt's name)
        """QStatusBar's, except that a message cut short stays its reading time and none
        goes while the pointer is on the bar."""
        super().showMessage(text, 0)
        self._timer.stop()
        self._timed = text if timeout > 0 else ""
        if timeout > 0:
            cut = self.shown_message() != text
            self._timer.start(reading_ms(text, timeout) if cut else timeout)

    def _time_up(self) -> None:
        if self.currentMessage() != self._timed:
            return  # replaced meanwhile (a status tip, another message)
        if self.underMouse() and self.message_rect().contains(self.mapFromGlobal(QCursor.pos())):
            self._timer.start(HOVER_GRACE_MS)  # being read (its tooltip): not a field's hover
            return
        self.clearMessage()

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
