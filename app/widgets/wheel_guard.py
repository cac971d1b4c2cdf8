"""Settings in a scrolling form take the mouse wheel only once clicked into (focused): a wheel
over a spin box or a combo box scrolls the form instead of changing a setting the user was
not looking at (a user's check: scrolling the fine-tune panel turned "Start from" to
"Scratch" and left the form where it was)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QComboBox, QWidget


class _WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or \
                watched.hasFocus():
            return False
        area = _scroll_area_of(watched)
        if area is not None:  # what the wheel would do over the form's empty space
            QCoreApplication.sendEvent(area.verticalScrollBar(), event)
        return True


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def wheel_after_click(form: QWidget) -> None:
    """The spin boxes and combo boxes in `form` (now) change by the wheel only when focused:
    a click or Tab focuses them, the wheel no longer does."""
    guard = _WheelGuard(form)
    for widget in form.findChildren(QAbstractSpinBox) + form.findChildren(QComboBox):
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(guard)
