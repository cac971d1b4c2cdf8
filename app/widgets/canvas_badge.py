"""A short note in the top left corner of the canvas about the frame shown (its labels are
propagated and not accepted yet): the frame list says it too, but the eye is on the canvas."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

MARGIN = 10
PADDING = 20  # the style's 8 px a side, and a little


class CanvasBadge(QLabel):
    """Sits in the top left corner of its parent (the canvas), in `color`; hidden while its
    text is ""."""

    def __init__(self, parent: QWidget, color: QColor) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet(f"background: rgba({color.red()}, {color.green()}, {color.blue()}, "
                           "225); color: white; padding: 3px 8px; border-radius: 3px;")
        self.setWordWrap(True)  # a narrow canvas: on two lines rather than cut
        self.move(MARGIN, MARGIN)
        parent.installEventFilter(self)
        self.hide()

    def say(self, text: str) -> None:
        if text == self.text() and self.isVisible() == bool(text):
            return
        self.setText(text)
        self._fit()
        self.setVisible(bool(text))
        if text:
            self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self._fit()
        return False

    def _fit(self) -> None:
        if not self.text():
            return  # hidden; sized when it has something to say
        room = max(80, self.parentWidget().width() - 2 * MARGIN)
        width = min(room, self.fontMetrics().horizontalAdvance(self.text()) + PADDING)
        self.setFixedWidth(width)
        self.setFixedHeight(self.heightForWidth(width))
