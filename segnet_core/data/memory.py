"""A data set of (image, mask) arrays held in memory: corrected frames, subsets, test data."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from segnet_core.labels import LabelSet


class InMemoryDataset:
    """(image HxWx3 uint8, mask HxW uint8) pairs with the data-set interface the trainer uses."""

    def __init__(self, pairs: Sequence[tuple[np.ndarray, np.ndarray]], label_set: LabelSet):
        for index, (image, mask) in enumerate(pairs):
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise ValueError(f"pair {index}: image must be HxWx3 uint8, got "
                                 f"{image.shape} {image.dtype}")
            if mask.shape != image.shape[:2] or mask.dtype != np.uint8:
                raise ValueError(f"pair {index}: mask must be {image.shape[:2]} uint8, got "
                                 f"{mask.shape} {mask.dtype}")
            label_set.check_mask(mask, f"<in-memory pair {index}>")
        self.pairs = list(pairs)
        self.label_set = label_set

    @classmethod
    def from_dataset(cls, dataset, indices: Sequence[int] | None = None) -> "InMemoryDataset":
        """Load (some of) another data set's pairs into memory."""
        indices = range(len(dataset)) if indices is None else indices
        return cls([dataset[i] for i in indices], dataset.label_set)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.pairs[index]

    def read_image(self, index: int) -> np.ndarray:
        return self.pairs[index][0]

    def read_mask(self, index: int) -> np.ndarray:
        return self.pairs[index][1]
