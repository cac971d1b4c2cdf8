"""File > Import labels...: masks written by other tools (Pascal VOC palette PNGs from PIL,
a COCO file encoded by pycocotools) come in through the dialog, in the worker, with the
current model's classes; the report is shown and the imported frames are corrected in the
list, for fine-tuning and for export."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from app.frames import FrameStatus
from segnet_core.importing import ImportFormat
from segnet_core.io.masks import read_mask

from tests.app.conftest import H, LABELS, W
from tests.app.editing_helpers import labels, open_folder
from tests.core.test_import_other_tools import voc_palette

VOID = LABELS.void_index


def write_voc(root, masks: dict[str, np.ndarray], names: list[str]) -> None:
    (root / "SegmentationClass").mkdir(parents=True)
    for stem, mask in masks.items():
        image = Image.fromarray(mask, mode="P")
        image.putpalette(voc_palette())
        image.save(root / "SegmentationClass" / f"{stem}.png")
    (root / "labels.txt").write_text("".join(f"{n}\n" for n in names))


def voc_mask(seed: int) -> np.ndarray:
    """VOC indices: 0 background, 1 Car, 2 road, 3 SKY, 4 aeroplane (unknown here)."""
    mask = np.full((H, W), 3, np.uint8)
    mask[H // 3:] = 2
    mask[20:40, 10 + seed:40 + seed] = 1
    mask[0:4, 0:8] = 4
    mask[-3:, -3:] = 255
    return mask


def ours(voc: np.ndarray) -> np.ndarray:
    table = np.full(256, VOID, np.uint8)
    table[[1, 2, 3]] = [2, 1, 0]  # Car, Road, Sky in LABELS
    return table[voc]


def run_import(qtbot, window, source, fmt=ImportFormat.AUTO, overwrite=False):
    dialog = window.importer.ask()
    dialog.source.setText(str(source))
    dialog.set_format(fmt)
    dialog.overwrite.setChecked(overwrite)
    import_button = dialog.findChild(QDialogButtonBox).button(
        QDialogButtonBox.StandardButton.Ok)
    with qtbot.waitSignal(window.importer.importFinished, timeout=30000) as done:
        QTest.mouseClick(import_button, Qt.MouseButton.LeftButton)  # Import
    return done.args[0]


def test_a_voc_folder_is_imported_reported_and_corrected_everywhere(
        qtbot, make_window, image_folder, tmp_path):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    voc = {"a": voc_mask(0), "b": voc_mask(5), "zz": voc_mask(1)}
    write_voc(tmp_path / "VOC", voc, ["background", "Car", "road", "SKY", "aeroplane"])
    report = run_import(qtbot, window, tmp_path / "VOC")
    assert report.format is ImportFormat.VOC and report.label_set == LABELS
    assert sorted(p.name for p in report.written) == ["a.png", "b.png"]
    for stem in "ab":
        assert np.array_equal(read_mask(image_folder / "labels" / f"{stem}.png", LABELS),
                              ours(voc[stem]))
    corrected = [window.frames[0], window.frames[1]]
    assert window.frames.corrected() == corrected
    assert [f.frame for f in window.training.corrected_frames()] == corrected
    assert window.exporter.corrected_refs() == corrected
    box = window.importer.report_box
    assert box.isVisible() and not box.isModal()
    text = box.text() + "\n" + box.informativeText()
    assert "Imported 2 mask(s)" in text and "'aeroplane' (64 px in 2 file(s))" in text
    assert "zz" in text and "without an image" in text and "without a mask" in text
    assert box.icon() == QMessageBox.Icon.Warning  # a mask matched no image, a class lost
    assert "2 corrected" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: labels(window) is not None and labels(window).started, timeout=5000)
    assert np.array_equal(window.display.document.shown_labels(), ours(voc["a"]))
    assert not window.importer.progress.isVisible() and window.importer.action.isEnabled()


def test_coco_from_pycocotools_rle_and_polygons(qtbot, make_window, image_folder, tmp_path):
    mask_api = pytest.importorskip("pycocotools.mask")
    window = make_window()
    open_folder(qtbot, window, image_folder)
    car = np.zeros((H, W), np.uint8, order="F")
    car[10:30, 20:50] = 1
    rle = mask_api.encode(np.asfortranarray(car))
    rle["counts"] = rle["counts"].decode("ascii")
    coco = {
        "images": [{"id": 1, "file_name": "c.png", "height": H, "width": W},
                   {"id": 2, "file_name": "elsewhere.png", "height": H, "width": W}],
        "categories": [{"id": 7, "name": "car"}, {"id": 9, "name": "road"},
                       {"id": 11, "name": "zebra"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 9, "iscrowd": 0, "area": 1.0,
             "segmentation": [[0, 40, W, 40, W, H, 0, H]], "bbox": [0, 40, W, H - 40]},
            {"id": 2, "image_id": 1, "category_id": 7, "iscrowd": 1, "area": 1.0,
             "segmentation": rle, "bbox": [20, 10, 30, 20]},
            {"id": 3, "image_id": 1, "category_id": 11, "iscrowd": 0, "area": 1.0,
             "segmentation": [[0, 0, 6, 0, 6, 6, 0, 6]], "bbox": [0, 0, 6, 6]}],
    }
    source = tmp_path / "instances.json"
    source.write_text(json.dumps(coco))
    report = run_import(qtbot, window, source, ImportFormat.COCO)
    assert [p.name for p in report.written] == ["c.png"]
    mask = read_mask(image_folder / "labels" / "c.png", LABELS)
    road = np.zeros((H, W), bool)
    road[40:] = True
    assert (mask[road & (car == 0)] == 1).mean() > 0.95  # polygon edges may differ by a pixel
    assert np.all(mask[car == 1] == 2)
    assert mask[20, 5] == VOID and mask[2, 2] == VOID  # uncovered; an unknown class
    assert window.frames.status(window.frames[2]) == FrameStatus.CORRECTED
    text = window.importer.report_box.informativeText()
    assert "'zebra'" in text and "elsewhere" in text


def test_existing_masks_are_kept_unless_replacing_is_chosen(
        qtbot, make_window, image_folder, tmp_path):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    write_voc(tmp_path / "VOC", {"a": voc_mask(0)}, ["background", "Car", "road", "SKY"])
    first = run_import(qtbot, window, tmp_path / "VOC")
    assert len(first.written) == 1
    assert window.importer.report_box.text().startswith(
        "Imported 1 mask(s) (voc): 1 new, 0 replacing saved ones; 1 corrected in all")
    write_voc(tmp_path / "VOC2", {"a": voc_mask(9)}, ["background", "Car", "road", "SKY"])
    dialog = window.importer.ask()
    assert dialog.overwrite.isVisibleTo(dialog)
    assert dialog.overwrite.text() == ("Replace masks saved in images/labels/ (1 there) by the "
                                       "source's for the same images")
    dialog.reject()
    kept = run_import(qtbot, window, tmp_path / "VOC2")
    assert [p.name for p in kept.kept] == ["a.png"] and not kept.written
    assert "kept 1 existing" in window.importer.report_box.informativeText()
    # masks kept, frames without a mask: a partial import, nothing lost or wrong
    assert "without a mask" in window.importer.report_box.informativeText()
    assert window.importer.report_box.icon() == QMessageBox.Icon.Information
    replaced = run_import(qtbot, window, tmp_path / "VOC2", overwrite=True)
    assert len(replaced.written) == 1
    box = window.importer.report_box  # not "0 frame(s) changed" (a user's check)
    assert box.text().startswith(
        "Imported 1 mask(s) (voc): 0 new, 1 replacing saved ones; 1 corrected in all")
    assert "replaced 1 mask(s) saved there before: a.png" in box.informativeText()
    path = image_folder / "labels" / "a.png"
    assert np.array_equal(read_mask(path, LABELS), ours(voc_mask(9)))
    qtbot.waitUntil(lambda: labels(window) is not None and np.array_equal(
        labels(window).mask, ours(voc_mask(9))), timeout=5000)  # the frame shown follows


def test_a_frame_with_unsaved_edits_is_left_alone_and_said_even_when_replacing(
        qtbot, make_window, image_folder, tmp_path):
    """A user's check: frames holding propagated labels not saved yet were counted as
    imported, then their autosave put those labels back over the imported masks."""
    from tests.app.editing_helpers import drag, key

    window = make_window()
    open_folder(qtbot, window, image_folder)
    key(window, Qt.Key.Key_2)
    drag(window, [(5, 5), (40, 5)])  # a.png: edited, not saved
    edited = labels(window).mask.copy()
    write_voc(tmp_path / "VOC", {"a": voc_mask(0), "b": voc_mask(1)},
              ["background", "Car", "road", "SKY"])
    report = run_import(qtbot, window, tmp_path / "VOC", overwrite=True)
    assert [p.name for p in report.written] == ["b.png"]
    assert [p.name for p in report.held] == ["a.png"]
    assert not (image_folder / "labels" / "a.png").exists()
    box = window.importer.report_box
    assert box.text().startswith("Imported 1 mask(s) (voc): 1 new")
    assert "left 1 mask(s) alone: edited in the window and not saved" in box.informativeText()
    assert box.icon() == QMessageBox.Icon.Warning
    assert np.array_equal(labels(window).mask, edited) and labels(window).dirty


def test_the_dialog_offers_the_source_and_format_last_imported_here_but_not_replace(
        qtbot, make_window, image_folder, tmp_path):
    """A user's check: each import started from an empty source box and the format reset."""
    window = make_window()
    open_folder(qtbot, window, image_folder)
    dialog = window.importer.ask()
    assert dialog.source.text() == "" and dialog.format.currentData() == ImportFormat.AUTO
    dialog.reject()
    write_voc(tmp_path / "VOC", {"a": voc_mask(0)}, ["background", "Car", "road", "SKY"])
    run_import(qtbot, window, tmp_path / "VOC", fmt=ImportFormat.VOC, overwrite=True)
    dialog = window.importer.ask()
    assert dialog.source.text() == str(tmp_path / "VOC")
    assert dialog.format.currentData() == ImportFormat.VOC
    assert dialog.overwrite.isVisibleTo(dialog) and not dialog.overwrite.isChecked()
    dialog.reject()
    # a source since removed is not offered (the box would only say it does not exist)
    (tmp_path / "VOC" / "labels.txt").rename(tmp_path / "labels.txt")
    for mask in (tmp_path / "VOC" / "SegmentationClass").iterdir():
        mask.unlink()
    (tmp_path / "VOC" / "SegmentationClass").rmdir()
    (tmp_path / "VOC").rmdir()
    dialog = window.importer.ask()
    assert dialog.source.text() == ""
    dialog.reject()


