"""Tiny data sets a model can learn in seconds: coloured shapes on a noisy background."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from segnet_core.data import InMemoryDataset
from segnet_core.labels import LabelSet

SHAPES_LABELS = LabelSet(names=("background", "square", "disc"),
                         colors=((40, 40, 40), (220, 30, 30), (30, 30, 220)))


def shapes_pair(rng: np.random.Generator, size=(64, 64)) -> tuple[np.ndarray, np.ndarray]:
    """A red square (class 1) and a blue disc (class 2) on grey noise (class 0); void border."""
    height, width = size
    image = rng.integers(30, 90, (height, width, 3), dtype=np.uint8)
    mask = np.zeros((height, width), np.uint8)
    side = int(rng.integers(12, 24))
    top, left = int(rng.integers(0, height - side)), int(rng.integers(0, width - side))
    image[top:top + side, left:left + side] = (200, 40, 40)
    mask[top:top + side, left:left + side] = 1
    radius = int(rng.integers(6, 12))
    cy, cx = int(rng.integers(radius, height - radius)), int(rng.integers(radius, width - radius))
    yy, xx = np.mgrid[:height, :width]
    disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2
    image[disc] = (40, 40, 200)
    mask[disc] = 2
    image = np.clip(image.astype(np.int16) + rng.integers(-20, 20, image.shape), 0, 255)
    mask[:2, :] = SHAPES_LABELS.void_index
    return image.astype(np.uint8), mask


def shapes_dataset(count: int, seed: int, size=(64, 64)) -> InMemoryDataset:
    rng = np.random.default_rng(seed)
    return InMemoryDataset([shapes_pair(rng, size) for _ in range(count)], SHAPES_LABELS)


def shapes_folder(folder: Path, names: list[str], corrected: int, seed: int,
                  size=(64, 64)) -> Path:
    """`folder` with a shapes image per name (PNG), the first `corrected` of them with their
    mask saved in its labels folder (as the window saves corrections, with the label set)."""
    from segnet_core.masks.labels_folder import LabelsFolder

    folder.mkdir(parents=True, exist_ok=True)
    labels = LabelsFolder(folder / "labels")
    for i, name in enumerate(names):
        image, mask = shapes_pair(np.random.default_rng(seed + i), size)
        assert cv2.imwrite(str(folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if i < corrected:
            labels.save(name, mask, SHAPES_LABELS)
    return folder
