"""Boundary F1 (BF) of one image (Csurka et al., BMVC 2013)."""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from segnet_core.evaluation.checks import check_class_setup, check_tolerance, validated_pair

#: Boundary match tolerance as a fraction of the image diagonal (4.5 px at 360x480).
BF_TOLERANCE = 0.0075


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


def _share_near(points: np.ndarray, n_points: int, other: np.ndarray, n_other: int,
                kernel: np.ndarray) -> float:
    """The share of `points` within the kernel's radius of a pixel of `other`: 1 when there
    are no points (nothing to get wrong), 0 when there are points but no `other`."""
    if n_points == 0:
        return 1.0
    if n_other == 0:
        return 0.0
    return np.count_nonzero(points & _within(other, kernel)) / n_points


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
    check_class_setup(num_classes, void_index)
    check_tolerance(tolerance)
    prediction, target, valid = validated_pair(prediction, target, num_classes, void_index)
    if target.ndim != 2:
        raise ValueError(f"boundary F1 needs 2-D label maps, not shape {target.shape}")
    return boundary_f1_checked(prediction, target, valid, int(num_classes), float(tolerance))


def boundary_f1_checked(prediction: np.ndarray, target: np.ndarray, valid: np.ndarray | None,
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

        precision = _share_near(judged_boundary, n_judged, truth_boundary, n_truth, kernel)
        recall = _share_near(truth_boundary, n_truth, predicted_boundary, n_predicted, kernel)
        total = precision + recall
        per_class[c] = float(2.0 * precision * recall / total) if total > 0 else 0.0
    return float(np.mean(list(per_class.values()))), per_class
