"""A word-wrapped label that keeps the height its text needs at its width, up to a limit.

A QLabel with word wrap asks a layout for little height at least (`minimumSizeHint`), so a
short dock squeezes it and cuts its lines at top and bottom; this one's minimum follows its
text at the width it has, up to `max_lines` lines (a long text must not make the window grow:
beyond them it is cut, and its tooltip holds it whole), so a squeeze falls on what can give way
(a scroll area, tabs).
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel


class WrappedLabel(QLabel):
    def __init__(self, text: str = "", parent=None, max_lines: int = 6) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.max_lines = max_lines

    def cap(self) -> int:
        """The most height the label asks for: `max_lines` lines."""
        margins = self.contentsMargins()
        return self.max_lines * self.fontMetrics().lineSpacing() + margins.top() + \
            margins.bottom()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        if not self.text():
            return hint
        needed = min(self.heightForWidth(self.width()), self.cap())
        return QSize(hint.width(), max(hint.height(), needed))

    def setText(self, text: str) -> None:
        super().setText(text)
        self.updateGeometry()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # a new width: a new height needed
