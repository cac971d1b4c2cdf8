"""Segmentation scores: global accuracy (G), class accuracy (C), mean IoU and boundary F1 (BF).

Conventions (see docs/SEGNET.md, section Metrics):

* Label maps hold class indices 0..K-1; the label set's void index (CamVid: 11) marks pixels
  without ground truth. Ground-truth void pixels are dropped before anything is counted, so the
  prediction there is never judged. A prediction must hold class indices only (a model never
  predicts void); any other value raises ValueError, as does a ground-truth value that is
  neither a class nor void.
* One confusion matrix is built over the whole evaluated set: rows are ground truth, columns
  are prediction. From it:

  - G = trace / total.
  - per-class accuracy(c) = TP / row sum. It is undefined (nan) for a class that never occurs in
    the ground truth, even if it is predicted somewhere; C is the mean over the classes that
    occur in the ground truth.
  - IoU(c) = TP / (TP + FP + FN). A class predicted somewhere but absent from the ground truth
    has IoU 0 and counts in mIoU (its false positives are real mistakes). A class absent from
    both ground truth and prediction in the whole set has IoU nan, is left out of the means and
    is reported as absent (`Scores.present` is False).
  - With nothing counted at all (empty set, or only void) G, C and mIoU are nan.

* Boundary F1 (Csurka et al., BMVC 2013), per image, see `boundary_f1_image`. BF over a set is
  the mean of the image scores; the per-class BF is the mean of that class's F1 over the images
  whose ground truth contains the class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
import cv2
import numpy as np

__all__ = [
    "BF_TOLERANCE",
    "ConfusionMatrix",
    "Scores",
    "scores_from_confusion",
    "boundary_map",
    "boundary_f1_image",
    "SegmentationEvaluator",
]

#: Boundary match tolerance as a fraction of the image diagonal (4.5 px at 360x480).
BF_TOLERANCE = 0.0075


# --------------------------------------------------------------------------- input checks

def _as_label_array(array, what: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype == np.bool_:
        return array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{what} must hold integer class indices, not {array.dtype}")
    return array


def _describe_values(values: np.ndarray) -> str:
    values = np.unique(values)
    shown = ", ".join(str(int(v)) for v in values[:5])
    return shown + (f" (and {values.size - 5} more)" if values.size > 5 else "")


def _check_range(values: np.ndarray, num_classes: int, void_index: int | None, what: str) -> None:
    """Raise ValueError naming the values of `values` (void already removed) outside 0..K-1."""
    if values.size == 0:
        return
    if int(values.min()) >= 0 and int(values.max()) < num_classes:
        return
    bad = values[(values < 0) | (values >= num_classes)]
    void_text = "" if void_index is None else f" nor void ({void_index})"
    raise ValueError(f"{what} label {_describe_values(bad)} is neither a class "
                     f"(0..{num_classes - 1}){void_text}")


def _validated_pair(prediction, target, num_classes: int, void_index: int | None):
    """Both arrays as integer arrays of equal shape, with every value checked.

    Returns (prediction, target, valid) where `valid` is the boolean map of non-void pixels
    (None when there is no void index or no void pixel).
    """
    prediction = _as_label_array(prediction, "prediction")
    target = _as_label_array(target, "ground truth")
    if prediction.shape != target.shape:
        raise ValueError(f"prediction shape {prediction.shape} differs from "
                         f"ground-truth shape {target.shape}")
    valid = None
    if void_index is not None:
        void = target == void_index
        if void.any():
            valid = ~void
    if valid is None:
        _check_range(target.ravel(), num_classes, void_index, "ground-truth")
        _check_range(prediction.ravel(), num_classes, None, "predicted")
    else:
        _check_range(target[valid], num_classes, void_index, "ground-truth")
        _check_range(prediction[valid], num_classes, None, "predicted")
    return prediction, target, valid


def _check_tolerance(tolerance: float) -> None:
    if not (math.isfinite(float(tolerance)) and float(tolerance) >= 0):
        raise ValueError(f"the boundary tolerance must be a finite number >= 0, not {tolerance}")


def _check_class_setup(num_classes: int, void_index: int | None) -> None:
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be at least 1, not {num_classes}")
    if void_index is not None and 0 <= int(void_index) < int(num_classes):
        raise ValueError(f"void index {void_index} is one of the classes 0..{num_classes - 1}")


# --------------------------------------------------------------------------- confusion matrix

class ConfusionMatrix:
    """A K x K pixel count matrix: rows are ground truth, columns are prediction.

    Pixels whose ground truth is `void_index` are dropped. `void_index` must lie outside the
    class range (CamVid: 11 with K = 11), or be None when there is no void label.
    """

    def __init__(self, num_classes: int, void_index: int | None = None):
        _check_class_setup(num_classes, void_index)
        self.num_classes = int(num_classes)
        self.void_index = None if void_index is None else int(void_index)
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, prediction, target) -> None:
        """Count one image or a batch (any shape, both the same, integer dtype)."""
        prediction, target, valid = _validated_pair(prediction, target, self.num_classes,
                                                    self.void_index)
        self._count(prediction, target, valid)

    def _count(self, prediction: np.ndarray, target: np.ndarray, valid: np.ndarray | None) -> None:
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


# --------------------------------------------------------------------------- scores

def _nan_array(n: int) -> np.ndarray:
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
            self.per_class_bf = _nan_array(len(self.present))

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

    per_class_accuracy = _nan_array(k)
    has_truth = in_truth > 0
    per_class_accuracy[has_truth] = true_positive[has_truth] / in_truth[has_truth]
    per_class_iou = _nan_array(k)
    present = union > 0
    per_class_iou[present] = true_positive[present] / union[present]

    global_accuracy = float(true_positive.sum() / total) if total > 0 else math.nan
    class_accuracy = float(per_class_accuracy[has_truth].mean()) if has_truth.any() else math.nan
    miou = float(per_class_iou[present].mean()) if present.any() else math.nan
    return Scores(global_accuracy=global_accuracy, class_accuracy=class_accuracy, miou=miou,
                  per_class_accuracy=per_class_accuracy, per_class_iou=per_class_iou,
                  present=present)


# --------------------------------------------------------------------------- boundary F1

def boundary_map(labels: np.ndarray) -> np.ndarray:
    """Pixels having a 4-neighbour with another label (the image border is not a boundary)."""
    labels = np.asarray(labels)
    edge = np.zeros(labels.shape, dtype=bool)
    vertical = labels[1:, :] != labels[:-1, :]
    edge[1:, :] |= vertical
    edge[:-1, :] |= vertical
    horizontal = labels[:, 1:] != labels[:, :-1]
    edge[:, 1:] |= horizontal
    edge[:, :-1] |= horizontal
    return edge


@lru_cache(maxsize=32)
def _disk(radius: float, limit: int) -> np.ndarray:
    """Structuring element of every integer offset (dy, dx) with dy^2 + dx^2 <= radius^2."""
    reach = min(int(math.floor(radius)), limit)
    y, x = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    return ((y * y + x * x) <= radius * radius).astype(np.uint8)


def _within(points: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Pixels whose Euclidean distance to some pixel of `points` is <= the kernel's radius.

    Dilating by the disk of all integer offsets within the radius gives exactly the pixels
    where the L2 distance transform of the complement would be <= the radius, without its
    float rounding, and several times faster.
    """
    if kernel.shape == (1, 1):
        return points
    return cv2.dilate(points.view(np.uint8), kernel).view(bool)


