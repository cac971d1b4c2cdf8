"""Overlay images from predictions: pure numpy, no Qt.

Every function returns a new HxWx4 uint8 RGBA array; alpha 0 means "draw nothing here".
The overlay's opacity is applied when drawing, not baked in.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from segnet_core.labels import LabelSet


def shown_classes(num_classes: int, visible: Sequence[bool] | None = None,
                  solo: int | None = None) -> np.ndarray:
    """A bool vector of the classes drawn: only `solo` when given, else the visible ones."""
    shown = np.ones(num_classes, dtype=bool) if visible is None else np.array(visible, bool)
    if shown.shape != (num_classes,):
        raise ValueError(f"visibility has {shown.size} entries for {num_classes} classes")
    if solo is not None:
        if not 0 <= solo < num_classes:
            raise ValueError(f"solo class {solo} is not in 0..{num_classes - 1}")
        shown = np.zeros(num_classes, dtype=bool)
        shown[solo] = True
    return shown


def label_rgba(labels: np.ndarray, label_set: LabelSet, visible: Sequence[bool] | None = None,
               solo: int | None = None) -> np.ndarray:
    """Class colours where a shown class is predicted; transparent for hidden classes,
    void and any value that is not a class."""
    k = label_set.num_classes
    table = np.zeros((256, 4), dtype=np.uint8)
    table[:k, :3] = np.asarray(label_set.colors, dtype=np.uint8)
    table[:k, 3] = np.where(shown_classes(k, visible, solo), 255, 0)
    # Each RGBA row read as one 32-bit word: a flat `take` is ~15x faster than indexing
    # the (256, 4) table by rows (0.7 vs 11 ms at 1280x720), and the bytes come back as-is.
    labels = np.asarray(labels, dtype=np.uint8)
    words = table.view(np.uint32).ravel().take(labels)
    return words.view(np.uint8).reshape(*labels.shape, 4)


def uncertainty(confidence: np.ndarray, num_classes: int) -> np.ndarray:
    """0 where the model is sure (max probability 1), 1 where it cannot tell the classes
    apart (max probability 1/K), as float32."""
    floor = 1.0 / max(1, num_classes)
    span = max(1e-6, 1.0 - floor)
    return np.clip((1.0 - confidence.astype(np.float32)) / span, 0.0, 1.0)


def confidence_rgba(confidence: np.ndarray, num_classes: int,
                    colormap: int = cv2.COLORMAP_INFERNO) -> np.ndarray:
    """A heat map of how unsure the model is: dark where sure, bright where unsure."""
    level = np.round(uncertainty(confidence, num_classes) * 255).astype(np.uint8)
    bgr = cv2.applyColorMap(level, colormap)
    rgba = np.empty((*level.shape, 4), dtype=np.uint8)
    rgba[..., :3] = bgr[..., ::-1]
    rgba[..., 3] = 255
    return rgba


def class_shares(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """The fraction of all pixels predicted as each class, float64 of length K."""
    labels = np.asarray(labels, dtype=np.uint8)
    counts = np.bincount(labels.ravel(), minlength=256)[:num_classes]
    return counts / max(1, labels.size)
