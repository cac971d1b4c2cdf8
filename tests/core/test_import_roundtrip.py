"""Export followed by import gives back the same masks, for every format both sides share."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from segnet_core.export import ExportItem, export_format
from segnet_core.importing import ImportFormat, import_labels
from segnet_core.io.masks import read_mask

from .importing_data import LABELS, LABELS_255, make_masks, tree, write_images

ROUND_TRIP_FORMATS = ("index", "color", "camvid", "voc", "coco")


def export_then_import(tmp_path, fmt, label_set, masks, split=None, given=False):
    images = write_images(tmp_path / "images", masks)
    items = [ExportItem(name, mask, image=images[name]) for name, mask in masks.items()]
    export_format(fmt, items, tmp_path / "exported", label_set, split=split)
    out = tmp_path / "imported"
    report = import_labels(tmp_path / "exported", tmp_path / "images",
                           fmt if given else "auto", out_dir=out, label_set=label_set)
    return report, out


@pytest.mark.parametrize("label_set", [LABELS, LABELS_255], ids=["void-at-K", "void-at-255"])
@pytest.mark.parametrize("fmt", ROUND_TRIP_FORMATS)
def test_export_then_import_gives_back_the_masks(tmp_path, fmt, label_set):
    masks = make_masks(3, label_set)
    assert not (masks["frame_01"] == 3).any() and (masks["frame_00"] == 3).any()
    report, out = export_then_import(tmp_path, fmt, label_set, masks)
    assert report.format is ImportFormat(fmt) and report.detected
    assert report.complete and report.unknown_classes == []
    assert sorted(p.name for p in report.written) == [f"{n}.png" for n in sorted(masks)]
    assert report.images_without_mask == [] and report.masks_without_image == []
    for name, mask in masks.items():
        back = read_mask(out / f"{name}.png", label_set)
        assert back.dtype == np.uint8
        np.testing.assert_array_equal(back, mask, err_msg=f"{fmt}: {name}")
    assert {f for f in tree(out) if f.startswith(".")} == set()  # no temporary files left


@pytest.mark.parametrize("fmt", ["camvid", "voc"])
def test_split_layouts_come_back_whole(tmp_path, fmt):
    masks = make_masks(4)
    report, out = export_then_import(tmp_path, fmt, LABELS, masks, split=(0.5, 0.5),
                                     given=True)
    assert report.detected == "" and len(report.written) == 4
    for name, mask in masks.items():
        np.testing.assert_array_equal(read_mask(out / f"{name}.png", LABELS), mask)


def test_the_labels_folder_reads_what_was_imported(tmp_path):
    """Without --masks, masks land in the images' labels folder, label set beside them."""
    from segnet_core.masks.labels_folder import LabelsFolder

    masks = make_masks(2)
    images = write_images(tmp_path / "images", masks)
    items = [ExportItem(name, mask, image=images[name]) for name, mask in masks.items()]
    export_format("coco", items, tmp_path / "coco", LABELS)
    report = import_labels(tmp_path / "coco" / "instances.json", tmp_path / "images",
                           label_set=LABELS)
    folder = LabelsFolder.beside(images["frame_00"])
    assert report.out_dir == folder.root
    assert folder.read_label_set() == LABELS
    assert folder.mask_names() == {"frame_00.png", "frame_01.png"}
    np.testing.assert_array_equal(folder.read("frame_01.png", LABELS), masks["frame_01"])


@pytest.mark.parametrize("fmt", ["camvid", "index", "coco"])
def test_an_exports_predictions_do_not_come_back_as_corrections(tmp_path, fmt, capsys):
    """A user's check: exported with predictions, then imported into a fresh copy, 19 of 23
    masks that were the model's own came back as corrections. The manifest marks them: left
    out, and said, unless asked for."""
    from segnet_core.cli import main
    from segnet_core.export import export_masks

    masks = make_masks(4)
    images = write_images(tmp_path / "images", masks)
    names = sorted(masks)
    items = [ExportItem(name, masks[name], image=images[name], corrected=i == 0,
                        propagated=i == 1) for i, name in enumerate(names)]
    export_masks(items, tmp_path / "exported", [fmt, "color"], LABELS)
    source = tmp_path / "exported" / fmt
    report = import_labels(source, tmp_path / "images", out_dir=tmp_path / "a", label_set=LABELS)
    assert [p.name for p in report.written] == [f"{names[0]}.png"]
    assert sorted(m.stem for m in report.uncorrected_left_out) == names[1:]
    assert report.complete and not report.masks_without_image
    line = next(text for text in report.lines() if text.startswith("left out 3 mask(s)"))
    assert str(tmp_path / "exported" / "manifest.json") in line
    assert main(["import", str(source), "--images", str(tmp_path / "images"), "--masks",
                 str(tmp_path / "b"), "--include-uncorrected"]) == 0
    assert "imported 3 mask(s) that" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "b").glob("*.png")) == \
        [f"{name}.png" for name in names]
    # the same masks outside an export's format folder are whatever they say they are
    (tmp_path / "exported" / "manifest.json").rename(tmp_path / "elsewhere.json")
    again = import_labels(source, tmp_path / "images", out_dir=tmp_path / "c", label_set=LABELS)
    assert len(again.written) == 4 and not again.uncorrected_left_out


