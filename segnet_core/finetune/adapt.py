"""Adapting a model to the user's footage without labels: batch-norm statistics of their
frames, confident pseudo-labels for the frames nobody corrected, and how much a new model
changes those frames (the drift signal shown beside before/after figures)."""

from __future__ import annotations

import copy
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from segnet_core.inference import prepare_image
from segnet_core.train import normalized_batch

CancelCheck = Callable[[], bool]


def batchnorm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def adapt_batchnorm(model: nn.Module, images: Sequence[np.ndarray], *,
                    input_size: tuple[int, int] | None, normalization: dict,
                    device: torch.device | str = "cpu", batch_size: int = 4,
                    cancelled: CancelCheck = lambda: False) -> nn.Module:
    """A copy of `model` whose batch-norm running statistics are the average over `images`
    (HxWx3 uint8 RGB, resized to `input_size` as inference does). The weights are not
    touched; `model` itself is not modified. Returns the copy in eval mode, or None when
    cancelled part-way."""
    adapted = copy.deepcopy(model).to(device)
    layers = batchnorm_layers(adapted)
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average over all batches
    adapted.train()
    device = torch.device(device)
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            if cancelled():
                return None
            batch = [prepare_image(image, input_size)[0]
                     for image in images[start:start + batch_size]]
            for same_size in _by_size(batch):
                adapted(normalized_batch(same_size, normalization, device))
    for layer, momentum in zip(layers, momenta):
        layer.momentum = momentum
    return adapted.eval()


def _by_size(images: list[np.ndarray]) -> list[list[np.ndarray]]:
    groups: dict[tuple[int, ...], list[np.ndarray]] = {}
    for image in images:
        groups.setdefault(image.shape, []).append(image)
    return list(groups.values())


def confident_labels(labels: np.ndarray, confidence: np.ndarray, threshold: float,
                     void_index: int) -> np.ndarray:
    """A pseudo-label mask: the predicted class where its probability is at least
    `threshold`, void elsewhere."""
    mask = labels.astype(np.uint8, copy=True)
    mask[confidence < threshold] = void_index
    return mask


def changed_share(before: Sequence[np.ndarray], after: Sequence[np.ndarray]) -> float:
    """The share of pixels whose class differs between two lists of label maps."""
    changed = sum(int(np.count_nonzero(a != b)) for a, b in zip(before, after))
    total = sum(int(a.size) for a in before)
    return changed / total if total else 0.0