def test_cancel_writes_nothing_and_a_bad_source_is_reported(
        qtbot, make_window, image_folder, tmp_path):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    write_voc(tmp_path / "VOC", {"a": voc_mask(0), "b": voc_mask(1)}, ["background", "Car"])
    dialog = window.importer.ask()
    dialog.source.setText(str(tmp_path / "VOC"))
    gate = threading.Event()
    window.importer.tasks.submit(lambda _task: gate.wait(30))  # holds the import back
    with qtbot.waitSignal(window.importer.importFinished, timeout=30000) as done:
        dialog.accept()
        assert window.importer.progress.isVisible()
        window.importer.progress.cancel_button.click()
        gate.set()
    assert done.args[0].cancelled
    assert not list((image_folder / "labels").glob("*.png"))
    assert "cancelled" in window.statusBar().currentMessage()

    small = np.zeros((H // 2, W // 2), np.uint8)
    write_voc(tmp_path / "bad", {"a": small}, ["background", "Car"])
    assert run_import(qtbot, window, tmp_path / "bad") is None
    assert any("import failed" in e for e in window.problems.entries())
    assert not (image_folder / "labels" / "a.png").exists()


def test_an_exports_overlays_are_refused_and_the_corrections_stay(
        qtbot, make_window, image_folder, tmp_path):
    """A user's check: Import labels from an export's overlay/ folder with Replace ticked
    wrote all-void masks over every correction, with no undo."""
    from segnet_core.export import ExportItem, export_masks

    masks = {stem: ours(voc_mask(i)) for i, stem in enumerate("ab")}
    export_masks([ExportItem(stem, mask, image=image_folder / f"{stem}.png")
                  for stem, mask in masks.items()], tmp_path / "exported",
                 ["overlay", "index"], LABELS)
    window = make_window()
    open_folder(qtbot, window, image_folder)
    assert len(run_import(qtbot, window, tmp_path / "exported" / "index").written) == 2
    saved = {stem: (image_folder / "labels" / f"{stem}.png").read_bytes() for stem in "ab"}
    overlay = tmp_path / "exported" / "overlay"
    assert run_import(qtbot, window, overlay, overwrite=True) is None
    message = window.statusBar().currentMessage()
    assert message.startswith("Import failed: the overlay/ folder of an export holds no masks")
    assert any(entry.startswith("overlay: import failed: the overlay/ folder")
               for entry in window.problems.entries())
    assert {stem: (image_folder / "labels" / f"{stem}.png").read_bytes()
            for stem in "ab"} == saved
    assert window.frames.corrected() == list(window.frames)[:2]


def test_import_asks_for_open_images_first(qtbot, make_window):
    window = make_window(model=None)
    assert window.importer.ask() is None
    assert "Open the images first" in window.statusBar().currentMessage()


def test_masks_an_export_marks_as_predictions_are_left_out_unless_the_box_is_ticked(
        qtbot, make_window, image_folder, tmp_path):
    """An export's predictions imported back came in as corrections (a user's check). The
    dialog offers them only in a box, unticked, once the source typed is in an export."""
    from segnet_core.export import ExportItem, export_masks

    masks = {stem: ours(voc_mask(i)) for i, stem in enumerate("abcd")}
    items = [ExportItem(stem, mask, image=image_folder / f"{stem}.png", corrected=stem == "a")
             for stem, mask in masks.items()]
    export_masks(items, tmp_path / "exported", ["index"], LABELS)
    window = make_window()
    open_folder(qtbot, window, image_folder)
    for tick in (False, True):
        dialog = window.importer.ask()
        qtbot.waitUntil(dialog.isVisible, timeout=5000)
        assert not dialog.uncorrected.isVisible()
        # typed over what is offered (the second time, the source imported the first)
        QTest.keyClick(dialog.source, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClicks(dialog.source, str(tmp_path / "exported" / "index"))
        assert not dialog.uncorrected.isVisible()  # looked for once typing pauses
        qtbot.waitUntil(dialog.uncorrected.isVisible, timeout=5000)
        assert not dialog.uncorrected.isChecked()
        assert dialog.uncorrected.text().startswith("Also import the 3 mask(s) the export "
                                                    "marks as not corrected")
        if tick:
            QTest.mouseClick(dialog.uncorrected, Qt.MouseButton.LeftButton,
                             pos=dialog.uncorrected.rect().center())
        with qtbot.waitSignal(window.importer.importFinished, timeout=30000) as done:
            QTest.keyClick(dialog.source, Qt.Key.Key_Return)
        report = done.args[0]
        if not tick:
            assert [p.name for p in report.written] == ["a.png"]
            assert window.frames.corrected() == [window.frames[0]]
            box = window.importer.report_box
            assert "left out 3 mask(s)" in box.text() + "\n" + box.informativeText()
            box.close()
        else:
            assert sorted(p.name for p in report.written) == ["b.png", "c.png", "d.png"]
            qtbot.waitUntil(lambda: len(window.frames.corrected()) == 4, timeout=10000)


def test_an_imported_frame_an_export_marks_as_carried_is_no_evidence(
        qtbot, make_window, image_folder, tmp_path):
    """A user's check: exported and imported into a fresh copy, an accepted propagated frame
    read "model 92 % right" again. Noted as carried, it shows its estimate."""
    from segnet_core.export import ExportItem, export_masks
    from tests.app.editing_helpers import key, show_row, wait_saved
    from tests.app.test_quality import list_text, segment_everything

    masks = {stem: ours(voc_mask(i)) for i, stem in enumerate("abcd")}
    items = [ExportItem(stem, mask, image=image_folder / f"{stem}.png", scorable=stem == "a",
                        carried_from=() if stem == "a" else ("a",))
             for stem, mask in masks.items() if stem in "ab"]
    export_masks(items, tmp_path / "exported", ["index"], LABELS)
    window = make_window()
    open_folder(qtbot, window, image_folder)
    segment_everything(qtbot, window)
    show_row(qtbot, window, 3)  # d saved as predicted: the window has read the links since
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    qtbot.waitUntil(lambda: window.as_predicted.is_listed(window.frames[3]), timeout=5000)
    report = run_import(qtbot, window, tmp_path / "exported" / "index")
    assert len(report.written) == 2 and report.carried_noted == 1
    qtbot.waitUntil(lambda: "right" in list_text(window, 0), timeout=10000)  # a: evidence
    qtbot.wait(300)  # b's measure, had it been taken, has come back by now
    assert window.quality.measured_frames == 1 and "right" not in list_text(window, 1)
    assert window.propagation.is_carried(window.frames[1])



def test_an_imported_frame_an_export_marks_as_saved_as_predicted_stays_so(
        qtbot, make_window, image_folder, tmp_path):
    """A review: saved as predicted, exported and imported, a mask came back as evidence.
    Listed again after the import's change of the mask had taken it off."""
    from segnet_core.export import ExportItem, export_masks
    from tests.app.test_quality import list_text, segment_everything

    items = [ExportItem(stem, ours(voc_mask(i)), image=image_folder / f"{stem}.png",
                        scorable=stem != "b") for i, stem in enumerate("ab")]
    export_masks(items, tmp_path / "exported", ["index"], LABELS)
    window = make_window()
    open_folder(qtbot, window, image_folder)
    segment_everything(qtbot, window)
    report = run_import(qtbot, window, tmp_path / "exported" / "index")
    assert report.as_predicted_noted == ["b.png"]
    qtbot.waitUntil(lambda: window.as_predicted.is_listed(window.frames[1]), timeout=10000)
    qtbot.waitUntil(lambda: list_text(window, 1).endswith("as predicted"), timeout=10000)
    assert not window.as_predicted.is_listed(window.frames[0])
    qtbot.waitUntil(lambda: window.quality.measured_frames == 1, timeout=10000)  # a alone
    window.close()  # the list's writes done: b stays listed on disk
    assert (image_folder / "labels" / "as_predicted.txt").read_text().splitlines()[-1] == \
        "b.png"
