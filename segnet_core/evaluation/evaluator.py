"""`SegmentationEvaluator`: the confusion matrix and boundary F1 accumulated over a set of
images."""

from __future__ import annotations

import math

import numpy as np

from segnet_core.evaluation.boundary import BF_TOLERANCE, boundary_f1_checked
from segnet_core.evaluation.checks import as_label_array, check_tolerance, validated_pair
from segnet_core.evaluation.confusion import (ConfusionMatrix, Scores, nan_array,
                                              scores_from_confusion)


class SegmentationEvaluator:
    """Accumulates the confusion matrix and (optionally) boundary F1 over a set of images."""

    def __init__(self, num_classes: int, void_index: int | None, compute_bf: bool = True,
                 tolerance: float = BF_TOLERANCE):
        self.confusion = ConfusionMatrix(num_classes, void_index)
        self.num_classes = self.confusion.num_classes
        self.void_index = self.confusion.void_index
        self.compute_bf = bool(compute_bf)
        check_tolerance(tolerance)
        self.tolerance = float(tolerance)
        self.reset()

    def reset(self) -> None:
        self.confusion.reset()
        self.images = 0
        self.bf_images = 0
        self.bf_sum = 0.0
        self.class_bf_sum = np.zeros(self.num_classes, dtype=np.float64)
        self.class_bf_images = np.zeros(self.num_classes, dtype=np.int64)

    def update(self, prediction, target) -> None:
        """Add one image (H x W) or a batch (N x H x W) of predictions and ground truths."""
        prediction = as_label_array(prediction, "prediction")
        target = as_label_array(target, "ground truth")
        if prediction.shape != target.shape:
            raise ValueError(f"prediction shape {prediction.shape} differs from "
                             f"ground-truth shape {target.shape}")
        if target.ndim == 2:
            prediction, target = prediction[None], target[None]
        elif target.ndim != 3:
            raise ValueError(f"expected an H x W image or an N x H x W batch, "
                             f"not shape {target.shape}")
        # Check everything before counting anything, so a bad batch leaves no trace.
        prediction, target, valid = validated_pair(prediction, target, self.num_classes,
                                                    self.void_index)
        self.confusion.add_checked(prediction, target, valid)
        self.images += target.shape[0]
        if not self.compute_bf:
            return
        for i in range(target.shape[0]):
            score, per_class = boundary_f1_checked(prediction[i], target[i],
                                            None if valid is None else valid[i],
                                            self.num_classes, self.tolerance)
            if math.isnan(score):
                continue
            self.bf_images += 1
            self.bf_sum += score
            for c, value in per_class.items():
                self.class_bf_sum[c] += value
                self.class_bf_images[c] += 1

    def merge(self, other: "SegmentationEvaluator") -> "SegmentationEvaluator":
        """Add another evaluator's counts (e.g. from another process); returns self."""
        self.confusion.merge(other.confusion)
        self.images += other.images
        self.bf_images += other.bf_images
        self.bf_sum += other.bf_sum
        self.class_bf_sum += other.class_bf_sum
        self.class_bf_images += other.class_bf_images
        self.compute_bf = self.compute_bf and other.compute_bf
        return self

    def __iadd__(self, other: "SegmentationEvaluator") -> "SegmentationEvaluator":
        return self.merge(other)

    def result(self) -> Scores:
        scores = scores_from_confusion(self.confusion.matrix)
        if self.compute_bf and self.bf_images:
            scores.bf = self.bf_sum / self.bf_images
            seen = self.class_bf_images > 0
            per_class = nan_array(self.num_classes)
            per_class[seen] = self.class_bf_sum[seen] / self.class_bf_images[seen]
            scores.per_class_bf = per_class
        return scores