def test_exporting_again_into_a_folder_replaces_the_earlier_export(tmp_path):
    """A user's check: exported with predictions into a folder, then again without them,
    the folder kept the 12 masks of the first export under a manifest of 5, and an import
    took the 7 predictions left over as corrections. Only the files the earlier manifest
    lists go: a file of the user's in a format folder, and the folders around, stay."""
    from segnet_core.export import export_masks

    masks = make_masks(4)
    images = write_images(tmp_path / "images", masks)
    names = sorted(masks)
    items = [ExportItem(name, masks[name], image=images[name], corrected=i == 0)
             for i, name in enumerate(names)]
    out = tmp_path / "exported"
    first = export_masks(items, out, ["index", "coco", "voc"], LABELS)
    assert first.removed_earlier == 0
    (out / "index" / "notes.txt").write_text("mine")  # not the export's
    (out / "mine").mkdir()
    corrected = [item for item in items if item.corrected]
    second = export_masks(corrected, out, ["index"], LABELS)
    # every file the first wrote but the one written again, the manifest aside
    assert second.removed_earlier == len(first.files) - 2
    assert (f"removed the {second.removed_earlier} file(s) of an earlier export here that "
            "this one did not write") in second.summary()
    assert sorted(p.name for p in (out / "index").iterdir()) == [f"{names[0]}.png",
                                                                  "notes.txt"]
    assert not (out / "coco").exists() and not (out / "voc").exists()
    assert (out / "mine").is_dir()
    report = import_labels(out / "index", tmp_path / "images", out_dir=tmp_path / "a",
                           label_set=LABELS)
    assert [p.name for p in report.written] == [f"{names[0]}.png"]  # no prediction back


def test_a_cancelled_re_export_keeps_the_earlier_one_for_the_next_to_replace(tmp_path):
    """A review: a re-export cancelled after one frame removed the earlier export's other
    files. They stay, listed in the manifest as the earlier export's; an import leaves them
    out (not known corrections); the next complete export removes them."""
    from segnet_core.events import CancelToken
    from segnet_core.export import EARLIER_FILES, export_masks

    masks = make_masks(4)
    images = write_images(tmp_path / "images", masks)
    names = sorted(masks)
    items = [ExportItem(name, masks[name], image=images[name]) for name in names]
    out = tmp_path / "exported"
    export_masks(items, out, ["index", "color"], LABELS)
    token = CancelToken()
    cancelled = export_masks(items, out, ["index"], LABELS, cancel=token,
                             progress=lambda done, total: done >= 1 and token.cancel())
    assert cancelled.cancelled and cancelled.exported == 1 and cancelled.removed_earlier == 0
    assert len(list((out / "index").iterdir())) == 4 and len(list((out / "color").iterdir())) == 4
    import json

    kept = json.loads((out / "manifest.json").read_text())[EARLIER_FILES]
    assert sorted(kept) == sorted([f"index/{n}.png" for n in names[1:]]
                                  + [f"color/{n}.png" for n in names])
    report = import_labels(out / "index", tmp_path / "images", out_dir=tmp_path / "a",
                           label_set=LABELS)
    assert [p.name for p in report.written] == [f"{names[0]}.png"]
    assert sorted(m.stem for m in report.uncorrected_left_out) == names[1:]
    done = export_masks(items[:2], out, ["index"], LABELS)
    assert done.removed_earlier == 2 + 4  # index/'s last two, and all of color/
    assert sorted(p.name for p in (out / "index").iterdir()) == [f"{n}.png" for n in names[:2]]
    assert not (out / "color").exists()


def test_a_format_folder_linked_elsewhere_has_nothing_removed_through_it(tmp_path):
    """A review: exported into the images folder whose `index` was a link to its labels
    folder, a second export removed four of the user's masks there."""
    import os

    from segnet_core.export import export_masks

    masks = make_masks(4)
    images = write_images(tmp_path / "images", masks)
    names = sorted(masks)
    labels = tmp_path / "images" / "labels"
    labels.mkdir()
    for name in names:
        (labels / f"{name}.png").write_bytes(b"the user's mask")
    os.symlink("labels", tmp_path / "images" / "index")
    items = [ExportItem(name, masks[name], image=images[name]) for name in names]
    export_masks(items, tmp_path / "images", ["index"], LABELS)
    again = export_masks(items[:1], tmp_path / "images", ["index"], LABELS)
    assert again.removed_earlier == 0
    assert sorted(p.name for p in labels.iterdir()) == [f"{n}.png" for n in names]


