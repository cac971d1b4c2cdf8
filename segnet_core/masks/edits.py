"""Edits of an index mask that can be undone: each returns a `Patch`, the changed pixels'
bounding box with their old and new values, and leaves the mask itself alone.

Apply a patch with `patch.apply(mask)` and undo it with `patch.revert(mask)`. A patch is as
small as its change: rows and columns without a changed pixel are cropped away, and an edit
that changes nothing returns None. `merge_patches` folds the patches of one mouse drag into
one, so one stroke is one undo step.

Points are (x, y) in pixel units where pixel (row r, column c) has its centre at (c, r).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

Point = tuple[float, float]


@dataclass(frozen=True, eq=False)
class Patch:
    """Rows y0.. and columns x0.. of a mask held `old` before the edit and `new` after it."""

    y0: int
    x0: int
    old: np.ndarray
    new: np.ndarray

    def __post_init__(self) -> None:
        if self.old.shape != self.new.shape or self.old.ndim != 2:
            raise ValueError(f"old {self.old.shape} and new {self.new.shape} must be the same "
                             "2-D shape")

    @property
    def height(self) -> int:
        return int(self.old.shape[0])

    @property
    def width(self) -> int:
        return int(self.old.shape[1])

    @property
    def region(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y0 + self.height), slice(self.x0, self.x0 + self.width)

    @property
    def nbytes(self) -> int:
        return int(self.old.nbytes + self.new.nbytes)

    def apply(self, mask: np.ndarray) -> None:
        mask[self.region] = self.new

    def revert(self, mask: np.ndarray) -> None:
        mask[self.region] = self.old


def changed_patch(y0: int, x0: int, old: np.ndarray, new: np.ndarray) -> Patch | None:
    """The patch of the pixels where `new` differs from `old` (both the block of the mask at
    row y0, column x0), cropped to their bounding box; None when nothing differs."""
    diff = old != new
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff.any(axis=0))
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return Patch(y0 + r0, x0 + c0, np.array(old[r0:r1, c0:c1]), np.array(new[r0:r1, c0:c1]))


def _check_mask(mask: np.ndarray) -> None:
    if not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"expected an HxW uint8 mask, got {getattr(mask, 'shape', None)} "
                         f"{getattr(mask, 'dtype', type(mask).__name__)}")


def paint_disc_segment(mask: np.ndarray, p0: Point, p1: Point, radius: float,
                       value: int) -> Patch | None:
    """Paint `value` on every pixel whose centre lies within `radius` of the segment p0-p1:
    a brush dragged from p0 to p1 (p0 == p1 is one dab). The eraser paints void."""
    _check_mask(mask)
    height, width = mask.shape
    (ax, ay), (bx, by) = (float(p0[0]), float(p0[1])), (float(p1[0]), float(p1[1]))
    radius = max(0.0, float(radius))
    x0 = max(0, int(np.ceil(min(ax, bx) - radius)))
    x1 = min(width, int(np.floor(max(ax, bx) + radius)) + 1)
    y0 = max(0, int(np.ceil(min(ay, by) - radius)))
    y1 = min(height, int(np.floor(max(ay, by) + radius)) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    xs = np.arange(x0, x1, dtype=np.float64)[None, :]
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0.0, 1.0)
        px, py = xs - (ax + t * dx), ys - (ay + t * dy)
    else:
        px, py = xs - ax, ys - ay
    inside = px * px + py * py <= radius * radius + 1e-9
    old = mask[y0:y1, x0:x1]
    return changed_patch(y0, x0, old, np.where(inside, np.uint8(value), old))


def flood_fill(mask: np.ndarray, point: Point, value: int) -> Patch | None:
    """Give `value` to the 4-connected region of the label under `point`."""
    _check_mask(mask)
    height, width = mask.shape
    x, y = int(np.floor(point[0] + 0.5)), int(np.floor(point[1] + 0.5))
    if not (0 <= x < width and 0 <= y < height) or mask[y, x] == value:
        return None
    region = np.zeros((height + 2, width + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    _, _, _, (rx, ry, rw, rh) = cv2.floodFill(mask, region, (x, y), 0, 0, 0, flags)
    inside = region[ry + 1:ry + 1 + rh, rx + 1:rx + 1 + rw].astype(bool)
    old = mask[ry:ry + rh, rx:rx + rw]
    return changed_patch(ry, rx, old, np.where(inside, np.uint8(value), old))


def fill_polygon(mask: np.ndarray, points: Sequence[Point], value: int) -> Patch | None:
    """Give `value` to the pixels inside the closed polygon through `points` (its edges
    included, as OpenCV rasterises them); vertices are rounded to whole pixels."""
    _check_mask(mask)
    if len(points) < 3:
        return None
    height, width = mask.shape
    vertices = np.round(np.asarray(points, dtype=np.float64)).astype(np.int64)
    x0, y0 = (max(0, int(v)) for v in vertices.min(axis=0))
    x1 = min(width, int(vertices[:, 0].max()) + 1)
    y1 = min(height, int(vertices[:, 1].max()) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    local = (vertices - (x0, y0)).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(inside, [local], 1)
    old = mask[y0:y1, x0:x1]
    return changed_patch(y0, x0, old, np.where(inside.astype(bool), np.uint8(value), old))


def keep_confident(mask: np.ndarray, prediction_labels: np.ndarray, confidence: np.ndarray,
                   threshold: float) -> Patch | None:
    """Take the prediction where its confidence is above `threshold`; keep the mask elsewhere."""
    _check_mask(mask)
    if prediction_labels.shape != mask.shape or confidence.shape != mask.shape:
        raise ValueError(f"prediction {prediction_labels.shape} and confidence "
                         f"{confidence.shape} must match the mask {mask.shape}")
    new = np.where(confidence > threshold, prediction_labels.astype(np.uint8), mask)
    return changed_patch(0, 0, mask, new)


def replace_class(mask: np.ndarray, a: int, b: int) -> Patch | None:
    """Give every pixel of class `a` the class `b`."""
    _check_mask(mask)
    return changed_patch(0, 0, mask, np.where(mask == a, np.uint8(b), mask))


def replace_mask(mask: np.ndarray, values: np.ndarray) -> Patch | None:
    """Replace the whole mask by `values` (e.g. accept the model's prediction)."""
    _check_mask(mask)
    if values.shape != mask.shape:
        raise ValueError(f"values {values.shape} must match the mask {mask.shape}")
    return changed_patch(0, 0, mask, values.astype(np.uint8, copy=False))


def merge_patches(patches: Sequence[Patch], mask: np.ndarray) -> Patch | None:
    """One patch equal to applying `patches` in order, given `mask` as it is after them.

    The merged patch covers the union of their boxes: its new values are read from `mask`,
    its old values by reverting the patches, last first, over a copy. None when the pixels
    end as they started.
    """
    if not patches:
        return None
    y0 = min(p.y0 for p in patches)
    x0 = min(p.x0 for p in patches)
    y1 = max(p.y0 + p.height for p in patches)
    x1 = max(p.x0 + p.width for p in patches)
    new = mask[y0:y1, x0:x1]
    old = np.array(new)
    for patch in reversed(patches):
        old[patch.y0 - y0:patch.y0 - y0 + patch.height,
            patch.x0 - x0:patch.x0 - x0 + patch.width] = patch.old
    return changed_patch(y0, x0, old, new)
