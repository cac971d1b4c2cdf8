"""Import of files other tools wrote: COCO encoded by pycocotools, VOC palette PNGs written
with PIL, colour PNGs written with OpenCV, and the CamVid data set itself."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from segnet_core.importing import ImportFormat, UnknownClass, import_labels
from segnet_core.labels import camvid_label_set
from segnet_core.io.masks import read_mask

from .importing_data import LABELS, SHAPE, make_mask, write_images

VOID = LABELS.void_index


def voc_palette() -> bytes:
    """Pascal VOC's colour map (bits of the index spread over the channels), void 255 in
    VOC's own colour."""
    palette = np.zeros((256, 3), np.uint8)
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette[i] = (r, g, b)
    palette[255] = (224, 224, 192)
    return palette.tobytes()


def write_voc(root, masks, names=None):
    (root / "SegmentationClass").mkdir(parents=True)
    for stem, mask in masks.items():
        image = Image.fromarray(mask, mode="P")
        image.putpalette(voc_palette())
        image.save(root / "SegmentationClass" / f"{stem}.png")
    if names is not None:
        (root / "labels.txt").write_text("".join(f"{n}\n" for n in names))


def test_voc_palette_pngs_written_with_pil_by_name(tmp_path):
    # VOC order: background first; our classes shuffled; "aeroplane" is not in the label set
    names = ["background", "Car", "road", "SKY", "pole", "aeroplane"]
    to_voc = {0: 3, 1: 2, 2: 4, 3: 1}  # our index -> VOC index
    ours = make_mask(0)
    voc = np.full(SHAPE, 255, np.uint8)
    for k, v in to_voc.items():
        voc[ours == k] = v
    voc[0, 1:4] = 5  # aeroplane pixels
    voc[1, 1:3] = 0  # background pixels
    write_voc(tmp_path / "VOC2012", {"a": voc})
    (tmp_path / "VOC2012" / "labels.txt").write_text("".join(f"{n}\n" for n in names))
    write_images(tmp_path / "images", ["a", "b"])
    report = import_labels(tmp_path / "VOC2012", tmp_path / "images", label_set=LABELS)
    assert report.format is ImportFormat.VOC and "SegmentationClass" in report.detected
    expected = ours.copy()
    expected[0, 1:4] = VOID
    expected[1, 1:3] = VOID
    np.testing.assert_array_equal(read_mask(report.written[0], LABELS), expected)
    assert report.unknown_classes == [UnknownClass("'aeroplane'", 3, 1),
                                      UnknownClass("'background'", 2, 1)]
    assert [p.name for p in report.images_without_mask] == ["b.png"]
    assert not report.complete


def test_voc_without_labels_txt_reads_indices(tmp_path):
    mask = make_mask(2, LABELS)
    voc = np.where(mask == VOID, np.uint8(255), mask)
    voc[5, 5] = 17  # neither a class nor void
    write_voc(tmp_path / "voc", {"x": voc})
    write_images(tmp_path / "images", ["x"])
    report = import_labels(tmp_path / "voc" / "SegmentationClass", tmp_path / "images",
                           "voc", label_set=LABELS)
    expected = mask.copy()
    expected[5, 5] = VOID
    np.testing.assert_array_equal(read_mask(report.written[0], LABELS), expected)
    assert report.unknown_classes == [UnknownClass("value 17", 1, 1)]


def test_colour_pngs_written_with_opencv(tmp_path):
    masks = {"c0": make_mask(0), "c1": make_mask(1)}
    (tmp_path / "colors").mkdir()
    for stem, mask in masks.items():
        bgr = cv2.cvtColor(LABELS.colorize(mask), cv2.COLOR_RGB2BGR)
        if stem == "c1":
            bgr[3, 4] = (1, 2, 3)  # BGR: the colour (3, 2, 1) is no class's
        assert cv2.imwrite(str(tmp_path / "colors" / f"{stem}.png"), bgr)
    write_images(tmp_path / "images", masks, suffix=".jpg")
    report = import_labels(tmp_path / "colors", tmp_path / "images", label_set=LABELS)
    assert report.format is ImportFormat.COLOR and "RGB" in report.detected
    masks["c1"][3, 4] = VOID
    for stem, mask in masks.items():
        np.testing.assert_array_equal(read_mask(tmp_path / "images" / "labels" / f"{stem}.png",
                                                LABELS), mask)
    assert report.unknown_classes == [UnknownClass("colour (3, 2, 1)", 1, 1)]


