"""Predictor: runs a segmentation model on RGB images and returns labels and confidence.

An image goes through three small steps, each its own function so a faster variant can
replace one without touching the others:

1. `prepare_image` resizes it to the model's input size (when the checkpoint has one) or
   pads it by reflection to the network's minimum of 32 pixels a side;
2. `images_to_tensor` stacks same-size images, scales them to [0, 1] and normalises them;
3. `restore_outputs` undoes step 1 on the labels (nearest) and confidence (bilinear), so
   every output has the image's own size.

The model runs under `torch.inference_mode()` and the chosen autocast precision; softmax and
argmax are computed in float32.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence, TypeVar

import cv2
import numpy as np
import torch
from torch import nn

from segnet_core.device import autocast, describe_device, resolve_device, resolve_precision
from segnet_core.errors import CheckpointError, SegNetError
from segnet_core.labels import LabelSet
from segnet_core.models.blocks import MIN_INPUT_SIZE
from segnet_core.progress import CancelToken

Key = TypeVar("Key")
Size = tuple[int, int]


@dataclass
class Prediction:
    """The model's answer for one image, at the image's own size."""

    labels: np.ndarray  # HxW uint8 class indices 0..K-1
    confidence: np.ndarray  # HxW float32, the largest softmax probability, in [0, 1]


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
    otherwise). A side still under 32 pixels is then padded by reflection at the bottom or
    right, and cropped away again by `restore_outputs`.
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
    batch = torch.from_numpy(np.stack(images)).to(device, non_blocking=True)
    batch = batch.permute(0, 3, 1, 2).float().div_(255.0)
    return batch.sub_(mean.view(1, 3, 1, 1)).div_(std.view(1, 3, 1, 1))


def logits_to_outputs(logits: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(labels uint8 (N, H, W), confidence float32 (N, H, W)) from logits, in float32."""
    probabilities = torch.softmax(logits.float(), dim=1)
    confidence, labels = probabilities.max(dim=1)
    return (labels.to(torch.uint8).cpu().numpy(), confidence.cpu().numpy())


def restore_outputs(labels: np.ndarray, confidence: np.ndarray, restore: Restore) -> Prediction:
    """Crop the padding and resize back to the image's own size (labels nearest, confidence
    bilinear)."""
    if restore.padded:
        rh, rw = restore.resized or restore.size
        labels, confidence = labels[:rh, :rw], confidence[:rh, :rw]
    if restore.resized is not None:
        h, w = restore.size
        labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST_EXACT)
        confidence = cv2.resize(confidence, (w, h), interpolation=cv2.INTER_LINEAR)
        np.clip(confidence, 0.0, 1.0, out=confidence)
    return Prediction(np.ascontiguousarray(labels), np.ascontiguousarray(confidence))


def _check_input_size(input_size) -> Size | None:
    if input_size is None:
        return None
    try:
        h, w = (int(v) for v in input_size)
    except (TypeError, ValueError):
        raise SegNetError(f"input size must be (height, width), got {input_size!r}") from None
    if h < 1 or w < 1:
        raise SegNetError(f"input size must be positive, got {input_size!r}")
    return (h, w)


