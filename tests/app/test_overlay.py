"""Overlay arrays from labels and confidence (pure numpy), and their QImage copies."""

import numpy as np
import pytest

from app.canvas.overlay import class_shares, confidence_rgba, label_rgba, uncertainty
from segnet_core.labels import LabelSet

LABELS = LabelSet(("A", "B", "C"), ((255, 0, 0), (0, 255, 0), (0, 0, 255)), void_index=255)
MASK = np.array([[0, 1, 2], [2, 255, 0]], np.uint8)


def test_all_classes_shown_in_their_colours_and_void_transparent():
    rgba = label_rgba(MASK, LABELS)
    assert (rgba[..., :3][MASK != 255] == LABELS.colorize(MASK)[MASK != 255]).all()
    assert (rgba[..., 3] == np.where(MASK == 255, 0, 255)).all()


def test_hidden_class_is_transparent_and_solo_shows_one_class():
    hidden = label_rgba(MASK, LABELS, visible=[True, False, True])
    assert (hidden[..., 3] == np.where((MASK == 1) | (MASK == 255), 0, 255)).all()
    solo = label_rgba(MASK, LABELS, visible=[False, False, False], solo=2)
    assert (solo[..., 3] == np.where(MASK == 2, 255, 0)).all()
    assert (solo[MASK == 2][:, :3] == (0, 0, 255)).all()
    with pytest.raises(ValueError):
        label_rgba(MASK, LABELS, solo=3)


def test_confidence_heat_map_is_dark_where_sure_and_bright_where_unsure():
    confidence = np.array([[1.0, 1 / 3]], np.float32)
    assert uncertainty(confidence, 3).tolist() == [[0.0, pytest.approx(1.0)]]
    rgba = confidence_rgba(confidence, 3)
    assert rgba.shape == (1, 2, 4) and (rgba[..., 3] == 255).all()
    assert rgba[0, 0, :3].sum() < rgba[0, 1, :3].sum()


def test_class_shares_count_pixels_per_class():
    assert class_shares(MASK, 3).tolist() == pytest.approx([2 / 6, 1 / 6, 2 / 6])


def test_qimage_round_trip_copies_the_pixels(qapp):
    from app.canvas.qimage import array_to_qimage, qimage_to_array

    rgba = label_rgba(MASK, LABELS)
    image = array_to_qimage(rgba)
    rgba[:] = 7  # the QImage must not share this buffer
    assert (qimage_to_array(image) == label_rgba(MASK, LABELS)).all()
