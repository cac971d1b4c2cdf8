"""Data sets: list files, folder pairs, layout detection, size checks, and CamVid itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segnet_core.data import (
    Sample,
    SegmentationDataset,
    folder_pair,
    open_dataset,
    read_list_file,
)
from segnet_core.errors import DataError
from segnet_core.labels import LabelSet, camvid_label_set

LABELS = LabelSet(names=("a", "b", "c"), colors=((10, 0, 0), (0, 10, 0), (0, 0, 10)))


def make_pair(image_path: Path, mask_path: Path, seed: int, size=(6, 8), mask_size=None) -> None:
    rng = np.random.default_rng(seed)
    image_path.parent.mkdir(parents=True, exist_ok=True)
    mask_path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(image_path)
    mask_size = mask_size or size
    Image.fromarray(rng.integers(0, 4, mask_size, dtype=np.uint8)).save(mask_path)


def make_list_layout(root: Path, n: int = 3, split: str = "train") -> Path:
    lines = []
    for i in range(n):
        make_pair(root / split / f"{i}.png", root / f"{split}annot" / f"{i}.png", seed=i)
        lines.append(f"{split}/{i}.png {split}annot/{i}.png")
    (root / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return root / f"{split}.txt"


# --------------------------------------------------------------- list files


def test_read_list_file(tmp_path):
    list_file = make_list_layout(tmp_path)
    ds = read_list_file(list_file, LABELS)
    assert len(ds) == 3 and ds.label_set is LABELS and ds.source == list_file
    assert ds.samples[1] == Sample(image=tmp_path / "train" / "1.png", mask=tmp_path / "trainannot" / "1.png")
    image, mask = ds[2]
    assert image.shape == (6, 8, 3) and image.dtype == np.uint8
    assert mask.shape == (6, 8) and mask.dtype == np.uint8 and mask.max() <= 3
    np.testing.assert_array_equal(ds.read_mask(2), mask)
    np.testing.assert_array_equal(ds.read_image(2), image)
    assert len(list(ds)) == 3  # iteration stops at IndexError


def test_list_file_absolute_paths_comments_and_blank_lines(tmp_path):
    make_pair(tmp_path / "x" / "im.png", tmp_path / "y" / "m.png", seed=5)
    list_file = tmp_path / "lists" / "set.txt"
    list_file.parent.mkdir()
    list_file.write_text(f"# a comment\n\n{tmp_path / 'x' / 'im.png'} {tmp_path / 'y' / 'm.png'}\n")
    ds = read_list_file(list_file, LABELS)
    assert ds.samples == (Sample(tmp_path / "x" / "im.png", tmp_path / "y" / "m.png"),)


def test_list_file_missing_file_names_line_and_path(tmp_path):
    list_file = make_list_layout(tmp_path)
    list_file.write_text(list_file.read_text() + "train/9.png trainannot/9.png\n")
    with pytest.raises(DataError) as info:
        read_list_file(list_file, LABELS)
    text = str(info.value)
    assert "train.txt" in text and "line 4" in text and str(tmp_path / "train" / "9.png") in text
    assert info.value.path == list_file

    list_file.write_text("train/0.png trainannot/missing.png\n")
    with pytest.raises(DataError, match="line 1: annotation file not found") as info:
        read_list_file(list_file, LABELS)
    assert "missing.png" in str(info.value)


@pytest.mark.parametrize("line", ["train/0.png", "train/0.png trainannot/0.png extra"])
def test_list_file_wrong_field_count(tmp_path, line):
    list_file = make_list_layout(tmp_path)
    list_file.write_text("train/1.png trainannot/1.png\n\n" + line + "\n")
    with pytest.raises(DataError, match="line 3: expected 'image annotation'") as info:
        read_list_file(list_file, LABELS)
    assert "train.txt" in str(info.value)


def test_list_file_empty_or_missing(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n# nothing\n")
    with pytest.raises(DataError, match="no 'image annotation' lines") as info:
        read_list_file(empty, LABELS)
    assert "empty.txt" in str(info.value)
    with pytest.raises(DataError, match="not found"):
        read_list_file(tmp_path / "none.txt", LABELS)


def test_mask_of_wrong_size_names_file_and_both_sizes(tmp_path):
    make_pair(tmp_path / "i.png", tmp_path / "odd_mask.png", seed=1, size=(6, 8), mask_size=(5, 8))
    ds = SegmentationDataset([Sample(tmp_path / "i.png", tmp_path / "odd_mask.png")], LABELS, tmp_path)
    with pytest.raises(DataError) as info:
        ds[0]
    text = str(info.value)
    assert "odd_mask.png" in text and "5x8" in text and "6x8" in text
    assert info.value.path == tmp_path / "odd_mask.png"


def test_bad_mask_value_is_reported_through_the_dataset(tmp_path):
    make_pair(tmp_path / "i.png", tmp_path / "m.png", seed=2)
    values = np.zeros((6, 8), dtype=np.uint8)
    values[1, 1] = 17
    Image.fromarray(values).save(tmp_path / "m.png")
    ds = SegmentationDataset([Sample(tmp_path / "i.png", tmp_path / "m.png")], LABELS, tmp_path)
    with pytest.raises(DataError, match="value 17"):
        ds[0]


# ------------------------------------------------------------- folder pairs


def test_folder_pair_matches_by_stem(tmp_path):
    make_pair(tmp_path / "images" / "b.JPG", tmp_path / "masks" / "b.png", seed=1)
    make_pair(tmp_path / "images" / "a.png", tmp_path / "masks" / "a.png", seed=2)
    make_pair(tmp_path / "images" / "c.tiff", tmp_path / "masks" / "c.bmp", seed=3)
    make_pair(tmp_path / "extra" / "d.png", tmp_path / "masks" / "d.png", seed=4)  # mask only
    (tmp_path / "images" / "notes.txt").write_text("not an image")
    (tmp_path / "images" / ".hidden.png").write_bytes(b"")
    ds = folder_pair(tmp_path, LABELS)
    assert [(s.image.name, s.mask.name) for s in ds.samples] == [
        ("a.png", "a.png"), ("b.JPG", "b.png"), ("c.tiff", "c.bmp"),
    ]
    image, mask = ds[2]
    assert image.shape == (6, 8, 3) and mask.shape == (6, 8)


def test_folder_pair_errors(tmp_path):
    for name in ("x1", "x2", "y"):
        make_pair(tmp_path / "images" / f"{name}.png", tmp_path / "unused" / f"{name}.png", seed=0)
    (tmp_path / "masks").mkdir()
    make_pair(tmp_path / "other" / "y.png", tmp_path / "masks" / "y.png", seed=0)
    with pytest.raises(DataError) as info:
        folder_pair(tmp_path, LABELS)
    text = str(info.value)
    assert "2 of 3 images have no mask" in text and "x1.png" in text and "x2.png" in text

    empty = tmp_path / "empty"
    (empty / "images").mkdir(parents=True)
    (empty / "masks").mkdir()
    with pytest.raises(DataError, match="no images"):
        folder_pair(empty, LABELS)
    with pytest.raises(DataError, match="folder not found"):
        folder_pair(tmp_path / "other", LABELS)


def test_folder_pair_ambiguous_stem(tmp_path):
    make_pair(tmp_path / "images" / "a.png", tmp_path / "masks" / "a.png", seed=0)
    make_pair(tmp_path / "images" / "a.jpg", tmp_path / "m2" / "a.png", seed=0)
    with pytest.raises(DataError, match="share the stem 'a'"):
        folder_pair(tmp_path, LABELS)


# ------------------------------------------------------------ open_dataset


def test_open_dataset_layouts(tmp_path):
    camvid_like = tmp_path / "camvid_like"
    make_list_layout(camvid_like, n=2, split="val")
    ds = open_dataset(camvid_like, "val")
    assert len(ds) == 2 and ds.label_set == camvid_label_set()
    assert len(open_dataset(camvid_like / "val.txt")) == 2

    LABELS.write(camvid_like / "label_colors.txt")
    assert open_dataset(camvid_like, "val").label_set == LABELS
    explicit = LabelSet(names=("p", "q", "r", "s"), colors=((1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4)))
    assert open_dataset(camvid_like, "val", label_set=explicit).label_set is explicit

    pairs = tmp_path / "pairs"
    make_pair(pairs / "images" / "a.png", pairs / "masks" / "a.png", seed=0)
    assert len(open_dataset(pairs, "whatever")) == 1

    splits = tmp_path / "splits"
    for split, n in (("train", 2), ("val", 1)):
        for i in range(n):
            make_pair(splits / split / "images" / f"{i}.png", splits / split / "masks" / f"{i}.png", seed=i)
    LABELS.write(splits / "labels.json")
    ds = open_dataset(splits, "train")
    assert len(ds) == 2 and ds.label_set == LABELS
    assert len(open_dataset(splits, "val")) == 1


def test_open_dataset_rejects_unknown_layouts(tmp_path):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(DataError) as info:
        open_dataset(tmp_path / "stuff", "test")
    text = str(info.value)
    assert "stuff" in text and "test.txt" in text and "images/ and masks/" in text
    with pytest.raises(DataError, match="no such file or folder"):
        open_dataset(tmp_path / "absent")


# -------------------------------------------------------------------- CamVid


def test_camvid_val(camvid_root):
    ds = open_dataset(camvid_root, "val")
    assert len(ds) == 101
    assert ds.label_set.num_classes == 11 and ds.label_set.void_index == 11
    assert ds.label_set == camvid_label_set()
    image, mask = ds[0]
    assert image.shape == (360, 480, 3) and image.dtype == np.uint8
    assert mask.shape == (360, 480) and mask.dtype == np.uint8
    assert mask.max() <= 11 and len(np.unique(mask)) > 3
