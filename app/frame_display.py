"""What the canvas and the class panel show for the current frame.

Holds the current FrameDocument and the overlay choices (labels or confidence, visible
classes, solo class, on/off, opacity) and redraws when either changes. A prediction is
drawn only when its key is the current frame's: results that arrive for a frame the user
has left are never drawn over another one.
"""

from __future__ import annotations

from typing import Hashable

import numpy as np
from PySide6.QtCore import QObject, Signal

from segnet_core.labels import LabelSet
from segnet_core.predict import Prediction

from app.canvas.overlay import class_shares, confidence_rgba, label_rgba
from app.canvas.qimage import array_to_qimage
from app.canvas.view import CanvasView
from app.document import FrameDocument
from app.widgets.class_panel import ClassPanel

LABELS, CONFIDENCE = "labels", "confidence"


class FrameDisplay(QObject):
    """Emits `overlayDrawn(key)` each time an overlay for frame `key` reaches the canvas."""

    overlayDrawn = Signal(object)

    def __init__(self, canvas: CanvasView, class_panel: ClassPanel, label_set: LabelSet,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.class_panel = class_panel
        self.label_set = label_set
        self.document: FrameDocument | None = None
        self.mode = LABELS
        self.visible: list[bool] = [True] * label_set.num_classes
        self.solo: int | None = None
        self.overlay_rgba: np.ndarray | None = None  # the array last drawn, for checks
        self.shares: np.ndarray | None = None
        class_panel.set_label_set(label_set)
        class_panel.visibilityChanged.connect(self.set_visibility)
        class_panel.soloChanged.connect(lambda row: self.set_solo(None if row < 0 else row))

    @property
    def current_key(self) -> Hashable | None:
        return None if self.document is None else self.document.key

    def show(self, document: FrameDocument | None) -> None:
        """Show a frame (with its prediction when it has one), or nothing."""
        self.document = document
        self.canvas.set_image(None if document is None else array_to_qimage(document.image))
        self._update_shares()
        self._draw()

    def set_prediction(self, key: Hashable, prediction: Prediction) -> bool:
        """Draw `prediction` if `key` is the frame shown; False (nothing drawn) otherwise."""
        if self.document is None or key != self.document.key:
            return False
        if prediction.labels.shape != self.document.size:
            return False  # the file changed under us; the caller asks again
        self.document.prediction = prediction
        self._update_shares()
        self._draw()
        return True

    def set_label_set(self, label_set: LabelSet) -> None:
        """Follow a new label set: all classes visible, no solo."""
        self.label_set = label_set
        self.visible = [True] * label_set.num_classes
        self.solo = None
        self.class_panel.set_label_set(label_set)
        self._update_shares()
        self._draw()

    def set_visibility(self, visible: list[bool]) -> None:
        self.visible = list(visible)
        self._draw()

    def set_solo(self, solo: int | None) -> None:
        self.solo = solo
        self._draw()

    def set_mode(self, mode: str) -> None:
        if mode not in (LABELS, CONFIDENCE):
            raise ValueError(f"unknown overlay mode {mode!r}")
        self.mode = mode
        self._draw()

    def readout(self, x: int, y: int) -> str:
        return "" if self.document is None else self.document.readout(x, y, self.label_set)

    def _update_shares(self) -> None:
        prediction = None if self.document is None else self.document.prediction
        self.shares = (None if prediction is None
                       else class_shares(prediction.labels, self.label_set.num_classes))
        self.class_panel.set_shares(self.shares)

    def _draw(self) -> None:
        prediction = None if self.document is None else self.document.prediction
        if prediction is None:
            self.overlay_rgba = None
            self.canvas.set_overlay(None)
            return
        if self.mode == CONFIDENCE:
            rgba = confidence_rgba(prediction.confidence, self.label_set.num_classes)
        else:
            rgba = label_rgba(prediction.labels, self.label_set, self.visible, self.solo)
        self.overlay_rgba = rgba
        self.canvas.set_overlay(array_to_qimage(rgba))
        self.overlayDrawn.emit(self.document.key)