def test_a_manifest_pointing_outside_its_format_folders_removes_nothing_there(tmp_path):
    """A hand-edited (or hostile) manifest cannot make an export delete files outside its
    format folders: labels beside the images, the manifest's own folder, absolute paths."""
    import json

    from segnet_core.export import MANIFEST_FORMAT, export_masks

    masks = make_masks(2)
    images = write_images(tmp_path / "images", masks)
    keep = [tmp_path / "images" / "labels" / "a.png", tmp_path / "exported" / "top.png",
            tmp_path / "exported" / "index" / ".." / ".." / "outside.png"]
    for path in keep:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"keep")
    files = ["../images/labels/a.png", "top.png", "index/../../outside.png",
             str(keep[0]), "index"]
    (tmp_path / "exported" / "manifest.json").write_text(json.dumps(
        {"format": MANIFEST_FORMAT, "files": [{"path": f} for f in files]}))
    items = [ExportItem(name, mask, image=images[name]) for name, mask in masks.items()]
    result = export_masks(items, tmp_path / "exported", ["index"], LABELS)
    assert result.removed_earlier == 0
    assert all(path.read_bytes() == b"keep" for path in keep)


def _export_carried(tmp_path, count: int) -> list[str]:
    """`count` images exported as index masks to tmp_path/exported, the first a correction
    and the others carried from it by a propagation; their names."""
    from segnet_core.export import export_masks

    masks = make_masks(count)
    images = write_images(tmp_path / "images", masks)
    names = sorted(masks)
    items = [ExportItem(name, masks[name], image=images[name], scorable=i == 0,
                        carried_from=() if i == 0 else (names[0],))
             for i, name in enumerate(names)]
    export_masks(items, tmp_path / "exported", ["index"], LABELS)
    return names


def test_an_exports_frames_carried_by_propagation_stay_no_evidence_when_imported(tmp_path):
    """A user's check: an accepted frame carried from another, exported and imported into a
    fresh copy, came back "model 92 % right". The manifest notes where its labels came from,
    and the import writes the link again."""
    from segnet_core.masks.labels_folder import PROPAGATED_FROM, LabelsFolder

    names = _export_carried(tmp_path, 3)
    report = import_labels(tmp_path / "exported" / "index", tmp_path / "images",
                           label_set=LABELS)
    assert len(report.written) == 3 and report.carried_noted == 2
    assert any(line.startswith("noted 2 mask(s)") for line in report.lines())
    assert LabelsFolder(tmp_path / "images" / "labels").read_names(PROPAGATED_FROM) == {
        f"{names[1]}.png <- {names[0]}.png", f"{names[2]}.png <- {names[0]}.png"}


def test_an_unreadable_list_of_links_is_left_as_it_is_and_said(tmp_path):
    """A review: a propagated_from.txt that could not be read was written anew with the
    import's lines alone (the links it held lost), and one that could not be written failed
    the import after its masks were written."""
    _export_carried(tmp_path, 2)
    links = tmp_path / "images" / "labels" / "propagated_from.txt"
    links.parent.mkdir()
    links.write_bytes("x.png <- caf\xe9.png\n".encode("latin-1"))  # not UTF-8
    report = import_labels(tmp_path / "exported" / "index", tmp_path / "images",
                           label_set=LABELS)
    assert len(report.written) == 2 and report.carried_noted == 0
    assert links.read_bytes() == "x.png <- caf\xe9.png\n".encode("latin-1")
    assert any(note.startswith("could not note the masks carried by propagation")
               for note in report.notes)



def test_an_exports_masks_saved_as_predicted_are_listed_so_again(tmp_path):
    """A review: a mask saved as the model predicted it ("may_score": false in the manifest)
    came back from an export as a plain correction, evidence again."""
    from segnet_core.export import export_masks
    from segnet_core.masks.labels_folder import AS_PREDICTED, LabelsFolder

    masks = make_masks(3)
    images = write_images(tmp_path / "images", masks)
    names = sorted(masks)
    items = [ExportItem(name, masks[name], image=images[name], scorable=name != names[1])
             for name in names]
    export_masks(items, tmp_path / "exported", ["index"], LABELS)
    report = import_labels(tmp_path / "exported" / "index", tmp_path / "images",
                           label_set=LABELS)
    assert len(report.written) == 3 and report.as_predicted_noted == [f"{names[1]}.png"]
    assert LabelsFolder(tmp_path / "images" / "labels").read_names(AS_PREDICTED) == {
        f"{names[1]}.png"}
    assert any(line.startswith("listed 1 mask(s)") for line in report.lines())


