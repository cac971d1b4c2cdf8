"""Mask edits return patches holding only the changed box; apply/revert are exact."""

import numpy as np
import pytest

from segnet_core.masks.edits import (
    Patch,
    changed_patch,
    fill_polygon,
    flood_fill,
    keep_confident,
    merge_patches,
    paint_disc_segment,
    replace_class,
    replace_mask,
)

VOID = 11


def blank(h=12, w=16, value=VOID):
    return np.full((h, w), value, np.uint8)


def applied(mask, patch):
    out = mask.copy()
    patch.apply(out)
    return out


def test_a_dab_paints_the_pixels_whose_centres_lie_within_the_radius():
    mask = blank()
    patch = paint_disc_segment(mask, (5, 4), (5, 4), 2.0, 3)
    assert (mask == VOID).all()  # the edit itself leaves the mask alone
    assert (patch.y0, patch.x0, patch.old.shape) == (2, 3, (5, 5))
    expected = np.array([[0, 0, 1, 0, 0],
                         [0, 1, 1, 1, 0],
                         [1, 1, 1, 1, 1],
                         [0, 1, 1, 1, 0],
                         [0, 0, 1, 0, 0]], bool)
    assert (patch.new == np.where(expected, 3, VOID)).all()
    assert (patch.old == VOID).all()
    out = applied(mask, patch)
    assert (out != VOID).sum() == 13


def test_a_segment_paints_a_band_with_round_ends():
    mask = blank()
    patch = paint_disc_segment(mask, (2, 5), (10, 5), 1.0, 0)
    out = applied(mask, patch)
    rows, cols = np.nonzero(out == 0)
    assert set(rows) == {4, 5, 6}
    assert (out[5, 1:12] == 0).all() and out[5, 0] == VOID and out[5, 12] == VOID
    assert (out[4, 2:11] == 0).all() and out[4, 1] == VOID and out[4, 11] == VOID
    assert (patch.y0, patch.x0, patch.height, patch.width) == (4, 1, 3, 11)


def test_size_one_brush_paints_one_pixel_and_the_edge_clips():
    mask = blank()
    patch = paint_disc_segment(mask, (0, 0), (0, 0), 0.5, 1)
    assert (patch.y0, patch.x0, patch.height, patch.width) == (0, 0, 1, 1)
    corner = paint_disc_segment(mask, (15, 11), (15, 11), 3, 1)
    assert corner.y0 + corner.height == 12 and corner.x0 + corner.width == 16
    assert paint_disc_segment(mask, (40, 40), (50, 50), 3, 1) is None  # outside the image


def test_painting_what_is_there_already_changes_nothing():
    assert paint_disc_segment(blank(), (5, 5), (8, 5), 2, VOID) is None


def test_apply_and_revert_round_trip_bit_for_bit():
    rng = np.random.default_rng(0)
    mask = rng.integers(0, 12, (30, 40)).astype(np.uint8)
    original = mask.copy()
    patches = []
    for _ in range(20):
        p0 = tuple(rng.uniform(-5, 45, 2))
        p1 = tuple(rng.uniform(-5, 45, 2))
        patch = paint_disc_segment(mask, p0, p1, rng.uniform(0.5, 6), int(rng.integers(0, 12)))
        if patch is not None:
            patch.apply(mask)
            patches.append(patch)
    assert len(patches) > 10
    after = mask.copy()
    for patch in reversed(patches):
        patch.revert(mask)
    assert np.array_equal(mask, original)
    for patch in patches:
        patch.apply(mask)
    assert np.array_equal(mask, after)


def test_flood_fill_takes_the_4_connected_region_only():
    mask = np.array([[1, 1, 0, 2],
                     [1, 0, 0, 2],
                     [0, 1, 1, 2],
                     [2, 2, 1, 1]], np.uint8)
    patch = flood_fill(mask, (2, 0), 5)  # the zeros at (0,2), (1,1), (1,2)
    out = applied(mask, patch)
    assert out.tolist() == [[1, 1, 5, 2],
                            [1, 5, 5, 2],
                            [0, 1, 1, 2],
                            [2, 2, 1, 1]]
    assert (patch.y0, patch.x0, patch.height, patch.width) == (0, 1, 2, 2)
    # (2,0) touches the region only diagonally: untouched with 4-connectivity
    assert flood_fill(mask, (0, 2), 0) is None  # same value: no change
    assert flood_fill(mask, (9, 9), 3) is None


