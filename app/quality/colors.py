"""Colours of estimated accuracy: warm (red, orange) for low, cool (blue) for high."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from app.canvas.qimage import array_to_qimage

#: (estimated accuracy, RGB) stops, interpolated between; below the first and above the last
#: the end colours hold. Street-scene models mostly land between 60 and 95 %.
STOPS = ((0.5, (215, 48, 39)), (0.65, (252, 141, 89)), (0.8, (254, 224, 144)),
         (0.9, (145, 191, 219)), (1.0, (69, 117, 180)))


def accuracy_rgba(values: np.ndarray) -> np.ndarray:
    """Nx4 uint8 colours of N estimates (0..1); NaN (no estimate) is transparent."""
    values = np.asarray(values, dtype=np.float64)
    points = np.array([stop for stop, _ in STOPS])
    colours = np.array([rgb for _, rgb in STOPS], dtype=np.float64)
    known = np.isfinite(values)
    filled = np.where(known, values, points[0])
    rgba = np.zeros((len(values), 4), np.uint8)
    for channel in range(3):
        rgba[:, channel] = np.rint(np.interp(filled, points, colours[:, channel]))
    rgba[:, 3] = np.where(known, 255, 0)
    return rgba


def strip_image(values: np.ndarray) -> QImage:
    """A one-pixel-high image, one column per estimate, for the timeline's strip."""
    return array_to_qimage(accuracy_rgba(values)[np.newaxis])


def strip_tip(values: np.ndarray, index: int, unreadable: bool = False) -> str:
    """What the strip says over frame `index` (from 0) of a video whose estimates by frame
    are `values` (NaN: none yet), with what its colours mean."""
    value = values[index] if 0 <= index < len(values) else np.nan
    what = "cannot be read" if unreadable else "not estimated yet" if not np.isfinite(value) \
        else f"estimated accuracy {100 * value:.0f} %"
    return (f"Frame {index + 1}: {what}\n(the strip: red {100 * STOPS[0][0]:.0f} % or less, "
            f"yellow {100 * STOPS[2][0]:.0f} %, blue {100 * STOPS[-1][0]:.0f} %)")
