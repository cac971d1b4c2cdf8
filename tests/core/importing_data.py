"""Masks, images and label sets shared by the import tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from segnet_core.labels import LabelSet

#: Four classes, void at K = 4.
LABELS = LabelSet(("Sky", "Road", "Pole", "Car"),
                  ((128, 128, 128), (128, 64, 128), (192, 192, 128), (64, 0, 128)),
                  void_name="Void")
#: The same classes with void at 255 (as VOC puts it) and another void colour.
LABELS_255 = LabelSet(LABELS.names, LABELS.colors, void_index=255, void_name="Void",
                      void_color=(224, 224, 192))
SHAPE = (36, 48)


def make_mask(seed: int, label_set: LabelSet = LABELS, shape=SHAPE) -> np.ndarray:
    """Sky above, road below, a one-pixel pole, a one-pixel diagonal car line, a void
    patch; frame 1 has no car at all, so a class is absent from some frames."""
    rng = np.random.default_rng(seed)
    h, w = shape
    mask = np.zeros(shape, np.uint8)
    horizon = int(rng.integers(h // 3, 2 * h // 3))
    mask[horizon:] = 1
    column = int(rng.integers(2, w - 2))
    mask[2:h - 2, column] = 2  # thin vertical structure
    if seed != 1:
        for i in range(min(h, w) // 2):  # thin diagonal, touching only at corners
            mask[h - 1 - i, (5 + i) % w] = 3
        mask[int(rng.integers(0, h - 4)):, :2] = 3  # a car at the edge
    top, left = int(rng.integers(0, h - 6)), int(rng.integers(0, w - 6))
    mask[top:top + 5, left:left + 5] = label_set.void_index
    mask[0, 0] = label_set.void_index  # void in a corner (first pixel of the RLE)
    return mask


def make_masks(count: int = 3, label_set: LabelSet = LABELS) -> dict[str, np.ndarray]:
    return {f"frame_{i:02d}": make_mask(i, label_set) for i in range(count)}


def write_images(folder: Path, names, shape=SHAPE, suffix: str = ".png") -> dict[str, Path]:
    """Random RGB images named `<name><suffix>` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    paths = {}
    for name in names:
        path = folder / f"{name}{suffix}"
        cv2.imwrite(str(path), rng.integers(0, 256, (*shape, 3), dtype=np.uint8))
        paths[name] = path
    return paths


def tree(folder: Path) -> set[str]:
    """Every file below `folder` (hidden temporary files included), relative."""
    if not folder.exists():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
