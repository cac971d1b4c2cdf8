"""The editing tools: what a press, drag, release, double-click or key does with each.

Plain Python: a tool gets image positions (x, y floats, pixel (r, c) spans [c, c+1) x
[r, r+1)) and works through its `EditTarget` (the Editor), which owns the frame's mask,
the current class and the brush size. Keys arrive as the words "close" and "cancel".
"""

from __future__ import annotations

import enum
import math
from typing import Protocol

import numpy as np

from segnet_core.masks.edits import Patch, fill_polygon, flood_fill, paint_disc_segment

class ToolName(enum.StrEnum):
    BRUSH = "brush"
    ERASER = "eraser"
    FILL = "fill"
    POLYGON = "polygon"
    PICKER = "picker"


Point = tuple[float, float]


def pixel_centre(x: float, y: float) -> Point:
    """The centre, in edit coordinates (pixel (r, c) at (c, r)), of the pixel under (x, y)."""
    return float(math.floor(x)), float(math.floor(y))


class EditTarget(Protocol):
    brush_size: int

    def paint_value(self, erase: bool) -> int: ...

    def begin_edit(self) -> np.ndarray | None: ...

    def paint(self, patch: Patch | None) -> None: ...

    def commit(self, text: str) -> None: ...

    def cancel_edit(self) -> None: ...

    def pick_class_at(self, x: int, y: int) -> bool: ...

    def polygon_changed(self, points: list[Point]) -> None: ...

    def say(self, text: str) -> None: ...


class Tool:
    """Does nothing; subclasses override what they use. `press` and `key` return whether
    they took the event."""

    def __init__(self, target: EditTarget) -> None:
        self.target = target

    def press(self, x: float, y: float) -> bool:
        return False

    def drag(self, x: float, y: float) -> None:
        pass

    def release(self, x: float, y: float) -> None:
        pass

    def double_click(self, x: float, y: float) -> bool:
        return False

    def hover(self, x: float, y: float) -> None:
        pass

    def key(self, word: str) -> bool:
        """Do what the key `word` ("close", "cancel", "back") does now; whether it did
        anything."""
        return False

    def takes(self, word: str) -> bool:
        """Whether `key(word)` would do something now (asked before the window's shortcuts
        get the key: Esc drops a stroke or polygon before it cancels Segment all)."""
        return False

    def finish(self) -> None:
        """Leave the tool or the frame: end what is in progress."""


class BrushTool(Tool):
    """Paints the current class (the eraser: void) in a disc of the brush's diameter centred
    on the pixel under the cursor; one drag is one undo step, Esc during it takes it back."""

    def __init__(self, target: EditTarget, erase: bool = False) -> None:
        super().__init__(target)
        self.erase = erase
        self._last: Point | None = None
        self._mask: np.ndarray | None = None
        self._painted = False  # whether a dab of the stroke reached the image

    def press(self, x: float, y: float) -> bool:
        self._mask = self.target.begin_edit()
        if self._mask is None:
            return True  # taken: a locked frame must not start a pan or a selection
        self._painted = False
        self._last = pixel_centre(x, y)
        self._dab(self._last, self._last)
        return True

    def drag(self, x: float, y: float) -> None:
        if self._last is None:
            return
        point = pixel_centre(x, y)
        if point != self._last:
            self._dab(self._last, point)
            self._last = point

    def release(self, x: float, y: float) -> None:
        self.finish()

    def key(self, word: str) -> bool:
        if not self.takes(word):
            return False
        self._last, self._mask = None, None
        self.target.cancel_edit()
        return True

    def takes(self, word: str) -> bool:
        return word == "cancel" and self._last is not None  # Esc while dragging

    def finish(self) -> None:
        if self._last is not None:
            self._last, self._mask = None, None
            if self._painted:
                self.target.commit("Eraser stroke" if self.erase else "Brush stroke")
            else:  # a stroke wholly off the image: no edit (a user's check: a click in the
                self.target.cancel_edit()  # margin saved the frame as a correction)

    def _dab(self, p0: Point, p1: Point) -> None:
        radius = self.target.brush_size / 2.0
        value = self.target.paint_value(self.erase)
        patch = paint_disc_segment(self._mask, p0, p1, radius, value)
        self._painted = self._painted or patch is not None
        self.target.paint(patch)


class FillTool(Tool):
    """Gives the current class to the 4-connected region under the cursor."""

    def press(self, x: float, y: float) -> bool:
        mask = self.target.begin_edit()
        if mask is not None:
            self.target.paint(flood_fill(mask, pixel_centre(x, y), self.target.paint_value(False)))
            self.target.commit("Fill")
        return True


class PolygonTool(Tool):
    """Clicks add corners; a double-click or Enter fills the closed shape with the current
    class, Esc drops it, Backspace (or Undo) takes back the last corner."""

    def __init__(self, target: EditTarget) -> None:
        super().__init__(target)
        self.points: list[Point] = []

    def press(self, x: float, y: float) -> bool:
        point = pixel_centre(x, y)
        if not self.points or self.points[-1] != point:
            self.points.append(point)
        self.target.polygon_changed(self.points + [point])
        return True

    def hover(self, x: float, y: float) -> None:
        if self.points:
            self.target.polygon_changed(self.points + [pixel_centre(x, y)])

    def double_click(self, x: float, y: float) -> bool:
        self.press(x, y)
        self.close()
        return True

    def key(self, word: str) -> bool:
        if not self.takes(word):
            return False
        if word == "close":
            self.close()
        elif word == "back":
            self.points.pop()
            self.target.polygon_changed(self.points + self.points[-1:])
        else:
            self.finish()
        return True

    def takes(self, word: str) -> bool:
        return word in ("close", "cancel", "back") and bool(self.points)

    def close(self) -> None:
        """Fill the polygon; with fewer than 3 corners its corners are kept, and said so (a
        user's check: Enter on two corners dropped them, saying nothing)."""
        if len(self.points) < 3:
            self.target.say(f"A polygon needs 3 corners; it has {len(self.points)}: click "
                            "more, or Esc drops it")
            return
        mask = self.target.begin_edit()
        if mask is None:  # not editable now (it says why): the corners stay, to close again
            return
        points, self.points = self.points, []
        self.target.polygon_changed([])
        self.target.paint(fill_polygon(mask, points, self.target.paint_value(False)))
        self.target.commit("Polygon")

    def finish(self) -> None:
        self.points = []
        self.target.polygon_changed([])


class PickerTool(Tool):
    """Takes the class of the pixel under the cursor as the current class."""

    def press(self, x: float, y: float) -> bool:
        self.target.pick_class_at(math.floor(x), math.floor(y))
        return True
