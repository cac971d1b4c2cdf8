"""A prediction written as one PNG, in one of `PREDICTION_FORMATS`:

index       palette PNG of class indices (what `evaluate --predictions` reads)
color       RGB in the label set's colours
overlay     the image blended with the colours
confidence  8-bit grey, 255 = probability 1
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segnet_core.io.masks import write_color_mask, write_index_mask
from segnet_core.labels import LabelSet
from segnet_core.masks.render import overlay_image, write_png

PREDICTION_FORMATS = ("index", "color", "overlay", "confidence")


def confidence_image(confidence: np.ndarray) -> np.ndarray:
    """Confidence in [0, 1] as 8-bit grey (255 = 1)."""
    return np.clip(np.rint(confidence * 255.0), 0, 255).astype(np.uint8)


def write_prediction(path: str | Path, fmt: str, image: np.ndarray, prediction,
                     label_set: LabelSet, alpha: float) -> None:
    """Write `prediction` (labels and confidence) of `image` to `path` (a .png) in format
    `fmt`, atomically; `alpha` is the colours' weight in an overlay."""
    path = Path(path)
    if fmt == "index":
        write_index_mask(path, prediction.labels, label_set)
    elif fmt == "color":
        write_color_mask(path, prediction.labels, label_set)
    elif fmt == "overlay":
        write_png(path, overlay_image(image, prediction.labels, label_set, alpha))
    elif fmt == "confidence":
        write_png(path, confidence_image(prediction.confidence))
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(PREDICTION_FORMATS)}")
