"""Reading images and masks in their various encodings; writing masks; file errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from segnet_core.errors import DataError
from segnet_core.labels import LabelSet
from segnet_core.io.images import read_image
from segnet_core.io.masks import read_mask, write_color_mask, write_index_mask


@pytest.fixture
def labels() -> LabelSet:
    return LabelSet(
        names=("Sky", "Road", "Car", "Tree"),
        colors=((128, 128, 128), (128, 64, 128), (64, 0, 128), (128, 128, 0)),
    )  # void index 4, black


@pytest.fixture
def mask(labels) -> np.ndarray:
    rng = np.random.default_rng(1)
    values = rng.integers(0, labels.num_classes + 1, size=(23, 31)).astype(np.uint8)
    return values  # 0..4, 4 = void


def write_cv2(path: Path, array: np.ndarray) -> Path:
    ok, data = cv2.imencode(path.suffix, array)
    assert ok
    path.write_bytes(data.tobytes())
    return path


# ------------------------------------------------------------------- images


def test_read_image_rgb_order(tmp_path):
    rgb = np.zeros((5, 7, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    rgb[..., 2] = 10
    path = write_cv2(tmp_path / "im.png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    out = read_image(path)
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, rgb)


def test_read_image_grey_bgra_16bit(tmp_path):
    grey = np.arange(35, dtype=np.uint8).reshape(5, 7)
    out = read_image(write_cv2(tmp_path / "g.png", grey))
    assert out.shape == (5, 7, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], grey)

    bgra = np.zeros((4, 4, 4), dtype=np.uint8)
    bgra[..., 0], bgra[..., 1], bgra[..., 2], bgra[..., 3] = 1, 2, 3, 77
    out = read_image(write_cv2(tmp_path / "a.png", bgra))
    assert out.shape == (4, 4, 3) and out[0, 0].tolist() == [3, 2, 1]

    deep = np.full((3, 3), 65535, dtype=np.uint16)
    deep[0, 0] = 0
    deep[0, 1] = 257 * 100
    out = read_image(write_cv2(tmp_path / "d.png", deep))
    assert out.dtype == np.uint8
    assert out[0, 0].tolist() == [0, 0, 0]
    assert out[0, 1].tolist() == [100, 100, 100]
    assert out[1, 1].tolist() == [255, 255, 255]


def test_read_image_non_ascii_path(tmp_path):
    folder = tmp_path / "données été"
    folder.mkdir()
    rgb = np.full((3, 4, 3), 9, dtype=np.uint8)
    path = write_cv2(folder / "île 1.png", rgb)
    np.testing.assert_array_equal(read_image(path), rgb)


def test_read_image_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.png"
    with pytest.raises(DataError, match="not found") as info:
        read_image(missing)
    assert info.value.path == missing and "missing.png" in str(info.value)

    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_image(empty)

    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"this is not an image at all" * 10)
    with pytest.raises(DataError, match="not a readable image") as info:
        read_image(junk)
    assert "junk.jpg" in str(info.value)

    good = write_cv2(tmp_path / "good.png", np.full((40, 40, 3), 5, dtype=np.uint8))
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError) as info:
        read_image(cut)
    assert "cut.png" in str(info.value)

    with pytest.raises(DataError, match="folder"):
        read_image(tmp_path)


# -------------------------------------------------------------------- masks


def test_palette_png_round_trip(tmp_path, labels, mask):
    path = tmp_path / "m.png"
    write_index_mask(path, mask, labels)
    with Image.open(path) as image:
        assert image.mode == "P"
        np.testing.assert_array_equal(np.asarray(image), mask)
        palette = np.array(image.getpalette("RGB"), dtype=np.uint8).reshape(-1, 3)
    for index, color in enumerate(labels.colors):
        assert tuple(palette[index]) == color
    assert tuple(palette[labels.void_index]) == labels.void_color
    out = read_mask(path, labels)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, mask)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files


def test_grey_and_16bit_masks(tmp_path, labels, mask):
    grey = tmp_path / "grey.png"
    Image.fromarray(mask).save(grey)
    np.testing.assert_array_equal(read_mask(grey, labels), mask)

    deep = tmp_path / "deep.png"
    Image.fromarray(mask.astype(np.uint16)).save(deep)
    with Image.open(deep) as check:
        assert check.mode.startswith("I")
    np.testing.assert_array_equal(read_mask(deep, labels), mask)

    big = mask.astype(np.uint16)
    big[3, 5] = 300
    Image.fromarray(big).save(deep)
    with pytest.raises(DataError) as info:
        read_mask(deep, labels)
    assert "deep.png" in str(info.value) and "300" in str(info.value)


def test_rgb_colour_mask(tmp_path, labels, mask):
    path = tmp_path / "colour.png"
    Image.fromarray(labels.colorize(mask)).save(path)
    np.testing.assert_array_equal(read_mask(path, labels), mask)

    rgba = np.dstack([labels.colorize(mask), np.full(mask.shape, 128, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "rgba.png", labels), mask)


def test_rgb_mask_unknown_colour(tmp_path, labels, mask):
    rgb = labels.colorize(mask)
    rgb[4, 6] = (1, 2, 3)
    path = tmp_path / "odd_colour.png"
    Image.fromarray(rgb).save(path)
    with pytest.raises(DataError) as info:
        read_mask(path, labels)
    text = str(info.value)
    assert "odd_colour.png" in text and "(1, 2, 3)" in text and "row 4, column 6" in text


def test_out_of_range_index(tmp_path, labels, mask):
    bad = mask.copy()
    bad[2, 2] = 9
    path = tmp_path / "bad_index.png"
    Image.fromarray(bad).save(path)
    with pytest.raises(DataError) as info:
        read_mask(path, labels)
    assert "bad_index.png" in str(info.value) and "value 9" in str(info.value)


def test_corrupt_and_truncated_masks(tmp_path, labels, mask):
    good = tmp_path / "good.png"
    write_index_mask(good, mask, labels)
    data = good.read_bytes()
    for name, content in [
        ("truncated.png", data[: len(data) // 2]),
        ("no_end.png", data[:-12]),
        ("garbage.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        ("empty.png", b""),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(DataError) as info:
            read_mask(path, labels)
        assert name in str(info.value), name
        assert info.value.path == path
    with pytest.raises(DataError, match="not found"):
        read_mask(tmp_path / "absent.png", labels)


def test_write_checks(tmp_path, labels, mask):
    with pytest.raises(ValueError, match="2-D uint8"):
        write_index_mask(tmp_path / "a.png", mask.astype(np.int64), labels)
    with pytest.raises(ValueError, match="2-D uint8"):
        write_index_mask(tmp_path / "a.png", np.dstack([mask, mask, mask]), labels)
    with pytest.raises(ValueError, match=".png"):
        write_index_mask(tmp_path / "a.jpg", mask, labels)
    bad = mask.copy()
    bad[0, 0] = 7
    with pytest.raises(DataError, match="value 7") as info:
        write_index_mask(tmp_path / "bad.png", bad, labels)
    assert "bad.png" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_write_color_mask(tmp_path, labels, mask):
    path = tmp_path / "colour.png"
    write_color_mask(path, mask, labels)
    with Image.open(path) as image:
        assert image.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(image), labels.colorize(mask))
    np.testing.assert_array_equal(read_mask(path, labels), mask)
