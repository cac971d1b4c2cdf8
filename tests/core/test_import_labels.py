"""`import_labels` and `segnet-studio import`: detection, matching, reports, overwrite, the
label set, and bad inputs (an error naming the file, nothing written)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from segnet_core.cli import build_parser, main
from segnet_core.errors import DataError, SegNetError
from segnet_core.export import ExportItem, export_format
from segnet_core.importing import ImportFormat, detect_format, import_labels
from segnet_core.labels import camvid_label_set
from segnet_core.io.masks import read_mask, write_index_mask
from segnet_core.masks.labels_folder import LabelsFolder
from segnet_core.events import CancelToken

from .importing_data import LABELS, SHAPE, make_masks, tree, write_images

VOID = LABELS.void_index


@pytest.fixture
def index_source(tmp_path):
    """Three index masks (frame_00..02) in masks/, images frame_00, frame_01, other."""
    masks = make_masks(3)
    for name, mask in masks.items():
        write_index_mask(tmp_path / "masks" / f"{name}.png", mask, LABELS)
    write_images(tmp_path / "images", ["frame_00", "frame_01", "other"])
    return masks


def test_detects_each_format_and_says_why(tmp_path, index_source):
    assert detect_format(tmp_path / "masks") == (ImportFormat.INDEX,
                                                  "frame_00.png is a grey or palette image")
    (tmp_path / "list.txt").write_text("a.png b.png\n")
    assert detect_format(tmp_path / "list.txt")[0] is ImportFormat.CAMVID
    (tmp_path / "c.json").write_text("{}")
    assert detect_format(tmp_path / "c.json")[0] is ImportFormat.COCO
    (tmp_path / "voc" / "SegmentationClass").mkdir(parents=True)
    assert detect_format(tmp_path / "voc")[0] is ImportFormat.VOC
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "manifest.json").write_text("{}")
    with pytest.raises(DataError, match="give one of its format folders") as error:
        detect_format(tmp_path / "export")
    assert error.value.path == tmp_path / "export"
    with pytest.raises(DataError, match="no such file"):
        detect_format(tmp_path / "missing")


def test_matches_by_stem_and_reports_what_does_not_match(tmp_path, index_source):
    calls = []
    report = import_labels(tmp_path / "masks", tmp_path / "images", label_set=LABELS,
                           progress=lambda done, total: calls.append((done, total)))
    assert report.format is ImportFormat.INDEX and report.out_dir == tmp_path / "images" / "labels"
    assert [p.name for p in report.written] == ["frame_00.png", "frame_01.png"]
    assert [(m.stem, m.origin) for m in report.masks_without_image] == [
        ("frame_02", tmp_path / "masks" / "frame_02.png")]
    assert [p.name for p in report.images_without_mask] == ["other.png"]
    assert calls == [(0, 2), (1, 2), (2, 2)]
    assert not report.complete
    text = "\n".join(report.lines())
    assert "imported 2 mask(s)" in text and "frame_02" in text and "other.png" in text
    for name in ("frame_00", "frame_01"):
        np.testing.assert_array_equal(read_mask(tmp_path / "images" / "labels" / f"{name}.png",
                                                LABELS), index_source[name])


def test_existing_masks_are_kept_unless_overwrite(tmp_path, index_source):
    labels = LabelsFolder(tmp_path / "images" / "labels")
    mine = np.zeros(SHAPE, np.uint8)
    labels.save("frame_00.png", mine, LABELS)
    report = import_labels(tmp_path / "masks", tmp_path / "images", label_set=LABELS)
    assert report.kept == [labels.mask_path("frame_00.png")]
    assert [p.name for p in report.written] == ["frame_01.png"]
    np.testing.assert_array_equal(labels.read("frame_00.png", LABELS), mine)
    report = import_labels(tmp_path / "masks", tmp_path / "images", label_set=LABELS,
                           overwrite=True)
    assert report.kept == [] and len(report.written) == 2
    np.testing.assert_array_equal(labels.read("frame_00.png", LABELS), index_source["frame_00"])


def test_unknown_values_become_void_and_are_reported(tmp_path):
    mask = np.zeros(SHAPE, np.uint8)
    mask[:2, :3] = 9
    mask[5, 5] = 255  # the common void value
    mask[6, 6] = VOID
    (tmp_path / "grey").mkdir()
    Image.fromarray(mask).save(tmp_path / "grey" / "a.png")  # 8-bit grey
    write_images(tmp_path / "images", ["a"])
    with pytest.raises(DataError, match="reads a folder, not a file"):
        import_labels(tmp_path / "grey" / "a.png", tmp_path / "images", "index")
    report = import_labels(tmp_path / "grey", tmp_path / "images", "index", label_set=LABELS)
    back = read_mask(report.written[0], LABELS)
    assert (back[:2, :3] == VOID).all() and back[5, 5] == VOID and back[6, 6] == VOID
    assert [(u.label, u.pixels, u.files) for u in report.unknown_classes] == [("value 9", 6, 1)]
    assert "value 9 (6 px in 1 file(s))" in "\n".join(report.lines())


def test_a_label_set_beside_index_masks_maps_by_name(tmp_path):
    from segnet_core.labels import LabelSet

    theirs = LabelSet(("car", "Tree", "sky"), ((1, 1, 1), (2, 2, 2), (3, 3, 3)))
    mask = np.array([[0, 1, 2, 3]], np.uint8).repeat(4, 0)
    write_index_mask(tmp_path / "src" / "x.png", mask, theirs)
    theirs.write(tmp_path / "src" / "label_colors.txt")
    write_images(tmp_path / "images", ["x"], shape=(4, 4))
    report = import_labels(tmp_path / "src", tmp_path / "images", label_set=LABELS)
    np.testing.assert_array_equal(read_mask(report.written[0], LABELS)[0], [3, VOID, 0, VOID])
    assert [u.label for u in report.unknown_classes] == ["'Tree'"]


def test_mostly_a_class_the_label_set_lacks_or_unlabelled_is_imported_not_refused(tmp_path):
    """A review: the refusal of masks mostly in values of no class refused a VOC folder
    mostly 'background' (a class its labels.txt names, which the label set lacks: void,
    and reported, as before) and index masks mostly 255 (unlabelled) beside a label set."""
    from segnet_core.labels import LabelSet

    write_images(tmp_path / "images", ["x"], shape=(4, 4))
    voc = tmp_path / "voc"
    (voc / "SegmentationClass").mkdir(parents=True)
    mask = np.zeros((4, 4), np.uint8)  # background
    mask[0] = 1  # Sky
    Image.fromarray(mask, mode="P").save(voc / "SegmentationClass" / "x.png")
    (voc / "labels.txt").write_text("background\nSky\n")
    report = import_labels(voc, tmp_path / "images", out_dir=tmp_path / "a", label_set=LABELS)
    back = read_mask(report.written[0], LABELS)
    assert (back[0] == 0).all() and (back[1:] == VOID).all()
    assert [(u.label, u.pixels) for u in report.unknown_classes] == [("'background'", 12)]

    theirs = LabelSet(("car", "sky"), ((1, 1, 1), (3, 3, 3)))
    sparse = np.full((4, 4), 255, np.uint8)  # unlabelled but for one car
    sparse[0, 0] = 0
    (tmp_path / "src").mkdir()
    Image.fromarray(sparse).save(tmp_path / "src" / "x.png")  # grey, as other tools write
    theirs.write(tmp_path / "src" / "label_colors.txt")
    report = import_labels(tmp_path / "src", tmp_path / "images", out_dir=tmp_path / "b",
                           label_set=LABELS)
    back = read_mask(report.written[0], LABELS)
    assert back[0, 0] == 3 and (back.ravel()[1:] == VOID).all()
    assert report.unknown_classes == []  # 255 is void, as without the label set


@pytest.mark.parametrize("damage", ["corrupt", "size", "rgb"])
def test_a_bad_input_names_the_file_and_writes_nothing(tmp_path, index_source, damage):
    bad = tmp_path / "masks" / "frame_01.png"
    if damage == "corrupt":
        bad.write_bytes(bad.read_bytes()[:40])
    elif damage == "size":
        write_index_mask(bad, np.zeros((5, 5), np.uint8), LABELS)
    else:
        cv2.imwrite(str(bad), np.zeros((*SHAPE, 3), np.uint8))
    labels = tmp_path / "images" / "labels"
    with pytest.raises(DataError) as error:
        import_labels(tmp_path / "masks", tmp_path / "images", "index", label_set=LABELS)
    assert error.value.path == bad
    if damage == "size":
        assert "5x5" in str(error.value) and "frame_01.png is 36x48" in str(error.value)
    assert tree(labels) == set()


def test_cancel_writes_nothing(tmp_path, index_source):
    token = CancelToken()
    report = import_labels(tmp_path / "masks", tmp_path / "images", label_set=LABELS,
                           progress=lambda done, total: done == 1 and token.cancel(),
                           cancel=token)
    assert report.cancelled and report.written == [] and not report.complete
    assert report.lines() == ["cancelled: nothing was written"]
    assert tree(tmp_path / "images" / "labels") == set()


def test_masks_of_another_label_set_are_not_mixed(tmp_path, index_source):
    labels = LabelsFolder(tmp_path / "images" / "labels")
    labels.save("other.png", np.zeros(SHAPE, np.uint8), camvid_label_set())
    with pytest.raises(SegNetError, match="another label set"):
        import_labels(tmp_path / "masks", tmp_path / "images", label_set=LABELS)
    assert labels.mask_names() == {"other.png"}
    # without a label set given, the folder's own is used
    report = import_labels(tmp_path / "masks", tmp_path / "images")
    assert report.label_set == camvid_label_set() and len(report.written) == 2


def test_video_frames_match_by_frame_name(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    writer = cv2.VideoWriter(str(images / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 5,
                             (SHAPE[1], SHAPE[0]))
    for _ in range(3):
        writer.write(np.zeros((*SHAPE, 3), np.uint8))
    writer.release()
    masks = {"clip_000002": np.ones(SHAPE, np.uint8), "clip_000009": np.ones(SHAPE, np.uint8)}
    for name, mask in masks.items():
        write_index_mask(tmp_path / "masks" / f"{name}.png", mask, LABELS)
    report = import_labels(tmp_path / "masks", images, label_set=LABELS)
    assert [p.name for p in report.written] == ["clip_000002.png"]
    assert [m.stem for m in report.masks_without_image] == ["clip_000009"]
    # a user's check: CVAT's frame_000000.png matched nothing, and nothing said what would
    line = next(text for text in report.lines() if "without an image" in text)
    assert line.endswith("(a video's frame is matched by <video name>_<frame index, 6 "
                         "digits>: clip_000000.png is frame 1 of clip.mp4; rename the masks so)")
    # the video itself given instead of its folder: the error says which folder to give
    with pytest.raises(DataError, match=f"not a folder: give the folder that holds it "
                                        f"\\({images}\\); its masks are matched by name"):
        import_labels(tmp_path / "masks", images / "clip.mp4", label_set=LABELS)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["annotations"][0].update(image_id=99), r"annotations\[0\] \(id 1\): image_id 99"),
    (lambda d: d["annotations"][0].update(category_id=42), "category_id 42"),
    (lambda d: d["annotations"][0]["segmentation"].update(counts="0~"), "not an RLE character"),
    (lambda d: d["annotations"][0]["segmentation"].update(size=[3, 3]), "differs from the"),
    (lambda d: d["images"][0].pop("width"), "needs 'width' and 'height'"),
    (lambda d: d["images"].append(dict(d["images"][0], id=5)), "share the stem"),
    # a declared size is checked before a mask of that size is painted
    (lambda d: d["images"][0].update(width=100000, height=100000),
     r"images\[0\] \(frame_00.png\): declares 100000x100000 \(height x width\), more pixels "
     "than any image read here"),
    (lambda d: d["annotations"][0].update(segmentation=[[0, 0, 1e300, 0, 0, 10]]),
     r"annotations\[0\] \(id 1\), image 'frame_00.png': a polygon point \(1e\+300, 0\) lies "
     "far outside the 36x48"),
    (lambda d: d["images"][0].update(width=5000, height=4000),
     r"mask 'frame_00' is 4000x5000 \(height x width\) but its image .*frame_00.png is 36x48"),
])
def test_a_bad_coco_file_is_named_with_the_entry(tmp_path, change, message):
    masks = make_masks(1)
    images = write_images(tmp_path / "images", masks)
    export_format("coco", [ExportItem(n, m, image=images[n]) for n, m in masks.items()],
                  tmp_path / "coco", LABELS)
    path = tmp_path / "coco" / "instances.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(DataError, match=message) as error:
        import_labels(path, tmp_path / "images", label_set=LABELS)
    assert error.value.path == path
    assert tree(tmp_path / "images" / "labels") == set()
    path.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        import_labels(path, tmp_path / "images", label_set=LABELS)


def test_cli_import(tmp_path, index_source, capsys):
    LABELS.write(tmp_path / "labels.txt")
    out = tmp_path / "out"
    args = ["import", str(tmp_path / "masks"), "--images", str(tmp_path / "images"),
            "--masks", str(out), "--label-set", str(tmp_path / "labels.txt")]
    assert main(args) == 1  # frame_02 has no image
    printed = capsys.readouterr().out
    assert "format: index (detected: frame_00.png is a grey or palette image)" in printed
    assert "imported 2 mask(s)" in printed and "frame_02" in printed
    assert sorted(p.name for p in out.glob("*.png")) == ["frame_00.png", "frame_01.png"]
    from segnet_core.atomic import _UMASK
    for mask in out.glob("*.png"):  # as any saved file, not mkstemp's 0600
        assert mask.stat().st_mode & 0o777 == 0o666 & ~_UMASK
    assert main(args) == 1 and "kept 2 existing mask(s)" in capsys.readouterr().out
    (tmp_path / "masks" / "frame_02.png").unlink()
    assert main(args + ["--overwrite", "--format", "index"]) == 0
    assert "format: index\n" in capsys.readouterr().out
    assert main(["import", str(tmp_path / "nowhere"), "--images", str(tmp_path / "images")]) == 2
    assert "nowhere: no such file or folder" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "masks"), "--images", str(tmp_path / "images"),
                 "--model", str(tmp_path / "labels.txt")]) == 2
    assert "--model" in capsys.readouterr().err
    assert "import" in build_parser().format_help()


def test_cli_import_into_the_models_label_set(tmp_path, index_source, capsys):
    from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
    from segnet_core.models import build_model

    model = tmp_path / "model.pt"
    save_checkpoint(model, checkpoint_from_model(build_model("segnet-basic", LABELS.num_classes),
                                                 LABELS.to_dict(), None))
    assert main(["import", str(tmp_path / "masks"), "--images", str(tmp_path / "images"),
                 "--model", str(model)]) == 1
    labels = LabelsFolder(tmp_path / "images" / "labels")
    assert labels.read_label_set() == LABELS
    np.testing.assert_array_equal(labels.read("frame_01.png", LABELS), index_source["frame_01"])
