"""Colours of estimated accuracy: warm (red, orange) for low, cool (blue) for high. The
timeline's strip runs them over the video's own range of estimates (`strip_range`), so that
a video the model gets 87-92 % right still shows where it does worst: on the fixed scale
both ends were pale blue."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from app.canvas.qimage import array_to_qimage

#: (estimated accuracy, RGB) stops, interpolated between; below the first and above the last
#: the end colours hold. Street-scene models mostly land between 60 and 95 %.
STOPS = ((0.5, (215, 48, 39)), (0.65, (252, 141, 89)), (0.8, (254, 224, 144)),
         (0.9, (145, 191, 219)), (1.0, (69, 117, 180)))
#: The strip's red and blue ends: these percentiles of the video's estimates, at least
#: `MIN_SPAN` apart (a video whose frames differ by a point or two looks even, yellow)
LOW_PERCENTILE, HIGH_PERCENTILE, MIN_SPAN = 5.0, 95.0, 0.10


def accuracy_rgba(values: np.ndarray, low: float = STOPS[0][0],
                  high: float = STOPS[-1][0]) -> np.ndarray:
    """Nx4 uint8 colours of N estimates (0..1), the stops spread from `low` (red) to `high`
    (blue) in their proportions; NaN (no estimate) is transparent."""
    values = np.asarray(values, dtype=np.float64)
    first, last = STOPS[0][0], STOPS[-1][0]
    points = np.array([low + (stop - first) / (last - first) * (high - low)
                       for stop, _ in STOPS])
    colours = np.array([rgb for _, rgb in STOPS], dtype=np.float64)
    known = np.isfinite(values)
    filled = np.where(known, values, points[0])
    rgba = np.zeros((len(values), 4), np.uint8)
    for channel in range(3):
        rgba[:, channel] = np.rint(np.interp(filled, points, colours[:, channel]))
    rgba[:, 3] = np.where(known, 255, 0)
    return rgba


def strip_range(values: np.ndarray) -> tuple[float, float]:
    """The estimates the strip colours red and blue: the video's `LOW_PERCENTILE` and
    `HIGH_PERCENTILE`; closer than `MIN_SPAN`, that far apart with the median frame yellow
    (kept within 0..1); the fixed scale's ends when there is no estimate yet."""
    known = np.asarray(values, dtype=np.float64)
    known = known[np.isfinite(known)]
    if not known.size:
        return STOPS[0][0], STOPS[-1][0]
    low, high = (float(v) for v in np.percentile(known, [LOW_PERCENTILE, HIGH_PERCENTILE]))
    if high - low < MIN_SPAN:  # the median frame yellow, the middle of the scale
        low = float(np.median(known)) - _yellow_share() * MIN_SPAN
        low = min(max(low, 0.0), 1.0 - MIN_SPAN)
        high = low + MIN_SPAN
    return low, high


def _yellow_share() -> float:
    """Where yellow, the scale's middle colour, lies between its red and blue ends (0..1)."""
    first, last = STOPS[0][0], STOPS[-1][0]
    return (STOPS[2][0] - first) / (last - first)


def strip_image(values: np.ndarray) -> QImage:
    """A one-pixel-high image, one column per estimate, for the timeline's strip."""
    return array_to_qimage(accuracy_rgba(values, *strip_range(values))[np.newaxis])


def strip_tip(values: np.ndarray, index: int, unreadable: bool = False,
              trained: bool = False, labels: str = "") -> str:
    """What the strip says over frame `index` (from 0) of a video whose estimates by frame
    are `values` (NaN: none yet, or none shown: the model was `trained` on the frame), with
    `labels` (what its labels are: "corrected: model 72 % right"...), and what the colours
    mean for this video."""
    value = values[index] if 0 <= index < len(values) else np.nan
    what = "cannot be read" if unreadable else \
        "the model was trained on it (no colour: its estimate says little)" if trained else \
        "not estimated yet" if not np.isfinite(value) else \
        f"estimated accuracy {100 * value:.0f} %"
    low, high = strip_range(values)
    yellow = low + _yellow_share() * (high - low)
    if labels:
        what = f"{what}; {labels}"
    return (f"Frame {index + 1}: {what}\n(the strip, over this video's estimates: red "
            f"{100 * low:.0f} % or less, yellow {100 * yellow:.0f} %, blue {100 * high:.0f} % "
            f"or more)")
