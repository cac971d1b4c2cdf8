"""Images in and out of the model: checking, resizing or padding, normalising, and bringing
the labels and confidence back to each image's own size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch

from segnet_core.errors import SegNetError
from segnet_core.models import MIN_INPUT_SIZE

Size = tuple[int, int]


@dataclass
class Prediction:
    """The model's answer for one image, at the image's own size."""

    labels: np.ndarray  # HxW uint8 class indices 0..K-1
    confidence: np.ndarray  # HxW float32, the largest softmax probability, in [0, 1]
    #: The mean over the image of the probability of each pixel's label once the loss's class
    #: weights are undone (`unweighted_confidence`); None when the model records no weights.
    unweighted_confidence: float | None = None


@dataclass(frozen=True)
class Restore:
    """How `prepare_image` changed an image, so the outputs can be brought back."""

    size: Size  # the image's own (H, W)
    resized: Size | None  # (H, W) it was resized to, or None
    padded: bool  # whether it was padded at the bottom and right


def check_image(image: object) -> np.ndarray:
    """`image` when it is an HxWx3 uint8 RGB array; SegNetError saying what was expected."""
    if (not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3
            or image.dtype != np.uint8 or image.size == 0):
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise SegNetError(f"expected an HxWx3 uint8 RGB image (height, width, 3 channels), "
                          f"got shape {shape} of {dtype}")
    return image


def prepare_image(image: np.ndarray, input_size: Size | None) -> tuple[np.ndarray, Restore]:
    """The image as the model takes it, and how to undo that.

    With `input_size` the image is resized to it (area when shrinking both sides, bilinear
    otherwise). A side still under `MIN_INPUT_SIZE` pixels is then padded by reflection at
    the bottom or right, and cropped away again by `restore_outputs`.
    """
    h, w = image.shape[:2]
    resized = None
    if input_size is not None and (h, w) != tuple(input_size):
        th, tw = input_size
        shrinking = th <= h and tw <= w
        image = cv2.resize(image, (tw, th),
                           interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        resized = (th, tw)
    ph, pw = image.shape[:2]
    pad_h, pad_w = max(0, MIN_INPUT_SIZE - ph), max(0, MIN_INPUT_SIZE - pw)
    if pad_h or pad_w:
        image = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_REFLECT_101)
    return np.ascontiguousarray(image), Restore((h, w), resized, bool(pad_h or pad_w))


def images_to_tensor(images: Sequence[np.ndarray], mean: torch.Tensor, std: torch.Tensor,
                     device: torch.device) -> torch.Tensor:
    """Same-size HxWx3 uint8 images as a normalised (N, 3, H, W) float32 tensor on `device`.

    `mean` and `std` are (3,) tensors on `device`, for RGB values in [0, 1].
    """
    return normalize_batch(torch.from_numpy(np.stack(images)), mean, std, device)


def normalize_batch(batch: torch.Tensor, mean: torch.Tensor, std: torch.Tensor,
                    device: torch.device) -> torch.Tensor:
    """`images_to_tensor` for images already stacked into an (N, H, W, 3) uint8 tensor.

    The result has channels-last strides (it is a permuted view of the stacked images'
    layout); the copy to `device` does not block when `batch` is in pinned memory.
    """
    batch = batch.to(device, non_blocking=True)
    batch = batch.permute(0, 3, 1, 2).float().div_(255.0)
    return batch.sub_(mean.view(1, 3, 1, 1)).div_(std.view(1, 3, 1, 1))


def class_weight_inverses(weights: Sequence[float] | None) -> torch.Tensor | None:
    """What undoes a model's class weights (`unweighted_confidence`): 1 / w for each class of
    weight w > 0, 0 for a class of weight 0 (never seen in training); None for None.
    SegNetError for weights that are not finite and at least 0, or all 0."""
    if weights is None:
        return None
    try:
        values = torch.tensor([float(w) for w in weights], dtype=torch.float32)
    except (TypeError, ValueError):
        raise SegNetError(f"class weights must be numbers, got {weights!r}") from None
    if values.ndim != 1 or not bool(torch.isfinite(values).all()) or bool((values < 0).any()) \
            or not bool((values > 0).any()):
        raise SegNetError(f"class weights must be finite, at least 0 and not all 0, got "
                          f"{weights!r}")
    return torch.where(values > 0, 1.0 / values.clamp_min(1e-12), torch.zeros_like(values))


def unweighted_confidence(probabilities: torch.Tensor, labels: torch.Tensor,
                          inverses: torch.Tensor) -> torch.Tensor:
    """The probability of each pixel's label with the loss's class weights undone, (N, H, W)
    from (N, K, H, W) softmax outputs and their (N, H, W) labels.

    A model trained to minimise cross-entropy weighted by w_c (median-frequency balancing)
    learns outputs p_c proportional to w_c P(c | x), not P(c | x): rare classes come out surer
    than they are, common ones less sure. P(c | x) is proportional to p_c / w_c, so
    p_label / w_label / sum_c p_c / w_c is the model's own probability that the label is
    right, the quantity a pixel accuracy counts (docs/training.md, "Class weights undone")."""
    undone = probabilities * inverses.to(probabilities.device).view(1, -1, 1, 1)
    chosen = undone.gather(1, labels.unsqueeze(1).long()).squeeze(1)
    return chosen / undone.sum(dim=1).clamp_min(1e-12)


def logits_to_outputs(logits: torch.Tensor, inverses: torch.Tensor | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(labels uint8 (N, H, W), confidence float32 (N, H, W), and with the class weights'
    `inverses` the `unweighted_confidence` float32 (N, H, W), else None) from logits, in
    float32."""
    probabilities = torch.softmax(logits.float(), dim=1)
    confidence, labels = probabilities.max(dim=1)
    unweighted = (None if inverses is None
                  else unweighted_confidence(probabilities, labels, inverses).cpu().numpy())
    return (labels.to(torch.uint8).cpu().numpy(), confidence.cpu().numpy(), unweighted)


def restore_outputs(labels: np.ndarray, confidence: np.ndarray, restore: Restore,
                    unweighted: np.ndarray | None = None) -> Prediction:
    """Crop the padding and resize back to the image's own size (labels nearest, confidence
    bilinear); the mean of the `unweighted` confidence map (at the model's size, padding
    left out) goes with them."""
    if restore.padded:
        rh, rw = restore.resized or restore.size
        labels, confidence = labels[:rh, :rw], confidence[:rh, :rw]
        unweighted = None if unweighted is None else unweighted[:rh, :rw]
    if restore.resized is not None:
        h, w = restore.size
        labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST_EXACT)
        confidence = cv2.resize(confidence, (w, h), interpolation=cv2.INTER_LINEAR)
        np.clip(confidence, 0.0, 1.0, out=confidence)
    mean = None if unweighted is None else float(np.mean(unweighted, dtype=np.float64))
    return Prediction(np.ascontiguousarray(labels), np.ascontiguousarray(confidence), mean)
