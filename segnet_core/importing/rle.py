"""COCO segmentations as pixels: run-length encodings (uncompressed and compressed) and
polygons, each decoded to an HxW boolean mask.

* Uncompressed RLE, ``{"counts": [n0, n1, ...], "size": [h, w]}``: run lengths over the
  pixels read column by column (Fortran order), alternating unset and set, starting with the
  unset run (0 when the first pixel is set). A missing trailing run of unset pixels is
  allowed; counts adding up to more than h*w are not.
* Compressed RLE, the same counts written as a string (as ``pycocotools.mask.encode``
  writes them): each count is a signed number stored little end first in 5-bit groups, one
  character per group (``chr(48 + group)``, with bit 0x20 set on every group but the last
  and bit 0x10 of the last group the sign); from the fourth count on, a number is the
  difference to the count two places before it.
* Polygons, ``[[x0, y0, x1, y1, ...], ...]`` in pixel coordinates where pixel (col, row)
  covers the square [col, col+1) x [row, row+1): a pixel belongs to a polygon when its centre
  lies inside it (even-odd rule); an annotation with several polygons covers their union.
  pycocotools quantizes outlines to a fifth of a pixel first, so the two readings can
  differ on pixels whose centre lies right on an outline.

Every decoder raises ValueError saying what is wrong; callers add the file's name.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

_GROUP_BITS = 5
_MORE = 0x20
_SIGN = 0x10
_OFFSET = 48
#: How far outside the image a polygon's point may lie, in image sizes (the longer side):
#: tools leave points a little outside; much farther is refused.
FAR_OUTSIDE = 100
#: Most polygon edges times rows handled at once (bounds the memory of one step).
_CHUNK = 1 << 21


def counts_from_string(text: str | bytes) -> list[int]:
    """The run lengths a compressed RLE string holds."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    counts: list[int] = []
    value = shift = 0
    for position, char in enumerate(text):
        group = ord(char) - _OFFSET
        if not 0 <= group < 64:
            raise ValueError(f"RLE string: character {char!r} at position {position} is not "
                             "an RLE character")
        value |= (group & 0x1F) << shift
        shift += _GROUP_BITS
        if group & _MORE:
            continue
        if group & _SIGN:
            value -= 1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
        value = shift = 0
    if shift:
        raise ValueError("RLE string ends inside a number (truncated)")
    return counts


def decode_counts(counts: Sequence[int], height: int, width: int) -> np.ndarray:
    """The HxW boolean mask of COCO run lengths (column-major, unset run first)."""
    runs = np.asarray(counts, dtype=np.int64)
    if runs.ndim != 1:
        raise ValueError("RLE counts must be a flat list of numbers")
    if runs.size and runs.min() < 0:
        raise ValueError(f"RLE count {int(runs.min())} is negative")
    total = int(runs.sum())
    if total > height * width:
        raise ValueError(f"RLE counts cover {total} pixels but the mask has only "
                         f"{height}x{width} = {height * width}")
    flat = np.repeat(np.arange(runs.size) % 2 == 1, runs)
    flat = np.concatenate((flat, np.zeros(height * width - total, dtype=bool)))
    return np.ascontiguousarray(flat.reshape(width, height).T)


