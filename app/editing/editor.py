"""The editor: the current tool, class and brush size, applied to the frame on screen.

It takes the canvas's mouse and key input (as its `tool_handler`), turns it into tool calls
and gives the tools what they work on: the frame's `FrameLabels`, started from the model's
prediction by the first edit when the frame has no mask yet (so an edit never makes the
rest of the prediction disappear: what was shown stays, and undo brings back exactly that).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QCursor

from segnet_core.labels import LabelSet
from segnet_core.masks.edits import Patch, replace_mask
from segnet_core.inference import Prediction

from app.canvas.marks import CanvasMarks
from app.canvas.view import CanvasView
from app.document import FrameDocument
from app.editing.frame_labels import FrameLabels
from app.editing.tools import (BrushTool, FillTool, PickerTool, PolygonTool, Tool, ToolName,
                               pixel_centre)

MAX_BRUSH = 400
_KEYS = {Qt.Key.Key_Return: "close", Qt.Key.Key_Enter: "close", Qt.Key.Key_Escape: "cancel",
         Qt.Key.Key_Backspace: "back"}
_NO_MODIFIER = Qt.KeyboardModifier.NoModifier
#: what a press on the canvas says when it paused the video playing
PAUSED_TO_EDIT = "Paused to edit: press again to paint this frame (Space plays on)"
#: what an edit says when the frame's prediction, which it starts from, is still to come
WAIT_FOR_LABELS = ("Not edited: the model is still segmenting this frame, and an edit starts "
                   "from its labels. Edit again once they show")


def _word(key: int, modifiers: Qt.KeyboardModifier) -> str | None:
    """What a key pressed over the canvas asks of the tool in use; Ctrl+Z (Undo) takes back
    a polygon's last corner, as in labelme and CVAT (a user's check: it dropped the whole
    polygon and undid the edit before it too)."""
    if key == Qt.Key.Key_Z and modifiers & Qt.KeyboardModifier.ControlModifier and \
            not modifiers & Qt.KeyboardModifier.ShiftModifier:
        return "back"
    if key != Qt.Key.Key_Escape and modifiers & ~Qt.KeyboardModifier.KeypadModifier:
        return None  # Ctrl+Return is Accept prediction, not the polygon's Enter (a review)
    return _KEYS.get(key)


def next_brush_size(size: int, bigger: bool) -> int:
    """One `]` (bigger) or `[` step: by 1 up to 10, then by about 20 %."""
    if bigger:
        return min(MAX_BRUSH, size + 1 if size < 10 else round(size * 1.2))
    return max(1, size - 1 if size <= 10 else round(size / 1.2))


class Editor(QObject):
    """Emits `toolChanged(name)`, `classChanged(index)`, `brushSizeChanged(size)` and
    `message(text)` for the status bar."""

    toolChanged = Signal(object)  # ToolName
    classChanged = Signal(int)
    brushSizeChanged = Signal(int)
    message = Signal(str)

    def __init__(self, canvas: CanvasView, label_set: LabelSet, brush_size: int,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.label_set = label_set
        self.document: FrameDocument | None = None
        self.current_class = 0
        self.brush_size = max(1, min(MAX_BRUSH, int(brush_size)))
        self.tools: dict[ToolName, Tool] = {
            ToolName.BRUSH: BrushTool(self), ToolName.ERASER: BrushTool(self, erase=True),
            ToolName.FILL: FillTool(self), ToolName.POLYGON: PolygonTool(self),
            ToolName.PICKER: PickerTool(self)}
        self.tool_name = ToolName.BRUSH
        self._before_picker = ToolName.BRUSH
        self._dragging = False
        #: why class i's labels do not show now ("" when they do: `FrameDisplay.hidden`)
        self.class_hidden: Callable[[int], str] = lambda _index: ""
        #: whether the model's labels of the frame shown are on their way (the first edit
        #: of a frame starts from them: `SegmentationController.labels_due`)
        self.labels_due: Callable[[], bool] = lambda: False
        #: pause a video playing (True when it did): a press on the canvas then pauses it
        self.pause_playback: Callable[[], bool] = lambda: False
        self._cursor_at: QPointF | None = None
        self.marks = CanvasMarks(canvas.scene())
        canvas.tool_handler = self
        canvas.tool_cursor = QCursor(Qt.CursorShape.CrossCursor)
        canvas.restore_cursor()

    @property
    def labels(self) -> FrameLabels | None:
        return None if self.document is None else self.document.labels

    @property
    def tool(self) -> Tool:
        return self.tools[self.tool_name]

    # ------------------------------------------------------------ choices

    def set_document(self, document: FrameDocument | None) -> None:
        self.finish()
        self.document = document
        self._show_brush()  # none over a frame that cannot be read (a probe)

    def set_label_set(self, label_set: LabelSet) -> None:
        self.label_set = label_set
        if self.current_class >= label_set.num_classes:
            self.set_class(0)

    def set_tool(self, name: ToolName) -> None:
        if name not in self.tools or name == self.tool_name:
            return
        self.finish()
        if name == ToolName.PICKER:
            self._before_picker = self.tool_name
        self.tool_name = name
        self._show_brush()
        self.toolChanged.emit(name)

    def set_class(self, index: int) -> bool:
        """Make class `index` current; False when the label set has no such class."""
        if not 0 <= index < self.label_set.num_classes:
            return False
        if index != self.current_class:
            self.current_class = index
            self.classChanged.emit(index)
        return True

    def set_brush_size(self, size: int) -> None:
        size = max(1, min(MAX_BRUSH, int(size)))
        if size != self.brush_size:
            self.brush_size = size
            self._show_brush()
            self.brushSizeChanged.emit(size)

    def step_brush_size(self, bigger: bool) -> None:
        self.set_brush_size(next_brush_size(self.brush_size, bigger))

    def finish(self) -> None:
        """End the stroke or polygon in progress (before switching frame, tool or undo)."""
        self._dragging = False
        self.tool.finish()

    # ------------------------------------------------------------ operations

    def accept_prediction(self) -> bool:
        """Make the model's prediction the frame's labels (one undo step)."""
        labels, prediction = self.labels, self.shown_prediction()
        if labels is None or prediction is None:
            self.message.emit("No prediction to accept for this frame yet")
            return False
        if labels.locked:
            self.message.emit(labels.locked)
            return False
        self.finish()
        if not labels.apply(replace_mask(labels.mask, prediction.labels), "Accept prediction"):
            self.message.emit("The labels are the prediction already")
            return False
        self.message.emit("Accepted the prediction as this frame's labels (Ctrl+Z takes it "
                          "back; Ctrl+S saves)")
        return True

    def shown_prediction(self) -> Prediction | None:
        """The shown frame's prediction when it fits its labels."""
        document = self.document
        prediction = None if document is None else document.prediction
        if prediction is None or self.labels is None or \
                prediction.labels.shape != self.labels.shape:
            return None
        return prediction

    # ------------------------------------------------------------ what the tools use

    def paint_value(self, erase: bool) -> int:
        return self.label_set.void_index if erase else self.current_class

    def begin_edit(self) -> np.ndarray | None:
        """The mask to edit, started from the prediction if the frame showed only that;
        None when there is no frame or it cannot be edited."""
        labels = self.labels
        if labels is None:
            return None
        if labels.locked:
            self.message.emit(labels.locked)
            return None
        prediction = self.shown_prediction()
        if not labels.started and prediction is None and self.labels_due():
            # an edit started now would start from an empty mask, saved as a correction
            # that lowers every estimate (a user's check: a fill clicked before the
            # overlay showed made the whole frame Road)
            self.message.emit(WAIT_FOR_LABELS)
            return None
        if not labels.started and prediction is not None:
            labels.paint(replace_mask(labels.mask, prediction.labels))
        return labels.mask

    def paint(self, patch: Patch | None) -> None:
        self.labels.paint(patch)

    def commit(self, text: str) -> None:
        self.labels.commit(text)

    def cancel_edit(self) -> None:
        if self.labels is not None:
            self.labels.cancel()

    def pick_class_at(self, x: int, y: int) -> bool:
        shown = None if self.document is None else self.document.shown_labels()
        if shown is None or not (0 <= y < shown.shape[0] and 0 <= x < shown.shape[1]):
            return False
        value = int(shown[y, x])
        if not self.set_class(value):
            self.message.emit("Void here: no class to pick")
            return False
        self.message.emit(f"Class {self.label_set.names[value]}")
        self.set_tool(self._before_picker)
        return True

    def say(self, text: str) -> None:
        self.message.emit(text)

    def polygon_changed(self, points) -> None:
        color = QColor(*self.label_set.colors[self.current_class])
        self.marks.set_polygon([QPointF(x + 0.5, y + 0.5) for x, y in points], color)

    # ------------------------------------------------------------ canvas input

    def press(self, point: QPointF, button: Qt.MouseButton) -> bool:
        if button == Qt.MouseButton.LeftButton and self.pause_playback():
            # a stroke over frames going by painted nothing and said nothing (a user's check)
            self.message.emit(PAUSED_TO_EDIT)
            return True
        if button != Qt.MouseButton.LeftButton or self.labels is None:
            return False
        self._dragging = self.tool.press(point.x(), point.y())
        hidden = self.class_hidden(self.current_class)
        if hidden and self.tool_name in (ToolName.BRUSH, ToolName.FILL, ToolName.POLYGON):
            # a user's check: a stroke of a hidden class showed nothing and said nothing
            self.message.emit(f"Painting {self.label_set.names[self.current_class]}, "
                              f"{hidden} (Classes panel): what you paint does not show")
        return self._dragging

    def move(self, point: QPointF, buttons: Qt.MouseButton) -> None:
        self._cursor_at = point
        self._show_brush()
        if self._dragging and buttons & Qt.MouseButton.LeftButton:
            self.tool.drag(point.x(), point.y())
        else:
            self.tool.hover(point.x(), point.y())

    def release(self, point: QPointF, button: Qt.MouseButton) -> bool:
        if button != Qt.MouseButton.LeftButton or not self._dragging:
            return False
        self._dragging = False
        self.tool.release(point.x(), point.y())
        return True

    def double_click(self, point: QPointF, button: Qt.MouseButton) -> bool:
        if button != Qt.MouseButton.LeftButton or self.labels is None:
            return False
        return self.tool.double_click(point.x(), point.y()) or self.press(point, button)

    def key(self, key: int, modifiers: Qt.KeyboardModifier = _NO_MODIFIER) -> bool:
        word = _word(key, modifiers)
        if word == "back":
            return self.take_back()
        return word is not None and self.tool.key(word)

    def takes_key(self, key: int, modifiers: Qt.KeyboardModifier = _NO_MODIFIER) -> bool:
        """Whether `key(key, modifiers)` would do something now (nothing is done)."""
        word = _word(key, modifiers)
        return word is not None and self.tool.takes(word)

    def drawing(self) -> bool:
        """Whether a polygon is being drawn (its corners would go with a Redo's finish)."""
        return self.tool.takes("back")

    def take_back(self) -> bool:
        """Edit > Undo while a polygon is being drawn: its last corner goes (nothing else is
        undone); whether there was one."""
        if not self.tool.key("back"):
            return False
        left = len(self.tool.points) if isinstance(self.tool, PolygonTool) else 0
        self.message.emit(f"Took back the polygon's last corner ({left} left; Esc drops "
                          f"the polygon)" if left else "Took back the polygon's last corner")
        return True

    def leave(self) -> None:
        self._cursor_at = None
        self.marks.hide_brush()

    def _show_brush(self) -> None:
        if self._cursor_at is None or self.tool_name not in (ToolName.BRUSH, ToolName.ERASER) \
                or self.document is None:  # the empty canvas: its help text, no outline
            self.marks.hide_brush()
            return
        x, y = pixel_centre(self._cursor_at.x(), self._cursor_at.y())
        self.marks.show_brush(QPointF(x + 0.5, y + 0.5), float(self.brush_size))
