"""The COCO decoders against pycocotools (a test-only dependency): compressed RLE exactly,
polygons up to pixels whose centre lies on an outline (pycocotools quantizes outlines to a
fifth of a pixel)."""

from __future__ import annotations

import numpy as np
import pytest

from segnet_core.importing import (counts_from_string, decode_counts, decode_polygons,
                                   decode_rle)
from segnet_core.importing.rle import decode_segmentation

mask_api = pytest.importorskip("pycocotools.mask")
# pycocotools 2.0.11 calls numpy's __array__ the old way
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: How far (pixels) the centre of a pixel the two readings disagree on may lie from the
#: outline: pycocotools moves outline points by up to a tenth of a pixel in x and y.
OUTLINE_TOLERANCE = 0.3


def encoded(mask: np.ndarray) -> dict:
    rle = mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"counts": rle["counts"].decode("ascii"), "size": list(rle["size"])}


def pycocotools_polygon(polygons, h, w) -> np.ndarray:
    return mask_api.decode(mask_api.merge(mask_api.frPyObjects(polygons, h, w))).astype(bool)


def distance_to_outline(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    a, b = polygon, np.roll(polygon, -1, axis=0)
    d = b - a
    p = points[:, None, :]
    t = np.clip(((p - a) * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0, 1)
    return np.sqrt(((p - (a + t[..., None] * d)) ** 2).sum(-1)).min(axis=1)


@pytest.mark.parametrize("seed", range(40))
def test_compressed_rle_as_pycocotools_writes_it(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 70, 2))
    kind = seed % 5
    if kind == 0:
        mask = np.zeros((h, w), bool)
    elif kind == 1:
        mask = np.ones((h, w), bool)
    elif kind == 2:  # long runs: counts past one 5-bit group, deltas of both signs
        mask = np.zeros((h, w), bool)
        mask[h // 2:, : w // 3] = True
        mask[0, -1] = True
    else:
        mask = rng.random((h, w)) < rng.uniform(0.05, 0.95)
    rle = encoded(mask)
    np.testing.assert_array_equal(decode_rle(rle), mask)
    assert decode_rle({**rle, "counts": rle["counts"].encode()}).shape == (h, w)


def test_large_counts():
    mask = np.zeros((1200, 1700), bool)
    mask[600:, 900:] = True
    mask[3, 5] = True
    np.testing.assert_array_equal(decode_rle(encoded(mask)), mask)


def test_uncompressed_rle_means_what_pycocotools_reads():
    # a zero run: adjacent set runs. The counts cover all h x w pixels: for shorter counts
    # pycocotools decodes memory past their end, so its answer changes from run to run.
    counts = [3, 2, 0, 4, 7, 1, 3]
    h, w = 4, 5
    expected = mask_api.decode(mask_api.frPyObjects({"counts": counts, "size": [h, w]},
                                                    h, w)).astype(bool)
    np.testing.assert_array_equal(decode_counts(counts, h, w), expected)
    np.testing.assert_array_equal(decode_rle({"counts": counts, "size": [h, w]}), expected)
    # pycocotools writes the same pixels with the empty run merged
    assert counts_from_string(encoded(expected)["counts"]) == [3, 2 + 0 + 4, 7, 1, 3]


@pytest.mark.parametrize("bad, message", [
    ({"counts": "0~", "size": [2, 2]}, "not an RLE character"),
    ({"counts": "0\\", "size": [2, 2]}, "truncated"),
    ({"counts": [2, 9], "size": [2, 2]}, "cover 11 pixels"),
    ({"counts": [1, -1], "size": [2, 2]}, "negative"),
    ({"counts": [1, 2.5], "size": [2, 2]}, "list of integers"),
    ({"counts": [1], "size": [2]}, "'size'"),
])
def test_broken_rle_says_why(bad, message):
    with pytest.raises(ValueError, match=message):
        decode_rle(bad)


@pytest.mark.parametrize("seed", range(60))
def test_polygons_agree_with_pycocotools_up_to_the_outline(seed):
    rng = np.random.default_rng(seed)
    h, w = 50, 64
    n = int(rng.integers(3, 12))
    centre, radius = rng.uniform(5, 45, 2), rng.uniform(1, 25)
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    points = np.c_[centre[0] + radius * np.cos(angles) * rng.uniform(0.5, 1.5, n),
                   centre[1] + radius * np.sin(angles) * rng.uniform(0.5, 1.5, n)]
    if seed % 3 == 0:
        points = np.round(points)  # vertices on pixel corners
    polygon = points.ravel().tolist()
    ours = decode_polygons([polygon], h, w)
    theirs = pycocotools_polygon([polygon], h, w)
    rows, cols = np.nonzero(ours != theirs)
    if rows.size:
        centres = np.c_[cols + 0.5, rows + 0.5]
        assert distance_to_outline(centres, points).max() <= OUTLINE_TOLERANCE
    assert rows.size <= max(3, 0.1 * theirs.sum())


def test_polygons_on_pixel_corners_match_exactly():
    h, w = 30, 40
    polygons = [[10, 10, 20, 10, 20, 20, 10, 20], [25, 2, 38, 2, 25, 15]]
    ours = decode_polygons(polygons, h, w)
    np.testing.assert_array_equal(ours, pycocotools_polygon(polygons, h, w))
    assert ours[10:20, 10:20].all() and ours.sum() == 100 + 13 * 12 // 2


def test_polygons_outside_the_image_are_clipped_and_bad_ones_named():
    mask = decode_polygons([[-5, -5, 100, -5, 100, 3, -5, 3]], 6, 8)
    assert mask[:3].all() and not mask[3:].any()
    with pytest.raises(ValueError, match="at least 3 points"):
        decode_polygons([[1, 2, 3, 4]], 6, 8)
    with pytest.raises(ValueError, match="not finite"):
        decode_polygons([[1, 2, 3, float("nan"), 5, 6]], 6, 8)
    with pytest.raises(ValueError, match="differs from the image"):
        decode_segmentation({"counts": [1], "size": [3, 3]}, 6, 8)


def test_a_polygon_far_outside_the_image_is_refused_without_a_numpy_warning():
    import warnings

    assert decode_polygons([[-700, 0, 808, 0, 808, 2]], 6, 8)[0].all()  # 100 sizes: taken
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning on the way
        with pytest.raises(ValueError) as error:
            decode_polygons([[1, 1, 4, 1, 1e300, 5]], 6, 8)
        assert str(error.value) == ("a polygon point (1e+300, 5) lies far outside the 6x8 "
                                    "(height x width) image (more than 100 times its size)")
        with pytest.raises(ValueError, match=r"point \(1, -900\) lies far outside"):
            decode_polygons([[1, -900, 4, 1, 2, 5]], 6, 8)
