"""Checks of label maps before they are scored: integer class indices of equal shapes,
every value a class (or, in the ground truth, void); ValueError naming the bad values."""

from __future__ import annotations

import math

import numpy as np


def as_label_array(array, what: str) -> np.ndarray:
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


def validated_pair(prediction, target, num_classes: int, void_index: int | None):
    """Both arrays as integer arrays of equal shape, with every value checked.

    Returns (prediction, target, valid) where `valid` is the boolean map of non-void pixels
    (None when there is no void index or no void pixel).
    """
    prediction = as_label_array(prediction, "prediction")
    target = as_label_array(target, "ground truth")
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


def check_tolerance(tolerance: float) -> None:
    if not (math.isfinite(float(tolerance)) and float(tolerance) >= 0):
        raise ValueError(f"the boundary tolerance must be a finite number >= 0, not {tolerance}")


def check_class_setup(num_classes: int, void_index: int | None) -> None:
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be at least 1, not {num_classes}")
    if void_index is not None and 0 <= int(void_index) < int(num_classes):
        raise ValueError(f"void index {void_index} is one of the classes 0..{num_classes - 1}")
