"""The timeline of a video: play/pause, a slider over its frames (with a tick for every
corrected frame, one in another colour for every saved frame still to review, a mark at the
top for every flagged frame, and a strip of colours along it, one per frame, that a feature
sets), a frame box to jump to, the frame number and time, and the speed."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSlider, QSpinBox, QStyle,
                               QStyleOptionSlider, QToolButton, QToolTip, QWidget)

from app.widgets.frame_list import TO_REVIEW_COLOR
from app.widgets.own_keys import SLIDER_KEYS, takes_keys

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)
TICK_COLOR = QColor(30, 90, 200)  # the frame list's colour for corrected frames
#: the frame list's colour for saved frames whose labels are still to review (propagated)
REVIEW_TICK_COLOR = TO_REVIEW_COLOR
STRIP_HEIGHT = 4  # pixels, along the top of the slider
#: flagged frames (Go > Flag frame to correct first): apart from the ticks' and strip's colours
FLAG_COLOR = QColor(20, 20, 20)
FLAG_SIZE = 9  # pixels: a flag's triangle, as wide as high, at the top of the slider
SLIDER_HEIGHT = 34  # pixels at the least: the handle between the flags and the ticks


class TickSlider(QSlider):
    """A horizontal slider that paints a small tick under each value in `ticks` (in
    `REVIEW_TICK_COLOR` under those in `review_ticks`) and, along its top, the `strip`: an
    image one pixel per value (value i at column i), stretched so each column lies under its
    value (painted first: the handle goes over it)."""

    def __init__(self, parent=None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.ticks: list[int] = []
        self.review_ticks: list[int] = []
        self.flags: list[int] = []
        self.strip: QImage | None = None
        self.strip_tip: Callable[[int], str] | None = None

    def set_strip(self, image: QImage | None,
                  tip: Callable[[int], str] | None = None) -> None:
        """The strip's image, and what hovering over value i says (`tip(i)`; none: the
        slider's own tooltip)."""
        self.strip = image
        self.strip_tip = tip if image is not None else None
        self.update()

    def value_at(self, x: float) -> int:
        """The value whose position is nearest `x` (the inverse of `value_x`)."""
        first, last = self.value_x(self.minimum()), self.value_x(self.maximum())
        share = (x - first) / max(1e-9, last - first)
        value = round(self.minimum() + share * (self.maximum() - self.minimum()))
        return max(self.minimum(), min(self.maximum(), value))

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.strip_tip is not None:
            text = self.strip_tip(self.value_at(event.pos().x()))
            QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)

    def mousePressEvent(self, event) -> None:
        """A left click away from the handle goes to the frame there (on the strip too, as
        in a video player: not a page at a time), and a drag from it goes on from there."""
        if event.button() == Qt.MouseButton.LeftButton and not self._on_handle(
                event.position().toPoint()):
            self.setValue(self.value_at(event.position().x()))
        super().mousePressEvent(event)

    def _on_handle(self, point) -> bool:
        return self._groove_and_handle()[1].contains(point)

    def _groove_and_handle(self) -> tuple[QRect, QRect]:
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        return tuple(style.subControlRect(QStyle.ComplexControl.CC_Slider, option, part, self)
                     for part in (QStyle.SubControl.SC_SliderGroove,
                                  QStyle.SubControl.SC_SliderHandle))

    def set_ticks(self, ticks, review=()) -> None:
        """Tick these values (corrected frames), and `review` in the review colour."""
        ticks, review = sorted(set(int(t) for t in ticks)), sorted(set(int(t) for t in review))
        if (ticks, review) != (self.ticks, self.review_ticks):
            self.ticks, self.review_ticks = ticks, review
            self.update()

    def set_flags(self, flags) -> None:
        """Mark these values at the top, under the strip (flagged frames)."""
        flags = sorted(set(int(f) for f in flags))
        if flags != self.flags:
            self.flags = flags
            self.update()

    def value_x(self, value: float) -> float:
        """The x of `value`'s position (the handle's centre there)."""
        groove, handle = self._groove_and_handle()
        span = max(1, groove.width() - handle.width())
        share = (value - self.minimum()) / max(1, self.maximum() - self.minimum())
        return groove.x() + handle.width() / 2 + share * span

    def paintEvent(self, event) -> None:
        if self.strip is not None and not self.strip.isNull():
            painter = QPainter(self)
            step = self.value_x(1) - self.value_x(0)
            left = self.value_x(0) - step / 2
            painter.drawImage(QRectF(left, 0, step * self.strip.width(), STRIP_HEIGHT),
                              self.strip)
            painter.end()
        super().paintEvent(event)
        if not (self.ticks or self.review_ticks or self.flags) or \
                self.maximum() <= self.minimum():
            return
        painter = QPainter(self)
        bottom = self.height() - 1
        for values, color in ((self.ticks, TICK_COLOR), (self.review_ticks, REVIEW_TICK_COLOR)):
            painter.setPen(QPen(color, 2))
            for value in values:
                x = round(self.value_x(value))
                painter.drawLine(x, bottom - 4, x, bottom)
        # a flag: a small triangle pointing down at its frame, over the strip and above the
        # handle (a bar across the groove read as the handle's grip when on that frame)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.setBrush(FLAG_COLOR)
        half = FLAG_SIZE / 2
        for value in self.flags:
            x = self.value_x(value)
            painter.drawPolygon(QPolygonF([QPointF(x - half, 0.5), QPointF(x + half, 0.5),
                                           QPointF(x, FLAG_SIZE)]))
        painter.end()

    def tick_rect(self) -> QRect:
        return self.rect()


