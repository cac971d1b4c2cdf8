"""Class pixel statistics and class-balancing weights (the recipe: docs/training.md).

Median-frequency balancing (Eigen & Fergus, as used by SegNet):

    freq(c)   = (pixels of class c) / (total pixels of the images in which c appears)
    weight(c) = median over the appearing classes of freq / freq(c)

Void pixels take no part: they are left out of both the numerator and the denominator, so an
image's "total pixels" means its non-void pixels. A class that never appears in the data set
has no frequency; it gets weight 0 (it can never contribute to the loss anyway) and a
UserWarning names it. Natural-frequency balancing means no weighting: weight 1 for every class
that appears, and likewise 0 (with the same warning) for a class that never appears.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from segnet_core.choices import Choice

__all__ = [
    "BALANCE_MODES",
    "Balance",
    "ClassPixelStats",
    "dataset_pixel_stats",
    "median_frequency_weights",
    "natural_frequency_weights",
    "class_weights",
]


class Balance(Choice):
    """How the loss weighs the classes."""

    MEDIAN = "median"
    NATURAL = "natural"

    @property
    def description(self) -> str:
        """What the mode does, in the words the panel and `--help` show."""
        return {Balance.MEDIAN: "Median-frequency weights",
                Balance.NATURAL: "Natural frequency (no weighting)"}[self]


#: The modes' names (argparse choices), "median" first.
BALANCE_MODES = Balance.values()


class ClassPixelStats:
    """Per-class pixel counts gathered one mask at a time, in constant memory.

    * ``pixels[c]``: pixels of class c over all masks.
    * ``image_pixels[c]``: non-void pixels of all the masks in which class c appears.
    * ``images[c]``: number of masks in which class c appears.
    * ``num_images``: number of masks seen.

    Void pixels (``void_index``) are excluded from every count. A mask value that is neither a
    class (0..K-1) nor void raises ValueError naming it.
    """

    def __init__(self, num_classes: int, void_index: int | None = None):
        num_classes = int(num_classes)
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, not {num_classes}")
        if void_index is not None and 0 <= int(void_index) < num_classes:
            raise ValueError(f"void index {void_index} is one of the classes 0..{num_classes - 1}")
        self.num_classes = num_classes
        self.void_index = None if void_index is None else int(void_index)
        self.pixels = np.zeros(num_classes, dtype=np.int64)
        self.image_pixels = np.zeros(num_classes, dtype=np.int64)
        self.images = np.zeros(num_classes, dtype=np.int64)
        self.num_images = 0

    def update(self, mask) -> None:
        """Count one index mask (any shape, integer values)."""
        mask = np.asarray(mask)
        if not (np.issubdtype(mask.dtype, np.integer) or mask.dtype == np.bool_):
            raise ValueError(f"a mask must hold integer class indices, not {mask.dtype}")
        values = mask.ravel()
        if self.void_index is not None:
            values = values[values != self.void_index]
        counts = np.zeros(self.num_classes, dtype=np.int64)
        if values.size:
            low, high = int(values.min()), int(values.max())
            if low < 0 or high >= self.num_classes:
                bad = np.unique(values[(values < 0) | (values >= self.num_classes)])
                shown = ", ".join(str(int(v)) for v in bad[:5])
                void_text = "" if self.void_index is None else f" nor void ({self.void_index})"
                raise ValueError(f"mask value {shown} is neither a class "
                                 f"(0..{self.num_classes - 1}){void_text}")
            counts = np.bincount(values.astype(np.intp), minlength=self.num_classes)
            counts = counts.astype(np.int64)
        appears = counts > 0
        self.pixels += counts
        self.image_pixels[appears] += int(counts.sum())
        self.images[appears] += 1
        self.num_images += 1

    def merge(self, other: "ClassPixelStats") -> "ClassPixelStats":
        """Add another set of counts (same classes and void) into this one; returns self."""
        if other.num_classes != self.num_classes or other.void_index != self.void_index:
            raise ValueError(f"cannot merge statistics of {other.num_classes} classes "
                             f"(void {other.void_index}) into {self.num_classes} "
                             f"(void {self.void_index})")
        self.pixels += other.pixels
        self.image_pixels += other.image_pixels
        self.images += other.images
        self.num_images += other.num_images
        return self

    def __iadd__(self, other: "ClassPixelStats") -> "ClassPixelStats":
        return self.merge(other)

    @property
    def appearing(self) -> np.ndarray:
        """True for the classes with at least one pixel."""
        return self.pixels > 0

    @property
    def frequency(self) -> np.ndarray:
        """pixels / image_pixels as float64; 0 for a class that never appears."""
        frequency = np.zeros(self.num_classes, dtype=np.float64)
        seen = self.image_pixels > 0
        frequency[seen] = self.pixels[seen] / self.image_pixels[seen]
        return frequency

    def __repr__(self) -> str:
        return (f"ClassPixelStats(num_classes={self.num_classes}, void_index={self.void_index}, "
                f"num_images={self.num_images})")


def dataset_pixel_stats(dataset, progress: Callable[[int, int], None] | None = None
                        ) -> ClassPixelStats:
    """Statistics of every mask of `dataset` (reads masks only, never images).

    `dataset` needs ``label_set`` (num_classes, void_index), ``len()`` and ``read_mask(i)``.
    `progress(i, n)` is called after each mask with i counted from 1.
    """
    label_set = dataset.label_set
    stats = ClassPixelStats(label_set.num_classes, label_set.void_index)
    n = len(dataset)
    for i in range(n):
        stats.update(dataset.read_mask(i))
        if progress is not None:
            progress(i + 1, n)
    return stats


def _warn_absent(stats: ClassPixelStats) -> np.ndarray:
    appearing = stats.appearing
    absent = np.flatnonzero(~appearing)
    if absent.size:
        which = ", ".join(str(int(c)) for c in absent)
        noun = "class" if absent.size == 1 else "classes"
        warnings.warn(f"{noun} {which} never appear{'s' if absent.size == 1 else ''} in the "
                      f"data set; weight 0", UserWarning, stacklevel=3)
    return appearing


def median_frequency_weights(stats: ClassPixelStats) -> np.ndarray:
    """weight(c) = median(freq of the appearing classes) / freq(c), float32.

    A class that never appears gets weight 0 and a UserWarning naming its index.
    """
    appearing = _warn_absent(stats)
    weights = np.zeros(stats.num_classes, dtype=np.float64)
    if appearing.any():
        frequency = stats.frequency
        median = float(np.median(frequency[appearing]))
        weights[appearing] = median / frequency[appearing]
    return weights.astype(np.float32)


def natural_frequency_weights(stats: ClassPixelStats) -> np.ndarray:
    """No balancing: 1 for every class that appears, 0 (with a UserWarning) for one that never does."""
    appearing = _warn_absent(stats)
    return appearing.astype(np.float32)


def class_weights(stats: ClassPixelStats, mode: Balance | str) -> np.ndarray:
    """The weights of `mode`: "median" (median-frequency balancing) or "natural" (none)."""
    if mode == Balance.MEDIAN:
        return median_frequency_weights(stats)
    if mode == Balance.NATURAL:
        return natural_frequency_weights(stats)
    raise ValueError(f"unknown class balancing {mode!r}; expected one of {', '.join(BALANCE_MODES)}")