def boundary_f1_image(prediction, target, num_classes: int, void_index: int | None,
                      tolerance: float = BF_TOLERANCE) -> tuple[float, dict[int, float]]:
    """Boundary F1 of one image: (image score, {class: F1}) over the classes in its ground truth.

    For each class c occurring in the (non-void) ground truth of the image:

    * boundary pixels of c in a label map are the pixels of c having a 4-neighbour with another
      label; the image border is not a boundary. In the ground truth a void neighbour counts as
      another label (the class region ends there).
    * tol = tolerance * image diagonal in pixels; two boundary pixels match when their Euclidean
      distance is <= tol.
    * precision P = share of the predicted boundary pixels of c within tol of a ground-truth
      boundary pixel of c. Predicted boundary pixels lying on ground-truth void pixels are
      ignored here (neither counted nor matched: there is no truth to judge them by).
    * recall R = share of the ground-truth boundary pixels of c within tol of a predicted
      boundary pixel of c (every predicted boundary pixel, those on void included).
    * an empty set gives its ratio the value 1 (nothing to get wrong), so: both boundaries empty
      -> F1 = 1; exactly one empty -> F1 = 0 (except that a prediction whose boundary lies
      wholly on void has P = 1 and is scored by its recall).
    * F1 = 2PR / (P + R), 0 when P + R = 0.

    "Within tol" is decided exactly, in integers: the matching map is the dilation of the other
    boundary by the disk of all pixel offsets (dy, dx) with dy^2 + dx^2 <= tol^2, which is the
    set where an exact Euclidean distance transform would be <= tol.

    The image score is the mean of those F1 values; an image without any non-void ground truth
    scores nan (callers skip it).
    """
    _check_class_setup(num_classes, void_index)
    _check_tolerance(tolerance)
    prediction, target, valid = _validated_pair(prediction, target, num_classes, void_index)
    if target.ndim != 2:
        raise ValueError(f"boundary F1 needs 2-D label maps, not shape {target.shape}")
    return _boundary_f1(prediction, target, valid, int(num_classes), float(tolerance))