def test_masks_an_export_set_aside_from_its_layout_are_said_missing(tmp_path):
    """A user's check imported a CamVid export: a correction set aside beside a val frame
    (in index/, not in camvid/) was mentioned nowhere."""
    from segnet_core.export import export_masks

    masks = make_masks(14)
    images = write_images(tmp_path / "images", masks)
    names = sorted(masks)
    items = [ExportItem(name, masks[name], image=images[name], corrected=i in (0, 13))
             for i, name in enumerate(names)]  # two corrections far apart, predictions
    result = export_masks(items, tmp_path / "exported", ["camvid", "index"], LABELS,
                          split=(0.5, 0.5))
    report = import_labels(tmp_path / "exported" / "camvid", tmp_path / "images",
                           label_set=LABELS, out_dir=tmp_path / "back")
    assert result.set_aside > 0 and len(report.set_aside_missing) == result.set_aside
    line = next(text for text in report.lines() if "set aside" in text)
    assert line.startswith(f"{result.set_aside} mask(s) the export set aside from its split "
                           "layouts")
    again = import_labels(tmp_path / "exported" / "index", tmp_path / "images",
                          label_set=LABELS, out_dir=tmp_path / "back2")
    assert again.set_aside_missing == []  # index/ holds them


@pytest.mark.parametrize("fmt", ["overlay", "per-class"])
def test_an_exports_pictures_are_refused_and_the_masks_there_stay(tmp_path, fmt, capsys):
    """A user's check: an export's overlay/ folder imported with Replace ticked was read as
    colour masks and wrote six all-void masks over six corrections (no undo). An export's
    folders that hold no importable masks are refused, naming the folder."""
    from segnet_core.cli import main
    from segnet_core.errors import DataError
    from segnet_core.export import export_masks

    masks = make_masks(3)
    images = write_images(tmp_path / "images", masks)
    export_masks([ExportItem(name, mask, image=images[name]) for name, mask in masks.items()],
                 tmp_path / "exported", [fmt, "index"], LABELS)
    source = tmp_path / "exported" / fmt
    saved = import_labels(tmp_path / "exported" / "index", tmp_path / "images").written
    before = {path: path.read_bytes() for path in saved}
    with pytest.raises(DataError) as refused:
        import_labels(source, tmp_path / "images", overwrite=True)
    assert refused.value.path == source
    assert f"the {fmt}/ folder of an export holds no masks that can be imported" in str(
        refused.value) and "index, color, camvid, voc, coco" in str(refused.value)
    assert main(["import", str(source), "--images", str(tmp_path / "images"),
                 "--overwrite"]) != 0
    assert str(source) in capsys.readouterr().err
    assert {path: path.read_bytes() for path in saved} == before


def test_pictures_that_are_not_masks_in_these_classes_are_refused_naming_the_file(tmp_path):
    """Outside an export, a folder of photos (or of another tool's colours without its label
    set) would import as masks mostly void: the import stops at the first such file and
    writes nothing; a mask with a few colours of no class is imported, those made void."""
    from segnet_core.errors import DataError

    masks = make_masks(3)
    write_images(tmp_path / "images", masks)
    colours = tmp_path / "colour"
    colours.mkdir()
    palette = np.array([*LABELS.colors, LABELS.void_color], np.uint8)
    for name, mask in masks.items():
        rgb = palette[mask]
        rgb[:3, :3] = (1, 2, 3)  # a few pixels of no class's colour: made void, said
        cv2.imwrite(str(colours / f"{name}.png"), rgb[..., ::-1].copy())
    out = tmp_path / "labels"
    report = import_labels(colours, tmp_path / "images", out_dir=out, label_set=LABELS)
    assert len(report.written) == 3 and report.unknown_classes
    before = {path: path.read_bytes() for path in report.written}
    photo = np.random.default_rng(0).integers(0, 256, (*masks["frame_01"].shape, 3), np.uint8)
    cv2.imwrite(str(colours / "frame_01.png"), photo)
    with pytest.raises(DataError) as refused:
        import_labels(colours, tmp_path / "images", out_dir=out, label_set=LABELS,
                      overwrite=True)
    assert refused.value.path == colours / "frame_01.png"
    assert "of its pixels are in" in str(refused.value) and "not a mask in these classes" \
        in str(refused.value)
    assert {path: path.read_bytes() for path in report.written} == before  # nothing written
