"""Export of masks: every format is read back and compared with the masks it was made from."""

from __future__ import annotations

import argparse
import errno
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
from segnet_core.cli import main
from segnet_core.commands import export as export_command
from segnet_core.data.datasets import open_dataset
from segnet_core.errors import ExportError, SegNetError
from segnet_core.importing.rle import decode_segmentation
from segnet_core.export import (FORMATS, ExportItem, assign_splits, class_file_names,
                                export_index, export_masks, mask_regions, rle_encode)
from segnet_core.labels import LabelSet
from segnet_core.io.images import read_image
from segnet_core.io.masks import read_mask, write_index_mask
from segnet_core.masks.labels_folder import PROPAGATED, LabelsFolder
from segnet_core.masks.render import overlay_image
from segnet_core.models import build_model
from segnet_core.inference import Predictor
from segnet_core.events import CancelToken

LABELS = LabelSet(("Sky", "Road/Lane", "Car"), ((128, 128, 128), (128, 64, 128), (64, 0, 128)),
                  void_name="Void")
VOID = LABELS.void_index  # 3 = K
CPU = ["--device", "cpu", "--precision", "fp32"]


def blocky_mask(rng, shape, block=4) -> np.ndarray:
    """Blocks of classes 0..2 and void, so every class has several regions, some touching
    only at a corner."""
    h, w = shape
    small = rng.integers(0, VOID + 1, (-(-h // block), -(-w // block))).astype(np.uint8)
    return np.repeat(np.repeat(small, block, 0), block, 1)[:h, :w].copy()


def make_items(count=4, shape=(24, 32), seed=0) -> list[ExportItem]:
    rng = np.random.default_rng(seed)
    items = []
    for i in range(count):
        image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        items.append(ExportItem(f"img_{i:02d}", blocky_mask(rng, shape), corrected=i % 2 == 0,
                                image=image))
    return items


def masks_of(items) -> dict[str, np.ndarray]:
    return {item.name: item.mask for item in items}


def decode_rle(rle: dict) -> np.ndarray:
    """An independent reading of COCO uncompressed RLE: alternating runs of 0 and 1 (starting
    with 0) over the pixels in column-major order."""
    h, w = rle["size"]
    flat = np.zeros(h * w, dtype=bool)
    position, value = 0, False
    for count in rle["counts"]:
        assert count >= 0
        flat[position:position + count] = value
        position += count
        value = not value
    assert position <= h * w
    return flat.reshape(w, h).T


def written_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def loads_completely(path: Path) -> None:
    """Raise when a final file is not a complete file of its kind."""
    suffix = path.suffix.lower()
    if suffix in (".png", ".jpg"):
        with Image.open(path) as image:
            image.load()
    elif suffix == ".json":
        json.loads(path.read_text())
    elif suffix == ".mp4":
        capture = cv2.VideoCapture(str(path))
        assert capture.isOpened() and capture.read()[0]
        capture.release()


# ------------------------------------------------------------------------ formats


def test_an_output_folder_that_cannot_be_one_is_said_before_any_file_naming_it(tmp_path):
    from segnet_core.export import export_masks

    (tmp_path / "clip.avi").write_bytes(b"a video")
    for out, why in [(tmp_path / "clip.avi" / "out",
                      f"cannot be made: {tmp_path / 'clip.avi'} is a file, not a folder"),
                     (tmp_path / "clip.avi", "is a file, not a folder")]:
        with pytest.raises(ExportError) as raised:
            export_masks(make_items(2), out, ["index"], LABELS)
        assert raised.value.path == out and raised.value.reason == why
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.avi"]


def test_camvid_layout_reads_back_through_open_dataset(tmp_path):
    items = make_items()
    result = export_masks(items, tmp_path, ["camvid"], LABELS)
    root = tmp_path / "camvid"
    dataset = open_dataset(root, "train")
    assert dataset.label_set == LABELS
    assert len(dataset) == len(items)
    expected = masks_of(items)
    images = {item.name: item.image for item in items}
    for i, sample in enumerate(dataset.samples):
        assert sample.image.stem == sample.mask.stem  # matched by name
        assert sample.image.parent.name == "train" and sample.mask.parent.name == "trainannot"
        image, mask = dataset[i]
        np.testing.assert_array_equal(mask, expected[sample.image.stem])
        np.testing.assert_array_equal(image, images[sample.image.stem])
        with Image.open(sample.mask) as annotation:
            assert annotation.mode == "L"  # single-channel, as CamVid's
    assert (root / "label_colors.txt").is_file()
    assert result.exported == 4 and result.corrected == 2 and result.predicted == 2


def test_camvid_moves_void_to_k_as_camvid_does(tmp_path):
    labels = LabelSet(("a", "b"), ((255, 0, 0), (0, 255, 0)), void_index=200, void_name="ignore")
    mask = np.array([[0, 1, 200], [200, 1, 0]], np.uint8)
    item = ExportItem("x", mask, image=np.zeros((2, 3, 3), np.uint8))
    export_masks([item], tmp_path, ["camvid"], labels)
    dataset = open_dataset(tmp_path / "camvid")
    assert dataset.label_set.void_index == 2
    np.testing.assert_array_equal(dataset.read_mask(0), np.where(mask == 200, 2, mask))


def test_voc_layout_values_palette_and_lists(tmp_path):
    items = make_items()
    export_masks(items, tmp_path, ["voc"], LABELS)
    root = tmp_path / "voc"
    stems = [item.name for item in items]
    for item in items:
        with Image.open(root / "SegmentationClass" / f"{item.name}.png") as png:
            assert png.mode == "P"
            values = np.array(png)
            palette = np.array(png.getpalette()[: 256 * 3], np.uint8).reshape(-1, 3)
        np.testing.assert_array_equal(values, np.where(item.mask == VOID, 255, item.mask))
        assert set(np.unique(values)) <= {0, 1, 2, 255}
        for k, color in enumerate(LABELS.colors):
            assert tuple(palette[k]) == color
        assert tuple(palette[255]) == (224, 224, 192)  # VOC's own void colour
        jpeg = read_image(root / "JPEGImages" / f"{item.name}.jpg")
        assert jpeg.shape == item.image.shape
    assert (root / "ImageSets/Segmentation/trainval.txt").read_text().split() == stems
    assert not (root / "ImageSets/Segmentation/train.txt").exists()
    assert (root / "labels.txt").read_text().splitlines() == list(LABELS.names)
    voc_labels = LabelSet.read(root / "labels.json")
    assert voc_labels.void_index == 255 and voc_labels.names == LABELS.names
    read = read_mask(root / "SegmentationClass" / f"{stems[0]}.png", voc_labels)
    np.testing.assert_array_equal(read, np.where(items[0].mask == VOID, 255, items[0].mask))


def test_rle_is_column_major_and_starts_with_zeros():
    assert rle_encode(np.array([[0, 1], [1, 1]], bool)) == {"counts": [1, 3], "size": [2, 2]}
    assert rle_encode(np.array([[1, 0, 0], [0, 0, 1]], bool)) == {"counts": [0, 1, 4, 1],
                                                                   "size": [2, 3]}
    assert rle_encode(np.zeros((2, 2), bool))["counts"] == [4]
    rng = np.random.default_rng(3)
    binary = rng.random((7, 5)) < 0.4
    np.testing.assert_array_equal(decode_rle(rle_encode(binary)), binary)


def test_coco_regions_are_8_connected():
    mask = np.full((6, 6), VOID, np.uint8)
    mask[0:2, 0:2] = 2  # two squares touching at a corner: one region
    mask[2:4, 2:4] = 2
    mask[5, 5] = 2  # apart: a second region
    regions = list(mask_regions(mask, LABELS.num_classes))
    assert [(k, area, bbox) for k, _, area, bbox in regions] == [(2, 8, [0, 0, 4, 4]),
                                                                  (2, 1, [5, 5, 1, 1])]


def _coco_decode(segmentation, h, w):
    """The annotation's mask as pycocotools' annToMask makes it, checked against the importer."""
    coco_mask = pytest.importorskip("pycocotools.mask")
    if isinstance(segmentation, list):  # as COCO.annToRLE does
        rle = coco_mask.merge(coco_mask.frPyObjects(segmentation, h, w))
    elif isinstance(segmentation["counts"], list):
        rle = coco_mask.frPyObjects(segmentation, h, w)
    else:
        rle = dict(segmentation, counts=segmentation["counts"].encode())
    region = coco_mask.decode(rle)
    region = region.astype(bool)
    np.testing.assert_array_equal(decode_segmentation(segmentation, h, w), region)
    return region


@pytest.mark.parametrize("style", ["polygons", "uncompressed", "compressed"])
def test_coco_annotations_decode_to_the_masks(tmp_path, style):
    items = make_items()
    items[0].mask[5:9, 5:9] = 0
    items[0].mask[6:8, 6:8] = 1  # a region with a hole: RLE even among polygons
    export_masks(items, tmp_path, ["coco"], LABELS, coco_segmentation=style)
    root = tmp_path / "coco"
    document = json.loads((root / "instances.json").read_text())
    assert [(c["id"], c["name"]) for c in document["categories"]] == [
        (k + 1, name) for k, name in enumerate(LABELS.names)]
    masks = masks_of(items)
    by_image = {image["id"]: image for image in document["images"]}
    assert len(by_image) == len(items)
    ids = [a["id"] for a in document["annotations"]]
    assert len(set(ids)) == len(ids)
    kinds = set()
    for image_id, image in by_image.items():
        stem = Path(image["file_name"]).stem
        mask = masks[stem]
        assert (image["height"], image["width"]) == mask.shape
        assert read_image(root / "images" / image["file_name"]).shape[:2] == mask.shape
        annotations = [a for a in document["annotations"] if a["image_id"] == image_id]
        covered = np.zeros(mask.shape, int)
        for k in range(LABELS.num_classes):
            union = np.zeros(mask.shape, bool)
            for a in (a for a in annotations if a["category_id"] == k + 1):
                region = _coco_decode(a["segmentation"], *mask.shape)
                kinds.add(type(a["segmentation"]).__name__)
                assert a["iscrowd"] == 0
                assert a["area"] == int(region.sum())
                ys, xs = np.nonzero(region)
                assert a["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                                     ys.max() - ys.min() + 1]
                count, _ = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
                assert count == 2  # background + exactly one region
                covered += region
                union |= region
            np.testing.assert_array_equal(union, mask == k)
        assert covered.max() <= 1  # regions do not overlap
        assert not covered[mask == VOID].any()  # void gets no annotation
    assert kinds == ({"list", "dict"} if style == "polygons" else {"dict"})


def test_per_class_index_color_and_overlay(tmp_path):
    items = make_items(count=2)
    export_masks(items, tmp_path, ["index", "color", "per-class", "overlay"], LABELS,
                 alpha=0.3)
    stems = class_file_names(LABELS.names)
    assert stems == ["Sky", "Road_Lane", "Car"]
    for item in items:
        np.testing.assert_array_equal(read_mask(tmp_path / "index" / f"{item.name}.png", LABELS),
                                      item.mask)
        np.testing.assert_array_equal(read_image(tmp_path / "color" / f"{item.name}.png"),
                                      LABELS.colorize(item.mask))
        overlay = read_image(tmp_path / "overlay" / f"{item.name}.png")
        assert overlay.shape == item.image.shape
        np.testing.assert_array_equal(overlay, overlay_image(item.image, item.mask, LABELS, 0.3))
        for k, stem in enumerate(stems):
            with Image.open(tmp_path / "per-class" / item.name / f"{stem}.png") as png:
                assert png.mode == "L"
                binary = np.array(png)
            np.testing.assert_array_equal(binary, np.where(item.mask == k, 255, 0))


def test_video_has_one_clip_per_source_with_every_frame(tmp_path):
    rng = np.random.default_rng(1)
    frames = [ExportItem(f"clip_{i:06d}", blocky_mask(rng, (24, 32)), corrected=i == 2,
                         image=rng.integers(0, 256, (24, 32, 3), dtype=np.uint8),
                         source=Path("clip.avi"), frame=i, fps=12.0) for i in range(6)]
    stills = [ExportItem(f"still_{i}", blocky_mask(rng, (21, 33)),
                         image=rng.integers(0, 256, (21, 33, 3), dtype=np.uint8))
              for i in range(2)]
    result = export_masks(frames + stills, tmp_path, ["video"], LABELS, fps=None)
    clip, images = tmp_path / "video" / "clip.mp4", tmp_path / "video" / "images.mp4"
    from segnet_core.atomic import _UMASK
    assert clip.stat().st_mode & 0o777 == 0o666 & ~_UMASK  # not mkstemp's 0600
    assert set(written_files(tmp_path)) == {"video/clip.mp4", "video/images.mp4",
                                            "manifest.json"}
    for path, count, size, fps in ((clip, 6, (24, 32), 12.0), (images, 2, (22, 34), 10.0)):
        capture = cv2.VideoCapture(str(path))
        assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(fps)
        read = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            assert frame.shape[:2] == size
            read += 1
        capture.release()
        assert read == count
    manifest = json.loads(result.manifest.read_text())
    entry = next(f for f in manifest["files"] if f["path"] == "video/clip.mp4")
    assert entry["frames"] == 6 and entry["corrected_frames"] == 1


def test_a_video_frame_of_another_shape_fits_whole_on_black_not_squashed():
    """A probe: a 480x1280 portrait among 320x240 stills was squashed into 320x240."""
    from segnet_core.export.images import _fit

    portrait = np.full((1280, 480, 3), 200, np.uint8)
    fitted = _fit(portrait, (240, 320))
    assert fitted.shape == (240, 320, 3)
    filled = np.flatnonzero(fitted[120, :, 0])  # the picture's columns on the middle row
    assert (filled[0], filled[-1]) == (115, 204)  # 90 wide (480 * 240 / 1280), centred
    assert (fitted[:, :115] == 0).all() and (fitted[:, 205:] == 0).all()
    wide = _fit(np.full((10, 100, 3), 7, np.uint8), (240, 320))  # letterboxed above, below
    assert (wide[:104] == 0).all() and (wide[104:136] == 7).all() and (wide[136:] == 0).all()


def test_split_fractions_give_disjoint_sets_covering_all_items(tmp_path):
    items = make_items(count=10, shape=(8, 8))  # every other one corrected
    result = export_masks(items, tmp_path, ["camvid", "voc"], LABELS, split=(0.6, 0.2, 0.2),
                          seed=5)
    # the 5 corrected split 3 / 1 / 1; the 5 predicted train
    assert result.split_counts == {"train": 8, "val": 1, "test": 1}
    camvid = {split: {s.image.stem for s in open_dataset(tmp_path / "camvid", split).samples}
              for split in ("train", "val", "test")}
    assert {k: len(v) for k, v in camvid.items()} == {"train": 8, "val": 1, "test": 1}
    corrected = {item.name for item in items if item.corrected}
    assert camvid["val"] | camvid["test"] <= corrected
    assert set.union(*camvid.values()) == {item.name for item in items}
    assert sum(len(v) for v in camvid.values()) == len(items)  # disjoint
    lists = tmp_path / "voc" / "ImageSets" / "Segmentation"
    voc = {split: set((lists / f"{split}.txt").read_text().split())
           for split in ("train", "val", "test", "trainval")}
    assert {k: voc[k] for k in ("train", "val", "test")} == camvid
    assert voc["trainval"] == voc["train"] | voc["val"]
    # the same seed gives the same split; the split is by item, whatever the format
    assert assign_splits(10, (0.6, 0.2, 0.2), 5) == assign_splits(10, (0.6, 0.2, 0.2), 5)
    assert sorted(assign_splits(7, (0.8, 0.1, 0.1))) == ["test"] + ["train"] * 5 + ["val"]
    with pytest.raises(ValueError):
        assign_splits(3, (0.5, 0.2), 0)


def test_manifest_lists_every_written_file(tmp_path):
    items = make_items(count=3)
    result = export_masks(items, tmp_path, list(FORMATS), LABELS, split=(0.5, 0.5))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    listed = {entry["path"] for entry in manifest["files"]}
    assert listed | {"manifest.json"} == written_files(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in result.files} == listed | {
        "manifest.json"}
    assert manifest["status"] == "complete" and manifest["cancelled"] is False
    assert manifest["counts"]["exported"] == 3 and manifest["counts"]["files"] == len(listed)
    assert manifest["label_set"] == LABELS.to_dict()
    corrected = {item.name: item.corrected for item in items}
    for entry in manifest["files"]:
        if entry["item"] is not None:
            assert entry["corrected"] is corrected[entry["item"]]
            assert Path(entry["path"]).stem in (entry["item"],) + tuple(
                class_file_names(LABELS.names))
    for path in result.files:
        loads_completely(path)


# ------------------------------------------------------------- errors and cancel


def failing_replace(monkeypatch, fail_on):
    """os.replace that raises ENOSPC on the calls `fail_on(call number, destination)` picks."""
    real = os.replace
    calls = []

    def replace(src, dst, *args, **kwargs):
        calls.append(str(dst))
        if fail_on(len(calls), str(dst)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return calls


def check_no_partial_files(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            assert not path.name.startswith("."), f"temporary file left: {path}"
            loads_completely(path)


def test_disk_error_names_the_file_and_leaves_no_partial_file(tmp_path, monkeypatch):
    calls = failing_replace(monkeypatch, lambda n, dst: n == 3)
    items = make_items(count=3)
    with pytest.raises(ExportError) as caught:
        export_masks(items, tmp_path, ["index", "color", "video"], LABELS)
    assert caught.value.path == tmp_path / "index" / "img_01.png"
    assert "No space left" in str(caught.value) and "img_01.png" in str(caught.value)
    assert not caught.value.path.exists()
    check_no_partial_files(tmp_path)
    assert not (tmp_path / "video").exists() or not any((tmp_path / "video").iterdir())
    manifest = json.loads((tmp_path / "manifest.json").read_text())  # written after the error
    assert manifest["status"] == "failed" and "img_01.png" in manifest["error"]
    assert [f["path"] for f in manifest["files"]] == ["index/img_00.png", "color/img_00.png"]
    assert len(calls) == 4


def test_a_failed_export_leaves_no_empty_folder_it_made(tmp_path, monkeypatch):
    """A probe: an export failing on a full disk at its first file left an empty index/
    (a folder there before, or holding a file, stays)."""
    failing_replace(monkeypatch, lambda n, dst: True)
    (tmp_path / "color").mkdir()
    with pytest.raises(ExportError):
        export_masks(make_items(count=2), tmp_path, ["index", "voc", "color"], LABELS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["color"]


def test_disk_error_on_the_video_removes_its_temporary_file(tmp_path, monkeypatch):
    failing_replace(monkeypatch, lambda n, dst: dst.endswith(".mp4") or dst.endswith(".json"))
    with pytest.raises(ExportError) as caught:
        export_masks(make_items(count=2), tmp_path, ["video", "index"], LABELS)
    assert caught.value.path == tmp_path / "video" / "images.mp4"
    assert written_files(tmp_path) == {"index/img_00.png", "index/img_01.png"}
    check_no_partial_files(tmp_path)


def test_cancel_keeps_complete_files_and_a_cancelled_manifest(tmp_path):
    items = make_items(count=5)
    cancel = CancelToken()
    seen = []

    def progress(done, total):
        seen.append((done, total))
        if done == 2:
            cancel.cancel()

    result = export_masks(items, tmp_path, ["camvid", "coco", "video"], LABELS,
                          progress=progress, cancel=cancel)
    assert seen == [(0, 5), (1, 5), (2, 5)]
    assert result.cancelled and result.exported == 2
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "cancelled" and manifest["cancelled"] is True
    assert {f["path"] for f in manifest["files"]} | {"manifest.json"} == written_files(tmp_path)
    dataset = open_dataset(tmp_path / "camvid")
    assert [s.image.stem for s in dataset.samples] == ["img_00", "img_01"]
    for i in range(2):
        np.testing.assert_array_equal(dataset[i][1], items[i].mask)
    coco = json.loads((tmp_path / "coco" / "instances.json").read_text())
    assert len(coco["images"]) == 2
    check_no_partial_files(tmp_path)


def test_unusable_items_are_skipped_or_raised(tmp_path):
    items = make_items(count=3)
    bad_value = ExportItem("bad_value", np.full((24, 32), 9, np.uint8), image=items[0].image)
    other_size = ExportItem("other_size", items[0].mask, image=np.zeros((5, 5, 3), np.uint8))
    duplicate = ExportItem("IMG_00", items[1].mask, image=items[1].image)
    spaced = ExportItem("with space", items[1].mask, image=items[1].image)
    errors = []
    result = export_masks(items + [bad_value, other_size, duplicate, spaced], tmp_path,
                          ["index", "camvid"], LABELS,
                          on_error=lambda item, error: errors.append((item.name, str(error))))
    assert [name for name, _ in errors] == ["bad_value", "other_size", "IMG_00"]
    assert "9" in errors[0][1] and "5x5" in errors[1][1] and "same name" in errors[2][1]
    assert result.exported == 4 and len(result.skipped) == 3  # "with space": not in camvid/
    assert [(name, fmt) for name, fmt, _ in result.left_out] == [("with space", "camvid")]
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == [
        "img_00.png", "img_01.png", "img_02.png", "with space.png"]
    result = export_masks([spaced], tmp_path / "camvid only", ["camvid"], LABELS,
                          on_error=lambda item, error: errors.append((item.name, str(error))))
    assert result.exported == 0 and errors[-1][0] == "with space"  # no format chosen holds it
    assert "split lines on spaces" in errors[-1][1] and result.left_out == []
    with pytest.raises(SegNetError, match="neither a class"):
        export_index([bad_value], tmp_path / "raised", LABELS)
    with pytest.raises(ValueError, match="unknown export format"):
        export_masks(items, tmp_path, ["tiff"], LABELS)


#: A tester's file name: spaces, both quotes and non-ASCII letters.
ODD_NAME = "name with spaces 'quote\" \u00fcn\u00efc\u00f8d\u00e9 \u65e5\u672c"


def test_a_name_a_format_cannot_hold_is_left_out_of_that_format_only(tmp_path):
    """A tester's frame named with spaces was dropped from every format when CamVid was
    ticked ("3 of 4"): CamVid's and VOC's list files cannot hold it, the others can."""
    items = make_items(count=3)
    odd = ExportItem(ODD_NAME, items[0].mask.copy(), image=items[0].image.copy())
    errors = []
    result = export_masks(items + [odd], tmp_path, FORMATS, LABELS, split=(0.5, 0.5),
                          on_error=lambda item, error: errors.append((item.name, error)))
    assert errors == [] and result.skipped == [] and result.exported == 4
    np.testing.assert_array_equal(read_mask(tmp_path / "index" / f"{ODD_NAME}.png", LABELS),
                                  odd.mask)
    for fmt in ("color", "overlay", "coco/images"):
        assert (tmp_path / fmt / f"{ODD_NAME}.png").is_file()
    assert (tmp_path / "per-class" / ODD_NAME).is_dir()
    coco = json.loads((tmp_path / "coco" / "instances.json").read_text(encoding="utf-8"))
    assert f"{ODD_NAME}.png" in [image["file_name"] for image in coco["images"]]
    for layout in ("camvid", "voc"):
        assert not any(ODD_NAME in path for path in written_files(tmp_path / layout))
    listed = [line.split()[0] for name in ("train", "val")
              for line in (tmp_path / "camvid" / f"{name}.txt").read_text().splitlines()]
    assert sorted(Path(line).stem for line in listed) == [item.name for item in items]
    voc_lists = tmp_path / "voc" / "ImageSets" / "Segmentation"
    assert sorted((voc_lists / "train.txt").read_text().split()
                  + (voc_lists / "val.txt").read_text().split()) == [i.name for i in items]
    assert sum(result.split_counts.values()) == 3  # the split is of what the layouts hold
    assert [(name, fmt) for name, fmt, _ in result.left_out] == [(ODD_NAME, "camvid"),
                                                                 (ODD_NAME, "voc")]
    summary = result.summary()
    assert f"{ODD_NAME!r} left out of camvid/ and voc/ only" in summary
    assert "(the list files split lines on spaces, so a name with a space cannot go in)" \
        in summary
    assert "every other format holds it" in summary
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    (record,) = [r for r in manifest["items"] if r["name"] == ODD_NAME]
    assert record["status"] == "exported" and "split" not in record
    assert sorted(record["left_out_of"]) == ["camvid", "voc"]
    assert {f["format"] for f in manifest["files"] if f["item"] == ODD_NAME} == {
        "index", "color", "per-class", "overlay", "coco"}
    assert manifest["counts"]["left_out_of_some_formats"] == 1


def test_export_command_names_a_frame_left_out_of_camvid_only(tmp_path, capsys):
    rng = np.random.default_rng(9)
    (tmp_path / "labels").mkdir()
    LABELS.write(tmp_path / "labels" / "label_colors.txt")
    for name in ("a", ODD_NAME):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(
            tmp_path / f"{name}.png")
        write_index_mask(tmp_path / "labels" / f"{name}.png", blocky_mask(rng, (16, 16)),
                         LABELS)
    code = main(["export", "--images", str(tmp_path), "--format", "camvid", "--format",
                 "index", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 1  # not everything asked for was written
    assert "exported 2 of 2" in captured.out
    assert f"{ODD_NAME!r} left out of camvid/ only" in captured.out
    assert (tmp_path / "out" / "index" / f"{ODD_NAME}.png").is_file()
    assert (tmp_path / "out" / "camvid" / "train.txt").read_text().split() == [
        "train/a.png", "trainannot/a.png"]


def test_lazy_items_read_their_image_and_mask_when_reached(tmp_path):
    items = make_items(count=1)
    write_index_mask(tmp_path / "m.png", items[0].mask, LABELS)
    cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(items[0].image, cv2.COLOR_RGB2BGR))
    item = ExportItem("a", lambda: read_mask(tmp_path / "m.png", LABELS),
                      image=tmp_path / "a.png")
    assert item.source == tmp_path / "a.png"
    paths = export_index([item], tmp_path / "out", LABELS)
    assert paths == [tmp_path / "out" / "a.png"]
    np.testing.assert_array_equal(read_mask(paths[0], LABELS), items[0].mask)


# ------------------------------------------------------------------------- command


def make_checkpoint(path: Path, labels: LabelSet) -> Path:
    torch.manual_seed(0)
    model = build_model("segnet-basic", labels.num_classes)
    save_checkpoint(path, checkpoint_from_model(model, labels.to_dict(), None))
    return path


def write_rgb(path: Path, image: np.ndarray) -> None:
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def test_command_takes_every_library_format_and_no_other(capsys):
    parser = argparse.ArgumentParser()
    export_command.add_arguments(parser)
    base = ["--images", "shots", "--out", "export"]
    args = parser.parse_args(base + [arg for fmt in FORMATS for arg in ("--format", fmt)])
    assert tuple(args.formats) == FORMATS
    with pytest.raises(SystemExit):
        parser.parse_args(base + ["--format", "tiff"])
    assert "invalid choice" in capsys.readouterr().err


def test_export_command_with_predict_missing(tmp_path, capsys):
    rng = np.random.default_rng(7)
    folder = tmp_path / "shots"
    labels_dir = folder / "labels"  # the default: a labels folder beside the images
    labels_dir.mkdir(parents=True)
    masks = {}
    for name in ("a", "b", "c"):
        write_rgb(folder / f"{name}.png", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    for name in ("a", "c"):
        masks[name] = blocky_mask(rng, (32, 32))
        write_index_mask(labels_dir / f"{name}.png", masks[name], LABELS)
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (48, 32))
    for i in range(3):
        writer.write(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8))
    writer.release()
    video_masks = tmp_path / "labels"
    video_masks.mkdir()
    masks["clip_000001"] = blocky_mask(rng, (32, 48))
    write_index_mask(video_masks / "clip_000001.png", masks["clip_000001"], LABELS)
    checkpoint = make_checkpoint(tmp_path / "tiny.pt", LABELS)

    out = tmp_path / "out"
    code = main(["export", "--images", str(folder), str(video), "--predict-missing",
                 "--model", str(checkpoint), "--format", "index", "--format", "camvid",
                 "--out", str(out), *CPU])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "exported 6 of 6 items (3 corrected, 3 predicted)" in captured.out
    manifest = json.loads((out / "manifest.json").read_text())
    corrected = {item["name"]: item["corrected"] for item in manifest["items"]}
    assert corrected == {"a": True, "b": False, "c": True, "clip_000000": False,
                         "clip_000001": True, "clip_000002": False}
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu", precision="fp32")
    from segnet_core.io.video import VideoFrames
    with VideoFrames(video) as frames:
        images = {"b": read_image(folder / "b.png"), "clip_000000": frames.read(0),
                  "clip_000002": frames.read(2)}
    for name, image in images.items():
        masks[name] = predictor.predict(image).labels
    for name, mask in masks.items():
        np.testing.assert_array_equal(read_mask(out / "index" / f"{name}.png", LABELS), mask)
    dataset = open_dataset(out / "camvid")
    assert sorted(s.image.stem for s in dataset.samples) == sorted(masks)
    # --corrected-only leaves the predictions out
    only = tmp_path / "only"
    code = main(["export", "--images", str(folder), str(video), "--predict-missing",
                 "--model", str(checkpoint), "--format", "index", "--corrected-only",
                 "--out", str(only), *CPU])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.stem for p in (only / "index").glob("*.png")) == ["a", "c", "clip_000001"]

    # without --predict-missing only the masked items go out; nothing at all is an error
    code = main(["export", "--images", str(folder), str(video), "--format", "color",
                 "--out", str(tmp_path / "out2"), "--label-set", str(tmp_path / "none.txt")])
    assert code == 2 and "none.txt" in capsys.readouterr().err
    LABELS.write(tmp_path / "labels.txt")
    code = main(["export", "--images", str(folder), str(video), "--format", "color",
                 "--out", str(tmp_path / "out2"), "--label-set", str(tmp_path / "labels.txt")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sorted(p.stem for p in (tmp_path / "out2" / "color").iterdir()) == [
        "a", "c", "clip_000001"]
    code = main(["export", "--images", str(folder / "b.png"), "--format", "index",
                 "--out", str(tmp_path / "out3")])
    assert code == 2 and "nothing to export" in capsys.readouterr().err


def test_export_command_leaves_propagated_labels_out_unless_asked_and_marks_them(
        tmp_path, capsys):
    """A mask the labels folder's propagated.txt lists holds propagated labels nobody
    accepted: left out, and said so, unless --include-propagated, which exports it marked
    "propagated", never as corrected (--corrected-only leaves it out still); a propagated.txt
    that cannot be read stops the export, naming it."""
    rng = np.random.default_rng(9)
    folder = tmp_path / "shots"
    folder.mkdir()
    labels = LabelsFolder(folder / "labels")
    for name in ("a", "b"):
        write_rgb(folder / f"{name}.png", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
        labels.save(f"{name}.png", blocky_mask(rng, (32, 32)), LABELS)
    labels.write_names(PROPAGATED, {"b.png"})

    def export(out, *options) -> int:
        return main(["export", "--images", str(folder), "--format", "index", "--out",
                     str(tmp_path / out), *options])

    assert export("default") == 0
    assert "1 with propagated labels not accepted yet left out" in capsys.readouterr().out
    assert sorted(p.stem for p in (tmp_path / "default" / "index").glob("*.png")) == ["a"]
    out = tmp_path / "all"
    assert export("all", "--include-propagated", "--format", "video") == 0
    captured = capsys.readouterr()
    assert "(1 corrected, 1 propagated not accepted, 0 predicted)" in captured.out
    manifest = json.loads((out / "manifest.json").read_text())
    assert {item["name"]: (item["corrected"], item["propagated"])
            for item in manifest["items"]} == {"a": (True, False), "b": (False, True)}
    assert manifest["counts"]["propagated"] == 1 and manifest["counts"]["predicted"] == 0
    clip, = [entry for entry in manifest["files"] if entry["format"] == "video"]
    assert (clip["corrected_frames"], clip["propagated_frames"], clip["predicted_frames"]) == \
        (1, 1, 0)
    assert f"{manifest['counts']['files']} files and the manifest" in captured.out
    assert export("only", "--include-propagated", "--corrected-only") == 0
    assert sorted(p.stem for p in (tmp_path / "only" / "index").glob("*.png")) == ["a"]
    assert "left out (--corrected-only leaves them out)" in capsys.readouterr().out
    labels.write_names(PROPAGATED, {"a.png", "b.png"})
    assert export("none") == 2
    assert "2 mask(s) hold propagated labels not accepted yet" in capsys.readouterr().err
    (labels.root / "propagated.txt").write_bytes(b"b.png\n\xff\xfe\n")  # not UTF-8
    assert export("unreadable", "--corrected-only") == 2
    assert "propagated.txt" in capsys.readouterr().err
    assert not (tmp_path / "unreadable" / "index").exists()


@pytest.mark.parametrize("fmt", ["voc", "index", "color", "per-class"])
def test_export_command_reports_a_mask_of_another_size_and_exits_1(tmp_path, capsys, fmt):
    """Formats that write the mask alone check its size too (a probe: index, color and
    per-class wrote a 300x200 mask of a 320x240 image as corrected), from the image's header
    or the video's frame size, without decoding the image."""
    rng = np.random.default_rng(8)
    (tmp_path / "labels").mkdir()
    for name in ("a", "b"):
        write_rgb(tmp_path / f"{name}.png", rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    LABELS.write(tmp_path / "labels" / "label_colors.txt")  # found in the labels folder
    write_index_mask(tmp_path / "labels" / "a.png", blocky_mask(rng, (16, 16)), LABELS)
    write_index_mask(tmp_path / "labels" / "b.png", blocky_mask(rng, (8, 12)), LABELS)
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (24, 16))
    for _ in range(2):
        writer.write(rng.integers(0, 256, (16, 24, 3), dtype=np.uint8))
    writer.release()
    write_index_mask(tmp_path / "labels" / "clip_000000.png", blocky_mask(rng, (16, 16)),
                     LABELS)
    write_index_mask(tmp_path / "labels" / "clip_000001.png", blocky_mask(rng, (16, 24)),
                     LABELS)
    out = tmp_path / "out"
    code = main(["export", "--images", str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                 str(video), "--format", fmt, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"skipped {tmp_path / 'b.png'}: mask of 'b' is 8x12 (height x width) but its " \
        "image is 16x16" in err
    assert f"skipped {video}: frame 0: mask of 'clip_000000' is 16x16 (height x width) but " \
        "its image is 16x24" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert {item["name"]: item["status"] for item in manifest["items"]} == {
        "a": "exported", "b": "skipped", "clip_000000": "skipped", "clip_000001": "exported"}
    if fmt == "voc":
        assert (out / "voc" / "ImageSets" / "Segmentation" / "trainval.txt"
                ).read_text().split() == ["a", "clip_000001"]


def test_export_command_names_a_mask_file_that_cannot_be_read(tmp_path, capsys):
    rng = np.random.default_rng(8)
    for name in ("a", "b"):
        write_rgb(tmp_path / f"{name}.png", rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    write_index_mask(tmp_path / "labels" / "a.png", blocky_mask(rng, (16, 16)), LABELS)
    LABELS.write(tmp_path / "labels" / "label_colors.txt")
    broken = tmp_path / "labels" / "b.png"
    broken.write_bytes(b"not a png at all")
    code = main(["export", "--images", str(tmp_path), "--format", "index", "--out",
                 str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"skipped {broken}: cannot be read as a mask: not an image file\n" in err
    assert "BytesIO" not in err and f"skipped {tmp_path / 'b.png'}" not in err
    assert sorted(p.name for p in (tmp_path / "out" / "index").iterdir()) == ["a.png"]


def test_splits_keep_neighbouring_frames_together():
    # two videos of 95 and 57 frames and a folder of 48 images, given shuffled
    keys = ([("a.mp4", f) for f in range(95)] + [("b.mp4", f) for f in range(57)]
            + [("pics", n) for n in range(48)])
    order = np.random.default_rng(1).permutation(len(keys))
    keys = [keys[i] for i in order]
    splits = assign_splits(len(keys), (0.7, 0.15, 0.15), 3, keys, block=10)
    counts = {name: splits.count(name) for name in ("train", "val", "test")}
    assert abs(counts["train"] - 140) <= 10 and abs(counts["val"] - 30) <= 10
    assert abs(counts["test"] - 30) <= 10 and sum(counts.values()) == 200
    for sequence in ("a.mp4", "b.mp4", "pics"):
        run = [splits[i] for i in sorted((i for i, k in enumerate(keys) if k[0] == sequence),
                                         key=lambda i: keys[i][1])]
        changes = [i for i in range(1, len(run)) if run[i] != run[i - 1]]
        # every split boundary falls between stretches of 10, never inside one
        assert all(change % 10 == 0 for change in changes), changes
        assert len(changes) < len(run) // 5  # not a frame-by-frame mix
    assert splits == assign_splits(len(keys), (0.7, 0.15, 0.15), 3, keys, block=10)


def test_corrected_frames_far_apart_in_a_folder_split_although_few_are_exported(tmp_path):
    """A user's check: 4 corrected frames of a 30-image folder (18 frames apart and more)
    were one block, so 0.6,0.2,0.2 gave no test set. Blocks are stretches of the folder."""
    folder = tmp_path / "seq"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for n in range(30):
        assert cv2.imwrite(str(folder / f"f{n:02d}.png"), np.zeros((8, 8, 3), np.uint8))
    items = [ExportItem(f"f{n:02d}", blocky_mask(rng, (8, 8)), image=folder / f"f{n:02d}.png")
             for n in (6, 15, 24, 29)]
    result = export_masks(items, tmp_path / "out", ["camvid"], LABELS, split=(0.5, 0.25, 0.25))
    assert result.split_counts == {"train": 2, "val": 1, "test": 1}
    assert not result.empty_splits and "no item in" not in result.summary()
    # neighbours (f06, f07, f08) stay together: one block, one split
    items = [ExportItem(f"f{n:02d}", blocky_mask(rng, (8, 8)), image=folder / f"f{n:02d}.png")
             for n in (6, 7, 8)]
    result = export_masks(items, tmp_path / "out2", ["camvid"], LABELS, split=(0.5, 0.25, 0.25))
    assert result.split_counts == {"train": 3} and result.empty_splits == ["val", "test"]
    assert result.summary().endswith("; no item in val or test: too few frames for the "
                                     "fractions, or they are neighbours kept together")


def test_val_and_test_hold_corrected_masks_only_when_predictions_are_exported(tmp_path):
    """A user's check found 10 of 11 val masks were the model's own predictions. With some
    corrected, the fractions split those alone; predictions train, but not beside a val or
    test frame (a review: frames 14 and 16 trained around val's 15): those are set aside.
    A correction whose labels are partly a model's own (carried by a propagation, saved as
    predicted: `scorable` False) trains too, never in val or test."""
    rng = np.random.default_rng(1)
    items = [ExportItem(f"clip_{f:03d}", blocky_mask(rng, (8, 8)), source=Path("clip.mp4"),
                        frame=f, image=np.zeros((8, 8, 3), np.uint8), corrected=f % 10 == 0,
                        scorable=f != 20)
             for f in range(60)]  # frames 0, 10, ..., 50 corrected; 20 carried to
    result = export_masks(items, tmp_path, ["camvid"], LABELS, split=(0.5, 0.25, 0.25), seed=4)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    split_of = {record["name"]: record.get("split", record["status"])
                for record in manifest["items"]}
    held = [f for f in range(0, 60, 10) if split_of[f"clip_{f:03d}"] in ("val", "test")]
    assert split_of["clip_020"] == "train" and manifest["items"][20]["may_score"] is False
    for f, item in enumerate(items):
        if f % 10:  # a prediction: trains, or is set aside within 5 of a val or test frame
            near = any(abs(f - h) <= 5 for h in held)
            assert split_of[item.name] == ("set aside" if near else "train"), f
    corrected = [split_of[item.name] for item in items if item.may_score]
    assert sorted(corrected) == ["test", "train", "train", "train", "val"]  # 0.5, 0.25, 0.25
    aside = sum(1 for f in range(60) if f % 10 and any(abs(f - h) <= 5 for h in held))
    assert result.split_counts == {"train": 58 - aside, "val": 1, "test": 1}
    assert result.set_aside == aside == manifest["counts"]["set_aside"] and aside >= 10
    assert result.split_among_corrected and manifest["split"]["val_test_corrected_only"]
    summary = result.summary()
    assert "val and test hold only corrections of a person's own" in summary
    assert f"; {aside} other mask(s) beside val or test frames left out of the split " \
           "layouts" in summary, summary
    # every item says whether it may score a model: predictions too (a user's check)
    assert [record["may_score"] for record in manifest["items"]] == [
        f % 10 == 0 and f != 20 for f in range(60)]
    assert not (tmp_path / "camvid" / "val" / "clip_011.png").exists()
    # all predicted (nothing corrected): split as they are, as before
    for item in items:
        item.corrected = False
    result = export_masks(items, tmp_path / "p", ["camvid"], LABELS, split=(0.5, 0.25, 0.25))
    assert result.split_counts == {"train": 30, "val": 20, "test": 10}  # blocks of 10
    assert not result.split_among_corrected and "corrected masks only" not in result.summary()
    assert result.set_aside == 0


def test_a_cluster_of_corrected_frames_stays_in_one_split_across_a_stretch_edge():
    """A review: corrected frames 8-11 fell in the stretches 0-9 and 10-19, so 9 trained and
    10 was tested. Neighbours join one block wherever they fall."""
    keys = [("v", f) for run in (8, 48, 88) for f in range(run, run + 4)]
    for seed in range(6):
        splits = assign_splits(len(keys), (0.34, 0.33, 0.33), seed, keys)
        for run in range(3):
            assert len(set(splits[4 * run:4 * run + 4])) == 1, (seed, splits)
        assert sorted(set(splits)) == ["test", "train", "val"]


def test_export_splits_video_frames_in_blocks(tmp_path):
    rng = np.random.default_rng(0)
    items = [ExportItem(f"clip_{f:03d}", blocky_mask(rng, (8, 8)), source=Path("clip.mp4"),
                        frame=f, image=np.zeros((8, 8, 3), np.uint8)) for f in range(40)]
    result = export_masks(items, tmp_path, ["voc"], LABELS, split=(0.5, 0.25, 0.25), seed=2)
    lists = tmp_path / "voc" / "ImageSets" / "Segmentation"
    split_of = {stem: name for name in ("train", "val", "test")
                for stem in (lists / f"{name}.txt").read_text().split()}
    run = [split_of[item.name] for item in items]
    assert all(len(set(run[b:b + 10])) == 1 for b in range(0, 40, 10))  # whole blocks
    assert result.split_counts == {"train": 20, "val": 10, "test": 10}


def test_coco_min_area_leaves_out_small_regions(tmp_path):
    mask = np.zeros((20, 20), np.uint8)
    mask[2:4, 2:4] = 1  # 4 pixels
    mask[10:18, 10:18] = 2  # 64 pixels
    items = [ExportItem("m", mask, image=np.zeros((20, 20, 3), np.uint8))]
    export_masks(items, tmp_path / "all", ["coco"], LABELS)
    export_masks(items, tmp_path / "big", ["coco"], LABELS, min_area=5)
    areas = {name: sorted(a["area"] for a in json.loads(
        (tmp_path / name / "coco" / "instances.json").read_text())["annotations"])
        for name in ("all", "big")}
    assert areas["all"] == [4, 64, 332] and areas["big"] == [64, 332]  # 332: class 0
    with pytest.raises(ValueError):
        export_masks(items, tmp_path / "bad", ["coco"], LABELS, min_area=-1)


def test_export_command_refuses_a_negative_min_area(tmp_path, capsys):
    """A tester's check: `--min-area -1` was taken, and failed with a traceback at export."""
    write_rgb(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    LabelsFolder(tmp_path / "labels").save("a.png", np.zeros((8, 8), np.uint8), LABELS)
    with pytest.raises(SystemExit) as info:
        main(["export", "--images", str(tmp_path / "a.png"), "--format", "coco",
              "--min-area", "-1", "--out", str(tmp_path / "out")])
    assert info.value.code == 2
    assert "argument --min-area: must be at least 0, got -1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["export", "--images", str(tmp_path / "a.png"), "--format", "coco",
                 "--min-area", "0", "--out", str(tmp_path / "out")]) == 0


def test_export_command_never_puts_labels_carried_by_propagation_in_val_or_test(tmp_path):
    """A corrected frame listed as carried to in propagated_from.txt, or saved as predicted
    (as_predicted.txt), trains: its labels are partly a model's own (a review found them
    eligible for val and test); a frame carried to stays in its source's block, 10 frames
    away (a user's check found a source in val and the frames carried from it in test)."""
    from segnet_core.masks.labels_folder import AS_PREDICTED, PROPAGATED_FROM

    rng = np.random.default_rng(4)
    folder = tmp_path / "seq"
    folder.mkdir()
    labels = LabelsFolder(folder / "labels")
    for n in range(60):  # six corrected frames, far apart
        write_rgb(folder / f"f{n:02d}.png", rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
        if n % 10 == 0:
            labels.save(f"f{n:02d}.png", blocky_mask(rng, (16, 16)), LABELS)
    labels.write_names(PROPAGATED_FROM, {"f10.png <- f00.png", "f30.png <- f20.png"})
    labels.write_names(AS_PREDICTED, {"f50.png"})
    for seed in range(4):
        out = tmp_path / f"out{seed}"
        assert main(["export", "--images", str(folder), "--format", "camvid", "--out", str(out),
                     "--split", "0.34,0.33,0.33", "--seed", str(seed)]) == 0
        items = json.loads((out / "manifest.json").read_text())["items"]
        split = {item["name"]: item.get("split", item["status"]) for item in items}
        assert sorted(split[name] for name in ("f00", "f20", "f40")) == ["test", "train", "val"]
        # trained beside the frame they came from, set aside beside a val or test one
        for carried, source in (("f10", "f00"), ("f30", "f20")):
            assert split[carried] == ("train" if split[source] == "train" else "set aside")
        assert split["f50"] == "train"
        assert [item.get("carried_from") for item in items] == [None, ["f00"], None, ["f20"],
                                                                 None, None]
        assert [item["may_score"] for item in items] == [True, False] * 2 + [True, False]



def test_with_predictions_around_them_a_cluster_of_corrections_still_stays_together(tmp_path):
    """A review: with a prediction for every frame, corrected frames 8-11 fell in the blocks
    0-9 and 10-19 (8, 9 train; 10, 11 test), and a prediction at a block's edge trained
    beside a test frame. Corrections are split among themselves; index files are all
    written, the split being the layouts'."""
    rng = np.random.default_rng(2)
    corrected = {8, 9, 10, 11, 30}
    items = [ExportItem(f"clip_{f:03d}", blocky_mask(rng, (8, 8)), source=Path("clip.mp4"),
                        frame=f, image=np.zeros((8, 8, 3), np.uint8), corrected=f in corrected)
             for f in range(40)]
    for seed in range(8):
        out = tmp_path / f"s{seed}"
        result = export_masks(items, out, ["camvid", "index"], LABELS, split=(0.4, 0.2, 0.4),
                              seed=seed)
        records = json.loads((out / "manifest.json").read_text())["items"]
        split = [record["split"] for record in records]
        assert len({split[f] for f in (8, 9, 10, 11)}) == 1, (seed, split[6:14])
        held = [f for f in corrected if split[f] in ("val", "test")]
        for f in set(range(40)) - corrected:
            near = any(abs(f - h) <= 5 for h in held)
            assert split[f] == ("set aside" if near else "train"), (seed, f)
        assert len(list((out / "index").glob("*.png"))) == 40  # every frame, split or not
        assert result.exported == 40


def test_when_no_correction_may_score_every_item_trains():
    """A review: every correction carried or saved as predicted filled val and test."""
    keys = [("v", f * 20) for f in range(6)]
    assert assign_splits(6, (0.6, 0.2, 0.2), 0, keys, checked=[False] * 6) == ["train"] * 6


def test_few_blocks_fill_val_and_test_whenever_they_can():
    """A user's check: 5 corrections in blocks of 1, 3 and 1 at 0.6,0.2,0.2 filled test in
    1 seed of 8 (3 of 8 put all in train), though train 3 / val 1 / test 1 fits exactly."""
    keys = [("f", 0), ("f", 16), ("f", 18), ("f", 22), ("f", 39)]  # blocks {0}, {16-22}, {39}
    for seed in range(8):
        splits = assign_splits(5, (0.6, 0.2, 0.2), seed, keys)
        assert splits[1] == splits[2] == splits[3] == "train", (seed, splits)
        assert sorted([splits[0], splits[4]]) == ["test", "val"], (seed, splits)
    picked = {tuple(assign_splits(5, (0.6, 0.2, 0.2), seed, keys)) for seed in range(8)}
    assert len(picked) == 2  # which one-frame block goes where follows the seed


def test_the_manifest_names_and_numbers_frames_as_rank_does(tmp_path):
    """A user's check: the manifest's "frame" was the index (20) of the frame `rank --json`
    names "long.avi · frame 21" (with "index": 20)."""
    rng = np.random.default_rng(2)
    items = [ExportItem("long_000020", blocky_mask(rng, (8, 8)), source=Path("/v/long.avi"),
                        frame=20, image=np.zeros((8, 8, 3), np.uint8)),
             ExportItem("street", blocky_mask(rng, (8, 8)), source=Path("/v/street.png"),
                        image=np.zeros((8, 8, 3), np.uint8))]
    export_masks(items, tmp_path, ["index"], LABELS)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["version"] == 2
    assert [(r["frame"], r["index"]) for r in manifest["items"]] == [
        ("long.avi · frame 21", 20), ("street.png", None)]