def _boundary_f1(prediction: np.ndarray, target: np.ndarray, valid: np.ndarray | None,
                 num_classes: int, tolerance: float) -> tuple[float, dict[int, float]]:
    """`boundary_f1_image` on checked input; `valid` is the non-void map or None (no void)."""
    height, width = target.shape
    truth_values = target.ravel() if valid is None else target[valid]
    if truth_values.size == 0:
        return math.nan, {}
    classes = np.flatnonzero(np.bincount(truth_values.astype(np.intp), minlength=num_classes))
    kernel = _disk(tolerance * math.hypot(height, width), max(height, width))

    truth_edges = boundary_map(target)
    predicted_edges = boundary_map(prediction)
    judged_edges = predicted_edges if valid is None else predicted_edges & valid

    per_class: dict[int, float] = {}
    for c in classes.tolist():
        truth_boundary = truth_edges & (target == c)
        predicted_class = prediction == c
        predicted_boundary = predicted_edges & predicted_class
        judged_boundary = judged_edges & predicted_class
        n_truth = int(np.count_nonzero(truth_boundary))
        n_predicted = int(np.count_nonzero(predicted_boundary))
        n_judged = int(np.count_nonzero(judged_boundary))

        if n_judged == 0:
            precision = 1.0
        elif n_truth == 0:
            precision = 0.0
        else:
            near_truth = _within(truth_boundary, kernel)
            precision = np.count_nonzero(judged_boundary & near_truth) / n_judged
        if n_truth == 0:
            recall = 1.0
        elif n_predicted == 0:
            recall = 0.0
        else:
            near_prediction = _within(predicted_boundary, kernel)
            recall = np.count_nonzero(truth_boundary & near_prediction) / n_truth
        total = precision + recall
        per_class[c] = float(2.0 * precision * recall / total) if total > 0 else 0.0
    return float(np.mean(list(per_class.values()))), per_class


# --------------------------------------------------------------------------- evaluator

class SegmentationEvaluator:
    """Accumulates the confusion matrix and (optionally) boundary F1 over a set of images."""

    def __init__(self, num_classes: int, void_index: int | None, compute_bf: bool = True,
                 tolerance: float = BF_TOLERANCE):
        self.confusion = ConfusionMatrix(num_classes, void_index)
        self.num_classes = self.confusion.num_classes
        self.void_index = self.confusion.void_index
        self.compute_bf = bool(compute_bf)
        _check_tolerance(tolerance)
        self.tolerance = float(tolerance)
        self.reset()

    def reset(self) -> None:
        self.confusion.reset()
        self.images = 0
        self.bf_images = 0
        self._bf_sum = 0.0
        self._class_bf_sum = np.zeros(self.num_classes, dtype=np.float64)
        self._class_bf_images = np.zeros(self.num_classes, dtype=np.int64)

    def update(self, prediction, target) -> None:
        """Add one image (H x W) or a batch (N x H x W) of predictions and ground truths."""
        prediction = _as_label_array(prediction, "prediction")
        target = _as_label_array(target, "ground truth")
        if prediction.shape != target.shape:
            raise ValueError(f"prediction shape {prediction.shape} differs from "
                             f"ground-truth shape {target.shape}")
        if target.ndim == 2:
            prediction, target = prediction[None], target[None]
        elif target.ndim != 3:
            raise ValueError(f"expected an H x W image or an N x H x W batch, "
                             f"not shape {target.shape}")
        # Check everything before counting anything, so a bad batch leaves no trace.
        prediction, target, valid = _validated_pair(prediction, target, self.num_classes,
                                                    self.void_index)
        self.confusion._count(prediction, target, valid)
        self.images += target.shape[0]
        if not self.compute_bf:
            return
        for i in range(target.shape[0]):
            score, per_class = _boundary_f1(prediction[i], target[i],
                                            None if valid is None else valid[i],
                                            self.num_classes, self.tolerance)
            if math.isnan(score):
                continue
            self.bf_images += 1
            self._bf_sum += score
            for c, value in per_class.items():
                self._class_bf_sum[c] += value
                self._class_bf_images[c] += 1

    def merge(self, other: "SegmentationEvaluator") -> "SegmentationEvaluator":
        """Add another evaluator's counts (e.g. from another process); returns self."""
        self.confusion.merge(other.confusion)
        self.images += other.images
        self.bf_images += other.bf_images
        self._bf_sum += other._bf_sum
        self._class_bf_sum += other._class_bf_sum
        self._class_bf_images += other._class_bf_images
        self.compute_bf = self.compute_bf and other.compute_bf
        return self

    def __iadd__(self, other: "SegmentationEvaluator") -> "SegmentationEvaluator":
        return self.merge(other)

    def result(self) -> Scores:
        scores = scores_from_confusion(self.confusion.matrix)
        if self.compute_bf and self.bf_images:
            scores.bf = self._bf_sum / self.bf_images
            seen = self._class_bf_images > 0
            per_class = _nan_array(self.num_classes)
            per_class[seen] = self._class_bf_sum[seen] / self._class_bf_images[seen]
            scores.per_class_bf = per_class
        return scores
