"""The training curves as a PNG: loss and validation mIoU per epoch, drawn with OpenCV."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from segnet_core.atomic import atomic_write_bytes

PANEL = (320, 440)  # height, width of one panel
MARGIN = 48


def _panel(title: str, xs: Sequence[float], ys: Sequence[float], color: tuple[int, int, int],
           y_range: tuple[float, float] | None = None) -> np.ndarray:
    height, width = PANEL
    canvas = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(canvas, title, (MARGIN, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1,
                cv2.LINE_AA)
    left, right, top, bottom = MARGIN, width - 16, 36, height - 36
    cv2.rectangle(canvas, (left, top), (right, bottom), (0, 0, 0), 1)
    points = [(x, y) for x, y in zip(xs, ys) if math.isfinite(y)]
    if not points:
        return canvas
    x_low, x_high = min(p[0] for p in points), max(p[0] for p in points)
    if y_range is None:
        y_low, y_high = min(p[1] for p in points), max(p[1] for p in points)
    else:
        y_low, y_high = y_range
    x_high = x_high if x_high > x_low else x_low + 1
    y_high = y_high if y_high > y_low else y_low + 1

    def to_pixel(x: float, y: float) -> tuple[int, int]:
        px = left + (x - x_low) / (x_high - x_low) * (right - left)
        py = bottom - (y - y_low) / (y_high - y_low) * (bottom - top)
        return int(round(px)), int(round(py))

    for fraction in (0.0, 0.5, 1.0):
        value = y_low + fraction * (y_high - y_low)
        _, py = to_pixel(x_low, value)
        cv2.putText(canvas, f"{value:.3g}", (4, py + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                    (80, 80, 80), 1, cv2.LINE_AA)
    for value in (x_low, x_high):
        px, _ = to_pixel(value, y_low)
        cv2.putText(canvas, f"{value:g}", (px - 8, bottom + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                    (80, 80, 80), 1, cv2.LINE_AA)
    cv2.putText(canvas, "epoch", ((left + right) // 2 - 16, height - 6),
                cv2.FONT_HERSHEY_SIMPLEX, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    pixels = np.array([to_pixel(x, y) for x, y in points], np.int32)
    cv2.polylines(canvas, [pixels], False, color, 2, cv2.LINE_AA)
    for px, py in pixels:
        cv2.circle(canvas, (int(px), int(py)), 3, color, -1, cv2.LINE_AA)
    return canvas


def write_training_plot(path: str | Path, history: Sequence) -> None:
    """Write `curves.png`: training loss and validation mIoU (percent) against epoch."""
    epochs = [r.epoch for r in history]
    loss = _panel("training loss", epochs, [r.train_loss for r in history], (200, 80, 0))
    miou = _panel("validation mIoU (%)", epochs, [100 * r.miou for r in history], (0, 140, 0))
    image = np.concatenate([loss, miou], axis=1)
    ok, encoded = cv2.imencode(".png", image[:, :, ::-1])
    if ok:
        atomic_write_bytes(path, encoded.tobytes())