class Predictor:
    """Runs `model` on images: device, precision, resizing or padding, batching.

    model: a network mapping (N, 3, H, W) to logits (N, K, H, W); moved to the device and
        put in eval mode (the Predictor then owns it).
    label_set: the K classes the model predicts.
    input_size: (H, W) images are resized to (the size the model was trained at), or None to
        run each image at its own size (padded to 32 pixels a side when smaller).
    normalization: {"mean": [3], "std": [3]} applied to RGB values in [0, 1].
    device, precision: as `resolve_device` and `resolve_precision` take them.
    batch_size: most images run through the model at once.
    """

    def __init__(self, model: nn.Module, label_set: LabelSet, *, input_size: Size | None,
                 normalization: dict, device: str | torch.device = "auto",
                 precision: str = "auto", batch_size: int = 4):
        if int(batch_size) < 1:
            raise SegNetError(f"batch size must be at least 1, got {batch_size}")
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        self.precision = resolve_precision(self.device, precision)
        self.device_description = describe_device(self.device)
        model_classes = getattr(model, "architecture", {}).get("num_classes")
        if model_classes is not None and model_classes != label_set.num_classes:
            raise SegNetError(f"the model predicts {model_classes} classes but the label set "
                              f"has {label_set.num_classes}")
        self.model = model.to(self.device).eval()
        self.label_set = label_set
        self.input_size = _check_input_size(input_size)
        self.batch_size = int(batch_size)
        try:
            mean = [float(v) for v in normalization["mean"]]
            std = [float(v) for v in normalization["std"]]
        except (KeyError, TypeError, ValueError):
            raise SegNetError(f"normalization must be {{'mean': [3 numbers], 'std': [3 numbers]}}, "
                              f"got {normalization!r}") from None
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise SegNetError(f"normalization needs 3 means and 3 positive stds, got "
                              f"{normalization!r}")
        self.normalization = {"mean": mean, "std": std}
        self._mean = torch.tensor(mean, dtype=torch.float32, device=self.device)
        self._std = torch.tensor(std, dtype=torch.float32, device=self.device)
        #: Seconds spent in the model (upload, forward, softmax, download) by the last
        #: `predict`/`predict_batch` call, or by the current `predict_iter` run so far.
        self.last_inference_seconds = 0.0

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "auto",
                        precision: str = "auto", batch_size: int = 4) -> "Predictor":
        """A Predictor for the model, classes, input size and normalisation of a checkpoint
        file (CheckpointError naming it when it cannot be used)."""
        from segnet_core.checkpoint import load_checkpoint

        checkpoint = load_checkpoint(path)
        label_set = checkpoint.label_set()
        classes = checkpoint.architecture.get("num_classes")
        if classes != label_set.num_classes:
            raise CheckpointError(Path(path), f"the model predicts {classes} classes but its "
                                              f"label set has {label_set.num_classes}")
        return cls(checkpoint.build_model(), label_set, input_size=checkpoint.input_size,
                   normalization=checkpoint.normalization, device=device, precision=precision,
                   batch_size=batch_size)

    @property
    def num_classes(self) -> int:
        return self.label_set.num_classes

    def predict(self, image: np.ndarray) -> Prediction:
        """Labels and confidence of one HxWx3 uint8 RGB image, at its own size."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        """Predictions of `images` in their order; same-size images share batches."""
        prepared = [prepare_image(check_image(image), self.input_size) for image in images]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, (array, _) in enumerate(prepared):
            groups.setdefault(array.shape, []).append(i)
        results: list[Prediction | None] = [None] * len(prepared)
        elapsed = 0.0
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                outputs = self._run([prepared[i] for i in chunk])
                elapsed += self.last_inference_seconds
                for i, prediction in zip(chunk, outputs):
                    results[i] = prediction
        self.last_inference_seconds = elapsed
        return results  # type: ignore[return-value]

    def predict_iter(self, items: Iterable[tuple[Key, np.ndarray]],
                     cancel: CancelToken | None = None) -> Iterator[tuple[Key, Prediction]]:
        """Predict a stream of (key, image) pairs, yielding (key, prediction) in input order.

        Consecutive images of the same prepared size are batched (up to `batch_size`); an
        image of another size closes the batch. Items are pulled lazily, so at most one
        batch of images is held. Stops early, without error, once `cancel` is cancelled.
        """
        self.last_inference_seconds = 0.0
        elapsed = 0.0
        pending: list[tuple[Key, tuple[np.ndarray, Restore]]] = []

        def flush():
            nonlocal elapsed
            outputs = self._run([prepared for _, prepared in pending])
            elapsed += self.last_inference_seconds
            self.last_inference_seconds = elapsed
            done = [(key, prediction) for (key, _), prediction in zip(pending, outputs)]
            pending.clear()
            return done

        for key, image in items:
            if cancel is not None and cancel.cancelled:
                return
            prepared = prepare_image(check_image(image), self.input_size)
            if pending and pending[0][1][0].shape != prepared[0].shape:
                yield from flush()
                if cancel is not None and cancel.cancelled:
                    return
            pending.append((key, prepared))
            if len(pending) >= self.batch_size:
                yield from flush()
        if pending and not (cancel is not None and cancel.cancelled):
            yield from flush()

    def _run(self, prepared: Sequence[tuple[np.ndarray, Restore]]) -> list[Prediction]:
        """One forward pass over same-size prepared images; sets last_inference_seconds."""
        start = time.perf_counter()
        with torch.inference_mode():
            batch = images_to_tensor([array for array, _ in prepared], self._mean, self._std,
                                     self.device)
            with autocast(self.device, self.precision):
                logits = self.model(batch)
            labels, confidence = logits_to_outputs(logits)
        self.last_inference_seconds = time.perf_counter() - start
        return [restore_outputs(labels[i], confidence[i], restore)
                for i, (_, restore) in enumerate(prepared)]


__all__ = ["Prediction", "Predictor", "Restore", "check_image", "images_to_tensor",
           "logits_to_outputs", "prepare_image", "restore_outputs"]
