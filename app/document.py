"""One open frame: its image and the model's prediction for it (the editable mask and its
undo stack arrive with the editing work)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segnet_core.labels import LabelSet
from segnet_core.predict import Prediction

from app.frames import FrameRef


@dataclass
class FrameDocument:
    key: FrameRef
    image: np.ndarray  # HxWx3 uint8 RGB
    prediction: Prediction | None = None

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[0]), int(self.image.shape[1])

    def readout(self, x: int, y: int, label_set: LabelSet) -> str:
        """'x, y: class, confidence' for pixel (x, y), or its RGB value before a prediction;
        '' outside the image."""
        height, width = self.size
        if not (0 <= x < width and 0 <= y < height):
            return ""
        where = f"x {x}, y {y}"
        if self.prediction is None:
            r, g, b = (int(v) for v in self.image[y, x])
            return f"{where}: RGB {r} {g} {b}"
        index = int(self.prediction.labels[y, x])
        name = label_set.names[index] if index < label_set.num_classes else f"class {index}"
        confidence = float(self.prediction.confidence[y, x])
        return f"{where}: {name}, confidence {100 * confidence:.0f} %"
