"""One open frame: its image, the model's prediction for it and its label mask (with the
undo history, in `FrameLabels`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segnet_core.labels import LabelSet
from segnet_core.inference import Prediction

from app.editing.frame_labels import FrameLabels
from app.frames import FrameRef


@dataclass
class FrameDocument:
    key: FrameRef
    image: np.ndarray  # HxWx3 uint8 RGB
    prediction: Prediction | None = None
    labels: FrameLabels | None = None
    #: the model could not segment it (said in Problems): no prediction is on its way
    prediction_failed: bool = False

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[0]), int(self.image.shape[1])

    @property
    def shows_labels(self) -> bool:
        """Whether the frame shows its label mask (else the prediction, if any)."""
        return self.labels is not None and self.labels.started

    def shown_labels(self) -> np.ndarray | None:
        """The class indices on screen: the label mask once started, else the prediction's."""
        if self.shows_labels:
            return self.labels.mask
        return None if self.prediction is None else self.prediction.labels

    def readout(self, x: int, y: int, label_set: LabelSet) -> str:
        """'x, y: class, confidence' for pixel (x, y), or its RGB value when nothing is
        labelled; '' outside the image."""
        height, width = self.size
        if not (0 <= x < width and 0 <= y < height):
            return ""
        where = f"x {x}, y {y}"
        shown = self.shown_labels()
        if shown is None:
            r, g, b = (int(v) for v in self.image[y, x])
            return f"{where}: RGB {r} {g} {b}"
        text = f"{where}: {_class_name(int(shown[y, x]), label_set)}"
        if self.shows_labels:
            text += " (label)"
        if self.prediction is not None:
            confidence = float(self.prediction.confidence[y, x])
            if self.shows_labels:
                model = _class_name(int(self.prediction.labels[y, x]), label_set)
                text += f"; model: {model}"
            text += f", confidence {100 * confidence:.0f} %"
        return text


def _class_name(index: int, label_set: LabelSet) -> str:
    if index < label_set.num_classes:
        return label_set.names[index]
    return "void" if index == label_set.void_index else f"class {index}"
