"""Class pixel statistics and median-frequency weights."""

from __future__ import annotations

import types
import warnings

import numpy as np
import pytest

from segnet_core.balance import (
    ClassPixelStats,
    class_weights,
    dataset_pixel_stats,
    median_frequency_weights,
    natural_frequency_weights,
)

# K = 3 classes, void 3.
MASK_A = np.array([[0, 0], [1, 3]], np.uint8)        # 3 non-void: class 0 x2, class 1 x1
MASK_B = np.array([[0, 2], [2, 2]], np.uint8)        # 4 non-void: class 0 x1, class 2 x3
MASK_C = np.array([[1, 1, 1, 3]], np.uint8)          # 3 non-void: class 1 x3


def hand_stats() -> ClassPixelStats:
    stats = ClassPixelStats(3, 3)
    for mask in (MASK_A, MASK_B, MASK_C):
        stats.update(mask)
    return stats


def test_hand_made_counts_and_frequency():
    stats = hand_stats()
    assert stats.pixels.tolist() == [3, 4, 3]
    assert stats.image_pixels.tolist() == [3 + 4, 3 + 3, 4]  # void left out of the totals
    assert stats.images.tolist() == [2, 2, 1]
    assert stats.num_images == 3
    np.testing.assert_allclose(stats.frequency, [3 / 7, 4 / 6, 3 / 4])


def test_median_frequency_weights_hand_made():
    weights = median_frequency_weights(hand_stats())
    assert weights.dtype == np.float32
    # median frequency = 4/6; weight = median / freq
    np.testing.assert_allclose(weights, [(2 / 3) / (3 / 7), 1.0, (2 / 3) / (3 / 4)], rtol=1e-6)
    np.testing.assert_array_equal(class_weights(hand_stats(), "median"), weights)


def test_absent_class_gets_weight_zero_and_a_warning():
    stats = ClassPixelStats(4, 4)
    for mask in (MASK_A, MASK_B, MASK_C):
        stats.update(np.where(mask == 3, 4, mask))
    with pytest.warns(UserWarning, match=r"class 3 never"):
        weights = median_frequency_weights(stats)
    np.testing.assert_allclose(weights, [14 / 9, 1.0, 8 / 9, 0.0], rtol=1e-6)
    assert stats.frequency[3] == 0.0
    with pytest.warns(UserWarning, match=r"class 3"):
        natural = natural_frequency_weights(stats)
    assert natural.tolist() == [1.0, 1.0, 1.0, 0.0] and natural.dtype == np.float32
    with pytest.warns(UserWarning, match=r"classes 0, 1, 2, 3"):
        assert median_frequency_weights(ClassPixelStats(4, 4)).tolist() == [0.0] * 4


def test_natural_weights_and_bad_mode():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert class_weights(hand_stats(), "natural").tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="median"):
        class_weights(hand_stats(), "inverse")


def brute_stats(masks, k, void):
    pixels, image_pixels, images = [0] * k, [0] * k, [0] * k
    for mask in masks:
        values = [v for v in mask.ravel().tolist() if v != void]
        for c in set(values):
            images[c] += 1
            image_pixels[c] += len(values)
        for v in values:
            pixels[v] += 1
    return pixels, image_pixels, images


def test_streaming_equals_merged_halves_and_brute_force():
    rng = np.random.default_rng(3)
    masks = []
    for i in range(9):
        mask = rng.integers(0, 4, size=(5 + i, 7)).astype(np.uint8)  # class 4 rarely present
        if i % 3 == 0:
            mask[0, 0] = 4
        mask[rng.random(mask.shape) < 0.2] = 255
        masks.append(mask)
    masks.append(np.full((3, 3), 255, np.uint8))  # all void: counted as an image, nothing else
    stream = ClassPixelStats(5, 255)
    for mask in masks:
        stream.update(mask)
    first, second = ClassPixelStats(5, 255), ClassPixelStats(5, 255)
    for mask in masks[:4]:
        first.update(mask)
    for mask in masks[4:]:
        second.update(mask)
    first += second
    pixels, image_pixels, images = brute_stats(masks, 5, 255)
    for stats in (stream, first):
        assert stats.pixels.tolist() == pixels
        assert stats.image_pixels.tolist() == image_pixels
        assert stats.images.tolist() == images
        assert stats.num_images == len(masks)
    with pytest.raises(ValueError):
        stream.merge(ClassPixelStats(4, 255))


def test_bad_mask_values():
    stats = ClassPixelStats(3, 3)
    with pytest.raises(ValueError, match="7"):
        stats.update(np.array([[0, 7]]))
    with pytest.raises(ValueError, match="integer"):
        stats.update(np.zeros((2, 2)))
    assert stats.num_images == 0 and stats.pixels.sum() == 0
    with pytest.raises(ValueError):
        ClassPixelStats(3, 1)


class MaskOnlyDataset:
    """Has masks only: reading an image fails, proving the statistics never do."""

    def __init__(self, masks, k, void):
        self.masks = masks
        self.label_set = types.SimpleNamespace(num_classes=k, void_index=void)

    def __len__(self):
        return len(self.masks)

    def read_mask(self, i):
        return self.masks[i]

    def read_image(self, i):
        raise AssertionError("images must not be read")

    def __getitem__(self, i):
        raise AssertionError("images must not be read")


def test_dataset_pixel_stats_reads_masks_only_with_progress():
    calls = []
    dataset = MaskOnlyDataset([MASK_A, MASK_B, MASK_C], 3, 3)
    stats = dataset_pixel_stats(dataset, progress=lambda i, n: calls.append((i, n)))
    expected = hand_stats()
    assert stats.pixels.tolist() == expected.pixels.tolist()
    assert stats.image_pixels.tolist() == expected.image_pixels.tolist()
    assert calls == [(1, 3), (2, 3), (3, 3)]
