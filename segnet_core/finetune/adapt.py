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


def spread(items: Sequence, limit: int) -> list:
    """At most `limit` of `items`, evenly spaced over them (all when there are fewer)."""
    items = list(items)
    if limit <= 0:
        return []
    if len(items) <= limit:
        return items
    picks = np.floor((np.arange(limit) + 0.5) * len(items) / limit).astype(int)
    return [items[i] for i in picks]


class MixedFrames:
    """A training set of `samples` items: the first half cycles through the corrected
    frames, the second through the pseudo-labelled ones (all corrected without any), so an
    epoch is the same length whatever the counts and the user's own labels stay half of it.
    Items are (image, mask) pairs; the trainer's data-set interface."""

    def __init__(self, corrected: Sequence[tuple[np.ndarray, np.ndarray]],
                 pseudo: Sequence[tuple[np.ndarray, np.ndarray]], label_set, samples: int):
        if not corrected:
            raise ValueError("no corrected frame to train on")
        self.corrected, self.pseudo = list(corrected), list(pseudo)
        self.label_set = label_set
        self.samples = max(int(samples), 1)
        self.corrected_share = self.samples // 2 if self.pseudo else self.samples

    def __len__(self) -> int:
        return self.samples

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < self.samples:
            raise IndexError(index)
        if index < self.corrected_share:
            return self.corrected[index % len(self.corrected)]
        return self.pseudo[(index - self.corrected_share) % len(self.pseudo)]

    def read_image(self, index: int) -> np.ndarray:
        return self[index][0]

    def read_mask(self, index: int) -> np.ndarray:
        return self[index][1]