def coco_reference(path, h, w, void):
    """The mask pycocotools' own COCO reader gives: annotations painted in file order."""
    coco_api = pytest.importorskip("pycocotools.coco")
    coco = coco_api.COCO(str(path))
    names = {c["id"]: c["name"].casefold() for c in coco.loadCats(coco.getCatIds())}
    ours = {name.casefold(): index for index, name in enumerate(LABELS.names)}
    masks = {}
    for image in coco.loadImgs(coco.getImgIds()):
        mask = np.full((h, w), void, np.uint8)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=image["id"])):
            if "segmentation" not in ann:
                continue
            mask[coco.annToMask(ann).astype(bool)] = ours.get(names[ann["category_id"]], void)
        masks[image["file_name"].rsplit(".", 1)[0]] = mask
    return masks


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_coco_encoded_by_pycocotools(tmp_path):
    mask_api = pytest.importorskip("pycocotools.mask")
    h, w = SHAPE
    road = np.zeros(SHAPE, np.uint8)
    road[20:, :] = 1
    pole = np.zeros(SHAPE, np.uint8)
    pole[3:30, 17] = 1  # one pixel wide
    crowd = np.zeros(SHAPE, bool)
    crowd[25:30, 30:45] = True
    flat = crowd.T.ravel()  # uncompressed RLE, column-major, unset run first
    changes = np.flatnonzero(np.diff(np.r_[0, flat.astype(np.int8), 0]))
    counts = np.diff(np.r_[0, changes]).tolist()
    counts.append(flat.size - sum(counts))  # the trailing unset run: pycocotools reads
    # memory past the counts when they do not cover h x w, so they must add up

    def compressed(binary):
        rle = mask_api.encode(np.asfortranarray(binary))
        return {"counts": rle["counts"].decode("ascii"), "size": list(rle["size"])}

    document = {
        "images": [{"id": 7, "file_name": "scene/a.jpg", "width": w, "height": h},
                   {"id": 8, "file_name": "b.jpg", "width": w, "height": h},
                   {"id": 9, "file_name": "nothing.jpg", "width": w, "height": h}],
        "categories": [{"id": 1, "name": "road"}, {"id": 2, "name": "Pole"},
                       {"id": 5, "name": "Car"}, {"id": 6, "name": "Tree"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "segmentation": compressed(road),
             "iscrowd": 0},
            {"id": 2, "image_id": 7, "category_id": 2, "segmentation": compressed(pole),
             "iscrowd": 0},
            {"id": 3, "image_id": 7, "category_id": 5, "iscrowd": 1,
             "segmentation": {"counts": counts, "size": [h, w]}},
            {"id": 4, "image_id": 8, "category_id": 5, "iscrowd": 0,
             "segmentation": [[2, 2, 20, 2, 20, 12, 2, 12], [30, 20, 40, 20, 30, 30]]},
            {"id": 5, "image_id": 8, "category_id": 6, "iscrowd": 0,
             "segmentation": [[5, 4, 9, 4, 9, 30, 5, 30]]},
            {"id": 6, "image_id": 8, "category_id": 1, "bbox": [0, 0, 3, 3]},
        ],
    }
    path = tmp_path / "annotations" / "instances_val.json"
    path.parent.mkdir()
    path.write_text(json.dumps(document))
    write_images(tmp_path / "images", ["a", "b", "nothing"], suffix=".jpg")
    report = import_labels(tmp_path, tmp_path / "images", label_set=LABELS)
    assert report.format is ImportFormat.COCO and "instances_val.json" in report.detected
    reference = coco_reference(path, h, w, VOID)
    reference["a"] = reference.pop("scene/a")
    for stem, expected in reference.items():
        np.testing.assert_array_equal(read_mask(tmp_path / "images" / "labels" / f"{stem}.png",
                                                LABELS), expected, err_msg=stem)
    assert (reference["a"][crowd] == 3).all() and (reference["a"][3:30, 17][:17] == 2).all()
    assert (reference["nothing"] == VOID).all()
    # the tree (4 x 26 pixels) is painted after the car it overlaps, so all of it is void
    assert report.unknown_classes == [UnknownClass("'Tree'", 4 * 26, 1)]
    assert any("1 annotation(s) without a segmentation" in note for note in report.notes)


def test_camvid_data_set(camvid_root, tmp_path):
    lines = (camvid_root / "val.txt").read_text().split("\n")[:3]
    images = tmp_path / "frames"
    images.mkdir()
    for line in lines:
        shutil.copy(camvid_root / line.split()[0], images)
    report = import_labels(camvid_root / "val.txt", images)
    assert report.format is ImportFormat.CAMVID and report.label_set == camvid_label_set()
    assert len(report.written) == 3 and report.unknown_classes == []
    assert len(report.masks_without_image) > 50  # the rest of the val list
    for line in lines:
        annot = camvid_root / line.split()[1]
        np.testing.assert_array_equal(
            read_mask(images / "labels" / annot.name, camvid_label_set()),
            read_mask(annot, camvid_label_set()))
