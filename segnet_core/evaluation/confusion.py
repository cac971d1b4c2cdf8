"""The confusion matrix of a set of images and the scores read from it (G, C, mIoU and the
per-class values; conventions: `segnet_core.evaluation`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from segnet_core.evaluation.checks import check_class_setup, validated_pair


class ConfusionMatrix:
    """A K x K pixel count matrix: rows are ground truth, columns are prediction.

    Pixels whose ground truth is `void_index` are dropped. `void_index` must lie outside the
    class range (CamVid: 11 with K = 11), or be None when there is no void label.
    """

    def __init__(self, num_classes: int, void_index: int | None = None):
        check_class_setup(num_classes, void_index)
        self.num_classes = int(num_classes)
        self.void_index = None if void_index is None else int(void_index)
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, prediction, target) -> None:
        """Count one image or a batch (any shape, both the same, integer dtype)."""
        prediction, target, valid = validated_pair(prediction, target, self.num_classes,
                                                    self.void_index)
        self.add_checked(prediction, target, valid)

    def add_checked(self, prediction: np.ndarray, target: np.ndarray,
                    valid: np.ndarray | None) -> None:
        """Count a pair `validated_pair` has checked; `valid` is its non-void map or None."""
        if valid is None:
            p, t = prediction.ravel(), target.ravel()
        else:
            p, t = prediction[valid], target[valid]
        if t.size == 0:
            return
        k = self.num_classes
        index = t.astype(np.intp) * k + p.astype(np.intp)
        self.matrix += np.bincount(index, minlength=k * k).reshape(k, k)

    def merge(self, other: "ConfusionMatrix") -> "ConfusionMatrix":
        """Add another matrix's counts (same classes and void) into this one; returns self."""
        if not isinstance(other, ConfusionMatrix):
            raise TypeError(f"cannot merge a {type(other).__name__} into a ConfusionMatrix")
        if other.num_classes != self.num_classes or other.void_index != self.void_index:
            raise ValueError(f"cannot merge a confusion matrix of {other.num_classes} classes "
                             f"(void {other.void_index}) into one of {self.num_classes} "
                             f"(void {self.void_index})")
        self.matrix += other.matrix
        return self

    def __iadd__(self, other: "ConfusionMatrix") -> "ConfusionMatrix":
        return self.merge(other)

    def reset(self) -> None:
        self.matrix[...] = 0

    @property
    def total(self) -> int:
        return int(self.matrix.sum())

    def scores(self) -> "Scores":
        return scores_from_confusion(self.matrix)

    def __repr__(self) -> str:
        return (f"ConfusionMatrix(num_classes={self.num_classes}, void_index={self.void_index}, "
                f"total={self.total})")


def nan_array(n: int) -> np.ndarray:
    return np.full(n, np.nan, dtype=np.float64)


@dataclass
class Scores:
    """Scores as fractions in [0, 1]; nan marks what is undefined or not computed.

    per_class_accuracy is nan where the class never occurs in the ground truth; per_class_iou
    is nan where it occurs in neither ground truth nor prediction (then `present` is False).
    bf / per_class_bf are filled by `SegmentationEvaluator` and are nan when BF was not
    computed (per_class_bf also where the class was in no image's ground truth).
    """

    global_accuracy: float
    class_accuracy: float
    miou: float
    per_class_accuracy: np.ndarray
    per_class_iou: np.ndarray
    present: np.ndarray
    bf: float = math.nan
    per_class_bf: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        if self.per_class_bf is None:
            self.per_class_bf = nan_array(len(self.present))

    @property
    def num_classes(self) -> int:
        return len(self.present)


def scores_from_confusion(matrix) -> Scores:
    """G, C, mIoU and the per-class values of a K x K confusion matrix (rows = ground truth)."""
    if isinstance(matrix, ConfusionMatrix):
        matrix = matrix.matrix
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"a confusion matrix must be square, not of shape {m.shape}")
    k = m.shape[0]
    true_positive = np.diag(m)
    in_truth = m.sum(axis=1)
    in_prediction = m.sum(axis=0)
    union = in_truth + in_prediction - true_positive
    total = m.sum()

    per_class_accuracy = nan_array(k)
    has_truth = in_truth > 0
    per_class_accuracy[has_truth] = true_positive[has_truth] / in_truth[has_truth]
    per_class_iou = nan_array(k)
    present = union > 0
    per_class_iou[present] = true_positive[present] / union[present]

    global_accuracy = float(true_positive.sum() / total) if total > 0 else math.nan
    class_accuracy = float(per_class_accuracy[has_truth].mean()) if has_truth.any() else math.nan
    miou = float(per_class_iou[present].mean()) if present.any() else math.nan
    return Scores(global_accuracy=global_accuracy, class_accuracy=class_accuracy, miou=miou,
                  per_class_accuracy=per_class_accuracy, per_class_iou=per_class_iou,
                  present=present)
