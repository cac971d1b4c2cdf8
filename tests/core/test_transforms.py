"""Transforms: exact output size, labels never invented, image and mask kept aligned."""

from __future__ import annotations

import numpy as np
import pytest

from segnet_core.data import EvalTransform, TrainTransform, resize_pair
from segnet_core.data.transforms import _low_light

VOID = 11


def random_pair(seed: int, shape=(37, 53), values=(0, 3, 7, VOID)):
    rng = np.random.default_rng(seed)
    mask = rng.choice(np.array(values, dtype=np.uint8), size=shape)
    image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    return image, mask


def striped_pair(shape=(48, 64)):
    """Vertical label stripes 8 px wide; the image's red channel encodes the label."""
    h, w = shape
    mask = np.broadcast_to((np.arange(w) // 8 % 4).astype(np.uint8), (h, w)).copy()
    mask[: h // 2] += 4  # top half other labels, so vertical flips would show too
    image = np.zeros((h, w, 3), dtype=np.uint8)
    image[..., 0] = mask * 30
    image[..., 1] = np.arange(w, dtype=np.uint8)[None, :]  # column ramp, to see flips
    return image, mask


# ---------------------------------------------------------------- resize_pair


def test_resize_pair_sizes_and_labels():
    image, mask = random_pair(0)
    for size in [(20, 30), (74, 106), (37, 100), (5, 5)]:
        im, m = resize_pair(image, mask, size)
        assert im.shape == (*size, 3) and m.shape == size
        assert im.dtype == np.uint8 and m.dtype == np.uint8
        assert set(np.unique(m)) <= set(np.unique(mask))


def test_resize_pair_nearest_upscale_repeats_pixels():
    image, mask = random_pair(1, shape=(6, 9))
    _, m = resize_pair(image, mask, (12, 18))
    np.testing.assert_array_equal(m, np.repeat(np.repeat(mask, 2, axis=0), 2, axis=1))
    same_image, same_mask = resize_pair(image, mask, (6, 9))
    assert same_image is image and same_mask is mask


def test_resize_pair_rejects_mismatched_inputs():
    image, mask = random_pair(2)
    with pytest.raises(ValueError, match="differs"):
        resize_pair(image, mask[:-1], (10, 10))
    with pytest.raises(ValueError, match="height, width"):
        resize_pair(image, mask, (10,))


# -------------------------------------------------------------- TrainTransform


@pytest.mark.parametrize(
    "size, scale_range",
    [((32, 40), (0.75, 1.5)), ((32, 40), None), ((64, 80), (0.5, 2.0)), ((50, 20), (0.3, 0.6))],
)
def test_train_transform_keeps_labels_and_size(size, scale_range):
    transform = TrainTransform(size, scale_range=scale_range, void_index=VOID)
    image, mask = random_pair(3, values=(0, 3, 7))
    allowed = {0, 3, 7, VOID}
    for seed in range(40):
        im, m = transform(image, mask, np.random.default_rng(seed))
        assert im.shape == (*size, 3) and m.shape == size
        assert im.dtype == np.uint8 and m.dtype == np.uint8
        assert im.flags.c_contiguous and m.flags.c_contiguous
        assert set(np.unique(m).tolist()) <= allowed, seed


def test_small_scale_pads_mask_with_void_and_image_with_zero():
    transform = TrainTransform((40, 50), scale_range=(0.5, 0.5), flip=False, jitter=0.0, void_index=VOID)
    image = np.full((40, 50, 3), 200, dtype=np.uint8)
    mask = np.full((40, 50), 2, dtype=np.uint8)
    im, m = transform(image, mask, np.random.default_rng(0))
    assert (m == 2).sum() == 20 * 25 and (m == VOID).sum() == 40 * 50 - 20 * 25
    assert (im[m == VOID] == 0).all() and (im[m == 2] == 200).all()


def test_flip_moves_image_and_mask_together():
    image, mask = striped_pair()
    transform = TrainTransform(mask.shape, scale_range=None, jitter=0.0, void_index=VOID)
    flipped = 0
    for seed in range(30):
        im, m = transform(image, mask, np.random.default_rng(seed))
        np.testing.assert_array_equal(im[..., 0], m * 30)
        if np.array_equal(m, mask[:, ::-1]):
            flipped += 1
            np.testing.assert_array_equal(im, image[:, ::-1])
        else:
            np.testing.assert_array_equal(m, mask)
            np.testing.assert_array_equal(im, image)
    assert 5 < flipped < 25
    no_flip = TrainTransform(mask.shape, scale_range=None, flip=False, jitter=0.0, void_index=VOID)
    for seed in range(10):
        np.testing.assert_array_equal(no_flip(image, mask, np.random.default_rng(seed))[1], mask)


def test_scaled_image_stays_aligned_with_mask():
    image, mask = striped_pair()
    transform = TrainTransform((40, 56), scale_range=(0.7, 1.6), jitter=0.0, void_index=VOID)
    for seed in range(20):
        im, m = transform(image, mask, np.random.default_rng(seed))
        # Away from label borders, padding and the crop's edges (whose neighbours outside the
        # crop are unknown), the red channel must still encode the label.
        padded = np.pad(m.astype(int), 2, constant_values=-1)
        interior = np.ones(m.shape, dtype=bool)
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                interior &= padded[2 + dy : 2 + dy + m.shape[0], 2 + dx : 2 + dx + m.shape[1]] == m
        interior &= m != VOID
        assert interior.sum() > 100
        diff = np.abs(im[..., 0].astype(int) - m.astype(int) * 30)
        assert diff[interior].max() <= 1, seed


def test_train_transform_is_deterministic_and_jitter_touches_only_the_image():
    image, mask = random_pair(4)
    transform = TrainTransform((30, 30), void_index=VOID)
    a = transform(image, mask, np.random.default_rng(123))
    b = transform(image, mask, np.random.default_rng(123))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = transform(image, mask, np.random.default_rng(124))
    assert not np.array_equal(a[0], c[0])
    plain = TrainTransform((30, 30), jitter=0.0, void_index=VOID)
    d = plain(image, mask, np.random.default_rng(123))
    np.testing.assert_array_equal(a[1], d[1])  # same geometry, mask untouched by jitter
    assert not np.array_equal(a[0], d[0])  # colours changed


def test_jitter_keeps_grey_grey_and_stays_in_range():
    image = np.full((20, 20, 3), 120, dtype=np.uint8)
    image[:10] = 250
    mask = np.zeros((20, 20), dtype=np.uint8)
    transform = TrainTransform((20, 20), scale_range=None, jitter=0.5, void_index=VOID)
    for seed in range(10):
        im, _ = transform(image, mask, np.random.default_rng(seed))
        assert (im[..., 0] == im[..., 1]).all() and (im[..., 1] == im[..., 2]).all()


def test_low_light_darkens_cools_and_softens_the_image_only():
    image, mask = striped_pair()
    image[..., 2] = 200  # a bright blue channel, to see it cooled rather than darkened
    plain = TrainTransform((48, 64), scale_range=None, flip=False, jitter=0.0,
                           void_index=VOID)
    dim = TrainTransform((48, 64), scale_range=None, flip=False, jitter=0.0, low_light=1.0,
                         void_index=VOID)
    a, mask_a = plain(image, mask, np.random.default_rng(5))
    for seed in range(5):
        b, mask_b = dim(image, mask, np.random.default_rng(seed))
        np.testing.assert_array_equal(mask_a, mask_b)  # labels untouched
        a_f, b_f = a.astype(float), b.astype(float)
        assert b_f[..., 1].mean() <= a_f[..., 1].mean()  # gamma >= 1 darkens
        # red loses against blue (cooler), whatever the gamma did to both
        assert b_f[..., 0].sum() / b_f[..., 2].sum() < a_f[..., 0].sum() / a_f[..., 2].sum()
    # softer: a sharp edge gets values between its sides (gamma 1 and no cooling, blur only)
    edge = np.zeros((8, 16, 3), dtype=np.uint8)
    edge[:, 8:] = 200
    soft = _low_light(edge, 1.0, 0.0, 0.8)
    assert ((soft[4] > 0) & (soft[4] < 200)).any()
    np.testing.assert_array_equal(_low_light(edge, 1.0, 0.0, 0.0), edge)  # no-op settings


def test_low_light_off_draws_as_before_and_half_applies_to_about_half():
    image, mask = random_pair(7, shape=(40, 40))
    plain = TrainTransform((30, 30), void_index=VOID)
    off = TrainTransform((30, 30), low_light=0.0, void_index=VOID)
    for seed in range(3):  # older recipes keep their batches
        np.testing.assert_array_equal(plain(image, mask, np.random.default_rng(seed))[0],
                                      off(image, mask, np.random.default_rng(seed))[0])
    half = TrainTransform((30, 30), low_light=0.5, void_index=VOID)
    changed = 0
    for seed in range(40):
        rng_a, rng_b = np.random.default_rng(seed), np.random.default_rng(seed)
        a, b = plain(image, mask, rng_a)[0], half(image, mask, rng_b)[0]
        changed += not np.array_equal(a, b)
    assert 10 <= changed <= 30


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(size=(0, 10)),
        dict(size=(10, 10), scale_range=(2.0, 1.0)),
        dict(size=(10, 10), scale_range=(0.0, 1.0)),
        dict(size=(10, 10), jitter=1.5),
        dict(size=(10, 10), jitter=-0.1),
        dict(size=(10, 10), low_light=1.5),
        dict(size=(10, 10), low_light=-0.1),
    ],
)
def test_train_transform_validation(kwargs):
    with pytest.raises(ValueError):
        TrainTransform(**kwargs, void_index=VOID)


def test_train_transform_needs_void_index():
    with pytest.raises(TypeError):
        TrainTransform((10, 10))  # type: ignore[call-arg]


# --------------------------------------------------------------- EvalTransform


def test_eval_transform():
    image, mask = random_pair(5)
    same = EvalTransform()(image, mask)
    assert same[0] is image and same[1] is mask
    im, m = EvalTransform((20, 24))(image, mask, np.random.default_rng(0))
    assert im.shape == (20, 24, 3) and m.shape == (20, 24)
    assert set(np.unique(m)) <= set(np.unique(mask))
