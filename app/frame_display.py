"""What the canvas and the class panel show for the current frame.

Holds the current FrameDocument and the overlay choices (labels or confidence, visible
classes, solo class, on/off, opacity) and redraws when either changes. A prediction is
drawn only when its key is the current frame's: results that arrive for a frame the user
has left are never drawn over another one. Once a frame's label mask is started (loaded,
edited) the overlay is drawn from the mask, which is what gets saved; an edit redraws only
the rectangle it touched.
"""

from __future__ import annotations

import enum
from typing import Hashable

import numpy as np
from PySide6.QtCore import QObject, Signal

from segnet_core.labels import LabelSet
from segnet_core.inference import Prediction

from app.canvas.overlay import class_shares, confidence_rgba, label_rgba
from app.canvas.qimage import array_to_qimage
from app.canvas.view import CanvasView
from app.document import FrameDocument
from app.widgets.class_panel import ClassPanel
from app.widgets.confidence_legend import ConfidenceLegend

class OverlayMode(enum.StrEnum):
    LABELS = "labels"  # the classes, coloured
    CONFIDENCE = "confidence"  # how unsure the model is: a heat map


class FrameDisplay(QObject):
    """Emits `overlayDrawn(key)` each time an overlay for frame `key` reaches the canvas,
    `documentShown(document or None)` when the frame shown changes, and
    `readoutChanged(text)` with what the pixel under the pointer reads (`readout`; "" with
    none) when the pointer moves and when what is under it changes: another frame, its
    prediction, an edit or undo (a user's check: the status bar kept "Bicyclist (label)" for
    a frame with no mask, and after an undo, until the mouse moved)."""

    overlayDrawn = Signal(object)
    documentShown = Signal(object)
    readoutChanged = Signal(str)

    def __init__(self, canvas: CanvasView, class_panel: ClassPanel, label_set: LabelSet,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.class_panel = class_panel
        self.label_set = label_set
        self.document: FrameDocument | None = None
        self.mode = OverlayMode.LABELS
        self.overlay_shown = True  # View > Overlay (the window's action, checked at start)
        self.visible: list[bool] = [True] * label_set.num_classes
        self.solo: int | None = None
        self.overlay_rgba: np.ndarray | None = None  # the array last drawn, for checks
        self._drawn_from_labels = False
        self.shares: np.ndarray | None = None
        self._hovered: tuple[int, int] | None = None  # the image pixel under the pointer
        self._said = ""  # the read-out last emitted: said again only when it changes
        self.legend = ConfidenceLegend(canvas, label_set.num_classes)  # confidence view only
        class_panel.set_label_set(label_set)
        class_panel.visibilityChanged.connect(self.set_visibility)
        class_panel.soloChanged.connect(lambda row: self.set_solo(None if row < 0 else row))

    @property
    def current_key(self) -> Hashable | None:
        return None if self.document is None else self.document.key

    def show(self, document: FrameDocument | None) -> None:
        """Show a frame (its label mask, else its prediction when it has one), or nothing."""
        self._listen(self.document, False)
        self.document = document
        self._listen(document, True)
        self.canvas.set_image(None if document is None else array_to_qimage(document.image))
        if document is not None:  # a frame there: no "how to begin", no "cannot be read"
            self.canvas.set_placeholder("")
        self._update_shares()
        self._draw()
        self._say_readout()
        self.documentShown.emit(document)

    def _listen(self, document: FrameDocument | None, on: bool) -> None:
        labels = None if document is None else document.labels
        if labels is not None:
            for signal, slot in ((labels.regionChanged, self._redraw_region),
                                 (labels.edited, self._update_shares)):
                if on:
                    signal.connect(slot)
                else:
                    signal.disconnect(slot)

    def set_prediction(self, key: Hashable, prediction: Prediction) -> bool:
        """Draw `prediction` if `key` is the frame shown; False (nothing drawn) otherwise."""
        if self.document is None or key != self.document.key:
            return False
        if prediction.labels.shape != self.document.size:
            return False  # the file changed under us; the caller asks again
        self.document.prediction = prediction
        self._update_shares()
        self._draw()
        self._say_readout()
        return True

    def set_label_set(self, label_set: LabelSet) -> None:
        """Follow a new label set: all classes visible, no solo."""
        self.label_set = label_set
        self.visible = [True] * label_set.num_classes
        self.solo = None
        self.class_panel.set_label_set(label_set)
        self.legend.set_num_classes(label_set.num_classes)
        self._update_shares()
        self._draw()

    def set_visibility(self, visible: list[bool]) -> None:
        self.visible = list(visible)
        self._draw()

    def set_solo(self, solo: int | None) -> None:
        self.solo = solo
        self._draw()

    def set_mode(self, mode: OverlayMode) -> None:
        self.mode = OverlayMode(mode)
        self._show_legend()
        self._draw()

    def set_overlay_shown(self, shown: bool) -> None:
        """The overlay is shown or hidden (View > Overlay): the legend with it."""
        self.overlay_shown = bool(shown)
        self._show_legend()

    def _show_legend(self) -> None:
        self.legend.setVisible(self.mode == OverlayMode.CONFIDENCE and self.overlay_shown)

    def hidden(self, index: int) -> str:
        """Why class `index`'s labels do not show in the overlay now ("" when they do, or
        when no class shows: the overlay off, the confidence view)."""
        if not self.overlay_shown or self.mode != OverlayMode.LABELS or \
                not 0 <= index < len(self.visible):
            return ""
        if self.solo is not None and self.solo != index:
            return f"hidden: Solo shows {self.label_set.names[self.solo]} only"
        return "" if self.visible[index] else "hidden: its Show box is unticked"

    def readout(self, x: int, y: int) -> str:
        return "" if self.document is None else self.document.readout(x, y, self.label_set)

    def hover(self, x: int, y: int) -> None:
        """The pointer is over image pixel (x, y)."""
        self._hovered = (x, y)
        self._say_readout()

    def unhover(self) -> None:
        """The pointer left the image."""
        self._hovered = None
        self._say_readout()

    def _say_readout(self) -> None:
        """Emit the read-out when it changed (this runs for every stroke's step and every
        frame played: the status bar is not set again for nothing)."""
        text = "" if self._hovered is None else self.readout(*self._hovered)
        if text != self._said:
            self._said = text
            self.readoutChanged.emit(text)

    def _update_shares(self) -> None:
        document = self.document
        shown = None if document is None else document.shown_labels()
        k = self.label_set.num_classes
        if shown is None:
            self.shares = None
        elif document.shows_labels:  # counted patch by patch: cheap after every stroke
            self.shares = document.labels.value_counts()[:k] / max(1, shown.size)
        else:
            self.shares = class_shares(shown, k)
        self.class_panel.set_shares(self.shares)

    def _draw(self) -> None:
        document = self.document
        prediction = None if document is None else document.prediction
        shown = None if document is None else document.shown_labels()
        self._drawn_from_labels = document is not None and document.shows_labels
        if self.mode == OverlayMode.CONFIDENCE and prediction is not None:
            rgba = confidence_rgba(prediction.confidence, self.label_set.num_classes)
        elif self.mode == OverlayMode.LABELS and shown is not None:
            rgba = label_rgba(shown, self.label_set, self.visible, self.solo)
        else:
            self.overlay_rgba = None
            self.canvas.set_overlay(None)
            return
        self.overlay_rgba = rgba
        self.canvas.set_overlay(array_to_qimage(rgba))
        self.overlayDrawn.emit(document.key)

    def _starts_as_predicted(self, document: FrameDocument) -> bool:
        """Whether the label mask just started as a copy of the prediction on screen (the
        first edit of a frame), so a 4000x3000 overlay need not be drawn again."""
        prediction = document.prediction
        return (document.shows_labels and self.overlay_rgba is not None
                and self.mode == OverlayMode.LABELS and prediction is not None
                and np.array_equal(document.labels.mask, prediction.labels))

    def _redraw_region(self, y0: int, x0: int, height: int, width: int) -> None:
        """Pixels of the label mask changed: redraw that rectangle of the overlay only."""
        self._say_readout()
        document = self.document
        if document is None or self.mode != OverlayMode.LABELS:
            return
        if self.overlay_rgba is None or document.shows_labels != self._drawn_from_labels:
            if self._starts_as_predicted(document):
                self._drawn_from_labels = True  # same classes, same overlay: nothing to draw
            else:
                self._draw()  # the overlay switches between prediction and label mask
            return
        if not document.shows_labels:
            return  # the prediction is on screen (a stroke taken back with Esc: its first
            # patch, the copy of the prediction, is undone after the switch back)
        region = slice(y0, y0 + height), slice(x0, x0 + width)
        rgba = label_rgba(document.labels.mask[region], self.label_set, self.visible, self.solo)
        self.overlay_rgba[region] = rgba
        self.canvas.update_overlay_region(x0, y0, array_to_qimage(rgba))
