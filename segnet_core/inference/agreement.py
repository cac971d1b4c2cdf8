"""Scale agreement: how well a frame's labels hold when the model sees the frame smaller or
larger.

The model is run again on the frame at `AGREEMENT_SCALES` of its input size; the share of the
frame's pixels that keep their label there is the frame's scale agreement (1 = the same
labels at every scale). Frames the model reads the same way at several scales are the ones it
tends to be right on: on CamVid drives a model was not trained on, mean confidence times
scale agreement ranked the frames by their real accuracy better than mean confidence alone
for each of six held-out models (docs/training.md, "Scale agreement"). An
`AccuracyCalibration` on that feature asks for it (`uses_scale_agreement`);
`estimated_accuracy` runs the extra passes only then, and `warm_up_scales` readies them when
a model is loaded.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from segnet_core.inference.images import Prediction, Size
from segnet_core.quality import AccuracyCalibration

#: The scales the frame is seen at again (fractions of the model's input size): a little
#: smaller and a little larger, chosen before measuring (0.56 and 1.77 of a pass: 2.3 more
#: passes a frame). Sets tuned on two held-out CamVid drives did not carry to the third
#: (docs/training.md, "Scale agreement").
AGREEMENT_SCALES = (0.75, 1.33)


def scaled_size(size: Size, scale: float) -> Size:
    """`size` (H, W) times `scale`, each side rounded to a multiple of 8 (at least 8)."""
    return tuple(max(8, int(round(side * scale / 8)) * 8) for side in size)  # type: ignore


def scale_agreement(predictor, image: np.ndarray, labels: np.ndarray,
                    scales: Sequence[float] = AGREEMENT_SCALES) -> float:
    """The mean, over `scales`, of the share of pixels whose label from `predictor` (a
    `segnet_core.inference.Predictor`) run at that scale of its input size (of the image's
    own size for a model without one) equals `labels`, the frame's prediction (HxW, at the
    image's size)."""
    base = predictor.input_size or image.shape[:2]
    shares = []
    for scale in scales:
        other = predictor.predict_at(image, scaled_size(base, scale)).labels
        if other.shape != labels.shape:
            raise ValueError(f"labels of {labels.shape} for an image of {other.shape}")
        shares.append(float(np.count_nonzero(other == labels)) / max(1, labels.size))
    return float(np.mean(shares))


def warm_up_scales(predictor, scales: Sequence[float] = AGREEMENT_SCALES) -> float:
    """One pass at each of `scales` of the input size on a blank image, so the first frame
    estimated does not pay for the new shapes (on a 2-core CPU about half a second each for
    the shipped model); nothing for a model without a fixed input size (its shapes follow
    each image). Seconds it took."""
    if not predictor.input_size:
        return 0.0
    started = time.perf_counter()
    blank = np.zeros((*predictor.input_size, 3), np.uint8)
    for scale in scales:
        predictor.predict_at(blank, scaled_size(predictor.input_size, scale))
    return time.perf_counter() - started


def estimated_accuracy(calibration: AccuracyCalibration, predictor, image: np.ndarray,
                       prediction: Prediction) -> float:
    """The frame's estimated pixel accuracy by `calibration`, with its `scale_agreement`
    (the extra passes) when the calibration uses it."""
    return accuracy_from_summary(calibration, predictor, image, prediction.labels,
                                 calibration.summary_of_prediction(prediction))


def accuracy_from_summary(calibration: AccuracyCalibration, predictor, image: np.ndarray,
                          labels: np.ndarray, summary: float) -> float:
    """`estimated_accuracy` from the frame's labels and the `summary_of_prediction` of it,
    kept from when it was segmented (Segment all shows every frame's labels before it runs
    the estimates' extra passes)."""
    agreement = (scale_agreement(predictor, image, labels)
                 if calibration.uses_scale_agreement else None)
    return calibration.estimate_from_summary(summary, labels, agreement)