class Timeline(QWidget):
    """Emits `frameChosen(index)` when the user moves the slider or enters a frame number,
    `playClicked()` from the play button and `speedChanged(factor)`. Hidden unless a video
    frame is shown."""

    frameChosen = Signal(int)
    playClicked = Signal()
    speedChanged = Signal(float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.play_button = QToolButton()
        self.play_button.setText("Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setCheckable(True)
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider = TickSlider()
        self.slider.setPageStep(10)
        self.slider.setMinimumWidth(160)
        # room above the handle for the strip and the flags, below it for the ticks
        self.slider.setMinimumHeight(SLIDER_HEIGHT)
        takes_keys(self.slider, *SLIDER_KEYS)  # focused: the video's frames, not the list's
        self.frame_box = QSpinBox()
        self.frame_box.setToolTip("Go to frame (Ctrl+G)")
        self.frame_box.setKeyboardTracking(False)
        self.label = QLabel()
        self.label.setMinimumWidth(110)
        self.time_label = QLabel()
        self.time_label.setMinimumWidth(60)
        self.speed = QComboBox()
        self.speed.setToolTip("Playback speed")
        for factor in SPEEDS:
            self.speed.addItem(f"{factor:g}x", factor)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.frame_box)
        layout.addWidget(self.label)
        layout.addWidget(self.time_label)
        layout.addWidget(self.speed)
        self.fps = 0.0
        self.slider.valueChanged.connect(self._on_value)
        self.frame_box.valueChanged.connect(self._on_box)
        self.play_button.clicked.connect(lambda _checked=False: self.playClicked.emit())
        self.speed.currentIndexChanged.connect(
            lambda i: self.speedChanged.emit(float(self.speed.itemData(i))))
        self._quiet = False
        self.setVisible(False)

    @property
    def speed_factor(self) -> float:
        return float(self.speed.currentData())

    def set_speed(self, factor: float) -> None:
        self.speed.setCurrentIndex(min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - factor)))

    def set_playing(self, playing: bool) -> None:
        self.play_button.setChecked(playing)
        self.play_button.setText("Pause" if playing else "Play")

    def show_video(self, frame_count: int, index: int, fps: float | None = None) -> None:
        """Show the timeline of a `frame_count`-frame video at frame `index`."""
        if fps is not None:
            self.fps = float(fps)
        self._quiet = True
        try:
            self.slider.setRange(0, max(0, frame_count - 1))
            self.slider.setValue(index)
            self.frame_box.setRange(1, max(1, frame_count))
            self.frame_box.setValue(index + 1)
        finally:
            self._quiet = False
        self._set_label(index)
        self.setVisible(True)

    def set_fps(self, fps: float, index: int) -> None:
        """The video's frame rate (for the time shown), at frame `index`."""
        self.fps = float(fps)
        self._set_label(index)

    def _set_label(self, index: int) -> None:
        self.label.setText(f"frame {index + 1} / {self.slider.maximum() + 1}")
        seconds = index / self.fps if self.fps > 0 else None
        self.time_label.setText("" if seconds is None else
                                f"{int(seconds // 60)}:{seconds % 60:05.2f}")

    def _on_value(self, value: int) -> None:
        self._set_label(value)
        if not self._quiet:
            self.frameChosen.emit(value)

    def _on_box(self, value: int) -> None:
        if not self._quiet:
            self.slider.setValue(value - 1)  # emits frameChosen through the slider