def _size(segmentation: dict[str, Any]) -> tuple[int, int]:
    size = segmentation.get("size")
    if (not isinstance(size, (list, tuple)) or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
        raise ValueError(f"RLE 'size' must be [height, width] (positive integers), got {size!r}")
    return int(size[0]), int(size[1])


def decode_rle(segmentation: dict[str, Any]) -> np.ndarray:
    """The mask of an RLE segmentation, compressed (string counts) or not (list counts)."""
    height, width = _size(segmentation)
    counts = segmentation.get("counts")
    if isinstance(counts, (str, bytes)):
        return decode_counts(counts_from_string(counts), height, width)
    if isinstance(counts, list) and all(isinstance(c, int) and not isinstance(c, bool)
                                        for c in counts):
        return decode_counts(counts, height, width)
    raise ValueError("RLE 'counts' must be a string (compressed) or a list of integers")


def _points(polygon: Any) -> np.ndarray:
    try:
        values = np.asarray(polygon, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("a polygon must be a list of numbers x0, y0, x1, y1, ...") from None
    if values.ndim != 1 or values.size % 2 or values.size < 6:
        raise ValueError(f"a polygon needs at least 3 points given as x, y numbers, got "
                         f"{values.size} number(s)")
    if not np.isfinite(values).all():
        raise ValueError("a polygon holds a number that is not finite")
    return values.reshape(-1, 2)


def _fill_polygon(mask: np.ndarray, points: np.ndarray) -> None:
    """Set the pixels of `mask` whose centre lies inside the polygon (even-odd rule)."""
    height, width = mask.shape
    x0, y0 = points[:, 0], points[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    first = max(0, int(np.floor(y0.min() - 0.5)))
    last = min(height, int(np.ceil(y0.max() + 0.5)) + 1)
    step = max(1, _CHUNK // points.shape[0])
    for top in range(first, last, step):
        centres = np.arange(top, min(last, top + step), dtype=np.float64)[:, None] + 0.5
        crosses = (y0 <= centres) != (y1 <= centres)  # rows x edges, half-open in y
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = x0 + (centres - y0) * (x1 - x0) / (y1 - y0)
        xs = np.sort(np.where(crosses, xs, np.inf), axis=1)
        pairs = int(crosses.sum(axis=1).max()) // 2
        if pairs == 0:
            continue
        # a pixel column c is inside between two crossings a <= c + 0.5 < b
        starts = np.clip(np.ceil(xs[:, 0:2 * pairs:2] - 0.5), 0, width).astype(np.int64)
        ends = np.clip(np.ceil(xs[:, 1:2 * pairs:2] - 0.5), 0, width).astype(np.int64)
        rows = np.broadcast_to(np.arange(centres.shape[0])[:, None], starts.shape)
        edges = np.zeros((centres.shape[0], width + 1), dtype=np.int32)
        np.add.at(edges, (rows, starts), 1)
        np.add.at(edges, (rows, ends), -1)
        mask[top:top + centres.shape[0]] |= np.cumsum(edges[:, :width], axis=1) > 0


def _check_near(points: np.ndarray, height: int, width: int) -> None:
    """Refuse a polygon with a point more than `FAR_OUTSIDE` image sizes outside the image:
    no outline of this image (and 1e300 would overflow the fill)."""
    limit = FAR_OUTSIDE * max(height, width)
    far = ((points < -limit) | (points > limit + np.array([width, height]))).any(axis=1)
    if far.any():
        x, y = points[int(np.argmax(far))]
        raise ValueError(f"a polygon point ({x:g}, {y:g}) lies far outside the {height}x{width} "
                         f"(height x width) image (more than {FAR_OUTSIDE} times its size)")


def decode_polygons(polygons: Sequence[Any], height: int, width: int) -> np.ndarray:
    """The HxW boolean mask covered by COCO polygons (their union); ValueError for a polygon
    with a point far outside the image (`FAR_OUTSIDE`)."""
    mask = np.zeros((height, width), dtype=bool)
    for polygon in polygons:
        points = _points(polygon)
        _check_near(points, height, width)
        _fill_polygon(mask, points)
    return mask


def decode_segmentation(segmentation: Any, height: int, width: int) -> np.ndarray:
    """The HxW boolean mask of a COCO ``segmentation`` (polygon list or RLE dict); an RLE
    whose size differs from (height, width) is an error."""
    if isinstance(segmentation, dict):
        size = _size(segmentation)
        if size != (height, width):
            raise ValueError(f"RLE size {size[0]}x{size[1]} differs from the image's "
                             f"{height}x{width} (height x width)")
        return decode_rle(segmentation)
    if isinstance(segmentation, list):
        return decode_polygons(segmentation, height, width)
    raise ValueError("'segmentation' must be a list of polygons or an RLE object")