def test_flood_fill_of_a_big_region():
    mask = blank(100, 120, 0)
    mask[40:60, :] = 2  # a band splits the zeros in two
    patch = flood_fill(mask, (10, 70), 7)
    out = applied(mask, patch)
    assert (out[60:] == 7).all() and (out[:40] == 0).all() and (out[40:60] == 2).all()
    assert (patch.y0, patch.height, patch.width) == (60, 40, 120)


def test_fill_polygon_fills_the_shape_and_its_edges():
    mask = blank()
    patch = fill_polygon(mask, [(2, 2), (8, 2), (8, 6), (2, 6)], 4)
    out = applied(mask, patch)
    expected = blank()
    expected[2:7, 2:9] = 4
    assert np.array_equal(out, expected)
    assert (patch.y0, patch.x0, patch.height, patch.width) == (2, 2, 5, 7)
    triangle = applied(mask, fill_polygon(mask, [(0, 0), (6, 0), (0, 6)], 1))
    assert triangle[0, :7].tolist() == [1] * 7 and triangle[6, 0] == 1
    assert triangle[6, 1] == VOID and triangle[3, 3] == 1 and triangle[4, 4] == VOID
    assert fill_polygon(mask, [(0, 0), (3, 3)], 1) is None  # not a polygon
    clipped = fill_polygon(mask, [(-5, -5), (30, -5), (30, 30), (-5, 30)], 2)
    assert np.array_equal(applied(mask, clipped), blank(value=2))


def test_keep_confident_takes_the_prediction_above_the_threshold():
    mask = blank(2, 3)
    labels = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    confidence = np.array([[0.9, 0.5, 0.7], [0.2, 0.71, 1.0]], np.float32)
    out = applied(mask, keep_confident(mask, labels, confidence, 0.7))
    assert out.tolist() == [[0, VOID, VOID], [VOID, 1, 0]]
    assert keep_confident(out, labels, confidence, 0.7) is None


def test_replace_class_and_replace_mask():
    mask = np.array([[0, 1, 0], [2, 0, 1]], np.uint8)
    patch = replace_class(mask, 0, 2)
    assert applied(mask, patch).tolist() == [[2, 1, 2], [2, 2, 1]]
    assert (patch.y0, patch.x0, patch.height, patch.width) == (0, 0, 2, 3)
    assert replace_class(mask, 5, 1) is None
    only = np.array([[0, 0], [0, 3]], np.uint8)
    small = replace_class(only, 3, 1)
    assert (small.y0, small.x0, small.old.tolist(), small.new.tolist()) == (1, 1, [[3]], [[1]])
    target = np.ones_like(mask)
    assert np.array_equal(applied(mask, replace_mask(mask, target)), target)


def test_merged_stroke_patch_equals_its_parts():
    rng = np.random.default_rng(1)
    mask = rng.integers(0, 4, (50, 60)).astype(np.uint8)
    original = mask.copy()
    points = [(5, 5), (20, 8), (30, 30), (22, 40), (50, 45)]
    parts = []
    for p0, p1 in zip(points, points[1:]):
        patch = paint_disc_segment(mask, p0, p1, 4, 9)
        patch.apply(mask)
        parts.append(patch)
    merged = merge_patches(parts, mask)
    assert merged.y0 == min(p.y0 for p in parts) and merged.x0 == min(p.x0 for p in parts)
    assert np.array_equal(applied(original, merged), mask)
    reverted = mask.copy()
    merged.revert(reverted)
    assert np.array_equal(reverted, original)
    assert merge_patches([], mask) is None


def test_a_stroke_that_ends_as_it_started_merges_to_nothing():
    mask = blank()
    first = paint_disc_segment(mask, (5, 5), (5, 5), 2, 1)
    first.apply(mask)
    second = paint_disc_segment(mask, (5, 5), (5, 5), 2, VOID)
    second.apply(mask)
    assert merge_patches([first, second], mask) is None


def test_changed_patch_crops_to_the_changed_box():
    old = np.zeros((5, 5), np.uint8)
    new = old.copy()
    new[1, 3] = 2
    new[3, 1] = 2
    patch = changed_patch(10, 20, old, new)
    assert (patch.y0, patch.x0, patch.height, patch.width) == (11, 21, 3, 3)
    assert patch.nbytes == 18
    assert changed_patch(0, 0, old, old.copy()) is None
    with pytest.raises(ValueError):
        Patch(0, 0, np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError):
        paint_disc_segment(np.zeros((3, 3), np.int32), (1, 1), (1, 1), 1, 1)
