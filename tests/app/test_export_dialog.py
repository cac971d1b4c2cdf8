"""File > Export...: the dialog drives an export of the corrected frames in a worker; cancel
and a disk error are reported."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox, QLabel

from segnet_core.importing.rle import decode_segmentation
from segnet_core.labels import camvid_label_set
from segnet_core.masks.labels_folder import PROPAGATED, LabelsFolder

from tests.app.conftest import H, W, scene_image, write_png


def corrected_folder(tmp_path, count: int):
    """`count` images, the first two with saved (corrected) masks; those masks by stem."""
    folder = tmp_path / "images"
    folder.mkdir()
    label_set = camvid_label_set()
    labels = LabelsFolder.beside(folder / "x.png")
    masks = {}
    rng = np.random.default_rng(0)
    for i in range(count):
        path = write_png(folder / f"f{i:03d}.png", scene_image(i))
        if i < 2 or count > 2:
            mask = rng.integers(0, 4, (H, W)).astype(np.uint8)
            mask[:8] = 2
            labels.save(f"{path.stem}.png", mask, label_set)
            masks[path.stem] = mask
    return folder, masks


def run_dialog(qtbot, window, out, formats):
    dialog = window.exporter.ask()
    dialog.set_formats(formats)
    dialog.folder.setText(str(out))
    with qtbot.waitSignal(window.exporter.exportFinished, timeout=30000) as blocker:
        dialog.accept()
    return blocker.args[0]


def test_export_writes_index_and_coco_of_the_corrected_frames(qtbot, make_window, tmp_path):
    window = make_window(model=None)
    folder, masks = corrected_folder(tmp_path, 2)
    (folder / "extra.png").write_bytes((folder / "f000.png").read_bytes())  # not corrected
    window.open_paths([folder])
    out = tmp_path / "out"
    result = run_dialog(qtbot, window, out, ["index", "coco"])
    assert result is not None and result.exported == 2 and result.corrected == 2
    assert result.manifest == out / "manifest.json" and result.manifest.is_file()
    assert str(result.manifest) in window.statusBar().currentMessage()
    for stem, mask in masks.items():
        written = np.array(Image.open(out / "index" / f"{stem}.png"))
        assert np.array_equal(written, mask)
    coco = json.loads((out / "coco" / "instances.json").read_text())
    assert sorted(image["file_name"] for image in coco["images"]) == ["f000.png", "f001.png"]
    for image in coco["images"]:
        mask = masks[image["file_name"][:-4]]
        rebuilt = np.full(mask.shape, 255, np.uint8)
        for annotation in coco["annotations"]:
            if annotation["image_id"] == image["id"]:
                region = decode_segmentation(annotation["segmentation"], *mask.shape)
                rebuilt[region] = annotation["category_id"] - 1
        assert np.array_equal(rebuilt, mask)
    assert not (out / "index" / "extra.png").exists()
    assert not window.exporter.progress.isVisible()


def test_a_saved_mask_of_another_size_is_not_exported_as_corrected(qtbot, make_window,
                                                                    tmp_path):
    """A review: the window's export wrote a saved mask of another size than its frame (a
    frame never shown) as corrected in the formats that write the mask alone."""
    window = make_window(model=None)
    folder, masks = corrected_folder(tmp_path, 2)
    LabelsFolder.beside(folder / "x.png").save(
        "f001.png", np.zeros((H // 2, W // 2), np.uint8), camvid_label_set())
    window.open_paths([folder])
    result = run_dialog(qtbot, window, tmp_path / "out", ["index"])
    assert result.exported == 1 and len(result.skipped) == 1
    assert sorted(p.name for p in (tmp_path / "out" / "index").iterdir()) == ["f000.png"]
    assert any("f001" in line and f"but its image is {H}x{W}" in line
               for line in window.problems.entries())


def test_a_frame_named_with_spaces_is_left_out_of_camvid_only_and_said(qtbot, make_window,
                                                                     tmp_path):
    """A tester's corrected frame named with spaces and quotes was missing from every format
    when CamVid was ticked ("3 of 4 frame(s)")."""
    window = make_window(model=None)
    folder, masks = corrected_folder(tmp_path, 2)
    odd = "name with spaces 'quote\" \u00fcn\u00efc\u00f8d\u00e9 \u65e5\u672c"
    write_png(folder / f"{odd}.png", scene_image(5))
    LabelsFolder.beside(folder / "x.png").save(f"{odd}.png", masks["f000"], camvid_label_set())
    window.open_paths([folder])
    result = run_dialog(qtbot, window, tmp_path / "out", ["index", "camvid"])
    assert result.exported == 3 and not result.skipped
    assert np.array_equal(np.array(Image.open(tmp_path / "out" / "index" / f"{odd}.png")),
                          masks["f000"])
    assert not any(odd in line for line in
                   (tmp_path / "out" / "camvid" / "train.txt").read_text().splitlines())
    message = window.statusBar().currentMessage()
    assert "3 of 3 frame(s)" in message and f"{odd!r} left out of camvid/ only" in message
    # and in Problems, which a long status message does not cut short (a re-check)
    assert any(f"export: {odd} left out of camvid/ only: the list files split lines" in line
               for line in window.problems.entries())


def test_coco_regions_under_the_smallest_size_typed_are_left_out(qtbot, make_window,
                                                                  tmp_path):
    """A user's two frames gave 208 COCO annotations, most of them specks of a few pixels:
    the dialog takes the command's --min-area too, typed, and only while COCO is ticked."""
    window = make_window(model=None)
    folder, _masks = corrected_folder(tmp_path, 2)  # random labels: many small regions
    window.open_paths([folder])
    areas = {}
    for smallest in (0, 40):
        dialog = window.exporter.ask()
        dialog.set_formats(["index"])
        assert not dialog.min_area.isEnabled()
        QTest.mouseClick(dialog.checks["coco"], Qt.MouseButton.LeftButton,
                         pos=dialog.checks["coco"].rect().center())
        assert dialog.min_area.isEnabled()
        assert dialog.min_area.text() == "every region"  # 0, said so
        dialog.min_area.selectAll()
        QTest.keyClicks(dialog.min_area, str(smallest))
        dialog.folder.setText(str(tmp_path / f"out{smallest}"))
        with qtbot.waitSignal(window.exporter.exportFinished, timeout=30000):
            QTest.mouseClick(dialog.findChild(QDialogButtonBox).button(
                QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)  # Export
        coco = json.loads((tmp_path / f"out{smallest}" / "coco" / "instances.json").read_text())
        areas[smallest] = [annotation["area"] for annotation in coco["annotations"]]
    assert min(areas[0]) < 40 <= min(areas[40])
    assert sorted(areas[40]) == sorted(a for a in areas[0] if a >= 40)


def test_export_can_be_cancelled(qtbot, make_window, tmp_path):
    window = make_window(model=None)
    folder, _ = corrected_folder(tmp_path, 40)
    window.open_paths([folder])
    dialog = window.exporter.ask()
    dialog.set_formats(["index", "color", "overlay", "coco"])
    dialog.folder.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(window.exporter.exportFinished, timeout=30000) as blocker:
        dialog.accept()
        window.exporter.cancel_button.click()
    result = blocker.args[0]
    assert result.cancelled and result.exported < 40
    assert "cancelled" in window.statusBar().currentMessage().lower()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "cancelled"


def test_a_disk_error_is_reported_naming_the_file(qtbot, make_window, tmp_path, monkeypatch):
    import segnet_core.export.output as output

    def no_space(self, relative, *args, **kwargs):
        with output.disk_errors(self.path(relative)):  # as the disk filling up would
            raise OSError(28, "No space left on device")

    for method in ("write_with", "write_bytes"):
        monkeypatch.setattr(output.Output, method, no_space)
    window = make_window(model=None)
    folder, _ = corrected_folder(tmp_path, 2)
    window.open_paths([folder])
    assert run_dialog(qtbot, window, tmp_path / "out", ["index"]) is None
    entries = window.problems.entries()
    assert any("f000.png" in entry and "No space left on device" in entry for entry in entries)
    assert window.exporter.action.isEnabled()


def test_the_dialog_refuses_no_format_and_a_bad_split(qtbot, make_window, tmp_path):
    window = make_window(model=None)
    dialog = window.exporter.ask()
    dialog.set_formats([])
    dialog.accept()
    assert dialog.isVisible() and "format" in dialog.error.text()
    dialog.set_formats(["camvid"])
    dialog.splits[0].setValue(0.5)
    dialog.accept()
    assert dialog.isVisible() and "add up" in dialog.error.text()
    dialog.splits[1].setValue(0.5)
    assert dialog.request().split == (0.5, 0.5)
    dialog.reject()


def test_an_output_folder_below_a_file_is_refused_in_the_dialog_naming_the_file(
        qtbot, make_window, tmp_path):
    """A user's check: an output folder below a video file closed the dialog, and the export
    then failed at its first mask, naming that mask."""
    window = make_window(model=None)
    folder, _ = corrected_folder(tmp_path, 2)
    window.open_paths([folder])
    dialog = window.exporter.ask()
    dialog.set_formats(["index"])
    dialog.folder.clear()
    QTest.keyClicks(dialog.folder, str(folder / "f000.png" / "out"))
    export = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    QTest.mouseClick(export, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.error.text() == (f"The output folder cannot be made: {folder / 'f000.png'} "
                                   "is a file, not a folder.")
    QTest.keyClick(dialog.folder, Qt.Key.Key_Backspace)  # mending it: the message goes
    assert dialog.error.text() == ""
    for text, why in (("~no-such-user-here/out", "cannot be used: "),
                      (str(tmp_path / ("x" * 300)), "cannot be used: File name too long")):
        dialog.folder.clear()
        QTest.keyClicks(dialog.folder, text)
        QTest.mouseClick(export, Qt.MouseButton.LeftButton)
        assert dialog.isVisible() and dialog.error.text().startswith(f"The output folder {why}")
    dialog.folder.clear()
    QTest.keyClicks(dialog.folder, str(tmp_path / "out"))
    with qtbot.waitSignal(window.exporter.exportFinished, timeout=30000) as blocker:
        QTest.mouseClick(export, Qt.MouseButton.LeftButton)
    assert blocker.args[0] is not None and blocker.args[0].exported == 2


def test_a_frame_exported_with_edits_not_saved_is_said(qtbot, make_window, tmp_path):
    """A user's check: an unsaved stroke was exported as a correction without a word; a
    Discard at quit then left it in the export only."""
    from tests.app.editing_helpers import drag, key, labels

    window = make_window(model=None)
    folder, masks = corrected_folder(tmp_path, 2)
    window.open_paths([folder])
    qtbot.waitUntil(lambda: labels(window) is not None, timeout=10000)
    window.activateWindow()
    key(window, Qt.Key.Key_2)
    drag(window, [(5, 5), (40, 5)])
    edited = labels(window).mask.copy()
    result = run_dialog(qtbot, window, tmp_path / "out", ["index"])
    assert result.exported == 2
    assert np.array_equal(np.array(Image.open(tmp_path / "out" / "index" / "f000.png")), edited)
    assert ("1 with edits not saved yet, exported as shown (save them to keep them in labels/ "
            "too)") in window.statusBar().currentMessage()


def test_exporting_again_into_the_folder_says_it_removed_the_earlier_exports_files(
        qtbot, make_window, tmp_path):
    window = make_window(model=None)
    folder, masks = corrected_folder(tmp_path, 2)
    window.open_paths([folder])
    out = tmp_path / "out"
    first = run_dialog(qtbot, window, out, ["index", "color"])
    assert "earlier export" not in window.statusBar().currentMessage()
    second = run_dialog(qtbot, window, out, ["index"])
    assert second.removed_earlier == 2  # color/'s two masks; index/'s are written again
    assert ("removed the 2 file(s) of an earlier export here that this one did not write"
            in window.statusBar().currentMessage())
    assert not (out / "color").exists() and first.exported == second.exported == 2


def test_the_coco_title_says_what_is_written_polygons_and_rle_for_holes(
        qtbot, make_window, tmp_path):
    window = make_window(model=None)
    folder = tmp_path / "images"
    folder.mkdir()
    write_png(folder / "ring.png", scene_image(0))
    mask = np.zeros((H, W), np.uint8)  # Sky around a Building ring around a Pole square
    mask[10:40, 20:60] = 1
    mask[20:30, 30:50] = 2
    label_set = camvid_label_set()
    LabelsFolder.beside(folder / "ring.png").save("ring.png", mask, label_set)
    window.open_paths([folder])
    dialog = window.exporter.ask()
    title = dialog.checks["coco"].text()
    dialog.reject()
    assert "polygons" in title and "RLE for regions with holes" in title
    out = tmp_path / "out"
    assert run_dialog(qtbot, window, out, ["coco"]).exported == 1
    coco = json.loads((out / "coco" / "instances.json").read_text())
    kinds = {a["category_id"] - 1: type(a["segmentation"]).__name__
             for a in coco["annotations"]}
    assert kinds == {0: "dict", 1: "dict", 2: "list"}  # holed: RLE; the square: polygons


def test_propagated_labels_not_accepted_are_left_out_unless_ticked_and_never_corrected(
        qtbot, make_window, tmp_path):
    """A saved mask listed in propagated.txt holds labels Edit > Propagate carried, which
    nobody accepted: it is no correction. The dialog counts it apart and leaves it out; ticked,
    it is exported marked "propagated" (a user's check found it exported as corrected)."""
    window = make_window(model=None)
    folder, masks = corrected_folder(tmp_path, 3)
    LabelsFolder.beside(folder / "x.png").write_names(PROPAGATED, {"f001.png"})
    window.open_paths([folder])
    for out, tick in ((tmp_path / "left_out", False), (tmp_path / "ticked", True)):
        dialog = window.exporter.ask()
        qtbot.waitUntil(dialog.isVisible, timeout=5000)
        texts = [label.text() for label in dialog.findChildren(QLabel)]
        assert "2 corrected frame(s) to export." in texts
        assert dialog.propagated.isVisible() and "1 frame(s)" in dialog.propagated.text()
        dialog.set_formats(["index"])
        dialog.folder.setText(str(out))
        if tick:
            QTest.mouseClick(dialog.propagated, Qt.MouseButton.LeftButton)
            assert dialog.header.text() == ("2 corrected frame(s) to export, and 1 with "
                                            "propagated labels not accepted yet.")
        export = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        with qtbot.waitSignal(window.exporter.exportFinished, timeout=30000) as blocker:
            QTest.mouseClick(export, Qt.MouseButton.LeftButton)
        result = blocker.args[0]
        manifest = json.loads((out / "manifest.json").read_text())
        items = {item["name"]: (item["corrected"], item["propagated"])
                 for item in manifest["items"]}
        if tick:
            assert items == {"f000": (True, False), "f001": (False, True),
                             "f002": (True, False)}
            assert (result.corrected, result.propagated, result.predicted) == (2, 1, 0)
            assert manifest["counts"]["propagated"] == 1
            assert np.array_equal(np.array(Image.open(out / "index" / "f001.png")),
                                  masks["f001"])
            assert "2 corrected, 1 propagated not accepted, 0 predicted" in \
                window.statusBar().currentMessage()
            assert "left out" not in window.statusBar().currentMessage()
        else:
            assert items == {"f000": (True, False), "f002": (True, False)}
            assert not (out / "index" / "f001.png").exists()
            assert "1 with propagated labels not accepted yet left out" in \
                window.statusBar().currentMessage()
        assert manifest["counts"]["files"] == result.written
        assert f"{result.written} files" in window.statusBar().currentMessage()


def test_with_predictions_the_header_counts_them_and_val_and_test_take_corrected_frames_only(
        qtbot, make_window, tmp_path):
    """A user's check: the header said "4 corrected frame(s) to export." with predictions
    ticked (23 went out), and 10 of the 11 val masks were the model's own predictions."""
    from tests.app.conftest import LABELS

    folder = tmp_path / "seq"
    folder.mkdir()
    labels = LabelsFolder.beside(folder / "x.png")
    rng = np.random.default_rng(3)
    for i in range(40):
        write_png(folder / f"f{i:03d}.png", scene_image(i))
        if i % 10 == 0:  # 0, 10, 20, 30: corrected, no two within a block of neighbours
            labels.save(f"f{i:03d}.png", rng.integers(0, 3, (H, W)).astype(np.uint8), LABELS)
    window = make_window()
    window.open_paths([folder])
    with qtbot.waitSignal(window.batchFinished, timeout=120000):
        window.segment_all()
    dialog = window.exporter.ask()
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert dialog.header.text() == "4 corrected frame(s) to export."
    QTest.mouseClick(dialog.predictions, Qt.MouseButton.LeftButton,
                     pos=QPoint(8, dialog.predictions.height() // 2))
    assert dialog.header.text() == ("4 corrected frame(s) to export, and 36 with the model's "
                                    "predictions.")
    for box, typed in zip(dialog.splits, ("0.5", "0.25", "0.25")):
        box.selectAll()
        QTest.keyClicks(box, typed)
    dialog.set_formats(["camvid"])
    dialog.folder.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(window.exporter.exportFinished, timeout=60000) as blocker:
        QTest.mouseClick(dialog.findChild(QDialogButtonBox).button(
            QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)  # Export
    result = blocker.args[0]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    held = {item["name"]: item["corrected"] for item in manifest["items"]
            if item.get("split") in ("val", "test")}
    assert len(held) == 2 and all(held.values())  # 1 val and 1 test, both corrected
    # the predictions within 5 frames of the val and test frames are set aside, not written
    aside = result.set_aside
    assert 10 <= aside <= 20 and result.split_counts == {"train": 38 - aside, "val": 1,
                                                         "test": 1}
    message = window.statusBar().currentMessage()
    assert f"(train {38 - aside}, val 1, test 1); val and test hold only corrections of a " \
           f"person's own" in message
    assert f"; {aside} other mask(s) beside val or test frames left out of the split " \
           "layouts" in message


def test_a_split_that_got_nothing_is_said_in_a_box_and_the_choices_come_back(
        qtbot, make_window, tmp_path):
    """A user's check read "no item in val or test" only in a status message cut short, and
    the next export dialog had forgotten the split and the predictions box."""
    from PySide6.QtWidgets import QMessageBox

    window = make_window(model=None)
    folder, _masks = corrected_folder(tmp_path, 3)  # three neighbours: one block
    window.open_paths([folder])
    dialog = window.exporter.ask()
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    for box, typed in zip(dialog.splits, ("0.5", "0.25", "0.25")):
        box.selectAll()
        QTest.keyClicks(box, typed)
    dialog.set_formats(["camvid", "coco"])
    dialog.min_area.selectAll()
    QTest.keyClicks(dialog.min_area, "12")
    dialog.folder.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(window.exporter.exportFinished, timeout=30000):
        QTest.mouseClick(dialog.findChild(QDialogButtonBox).button(
            QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)  # Export
    box = window.exporter.split_box
    assert box is not None and box.isVisible() and box.icon() == QMessageBox.Icon.Warning
    assert box.text() == "No frame went to val or test."
    assert "Exported: train 3." in box.informativeText()
    box.close()
    again = window.exporter.ask()
    qtbot.waitUntil(again.isVisible, timeout=5000)
    assert [round(b.value(), 2) for b in again.splits] == [0.5, 0.25, 0.25]
    assert again.min_area.value() == 12 and not again.predictions.isChecked()
    # the split is the layouts': index alone writes every frame and warns of nothing
    again.set_formats(["index"])
    again.folder.setText(str(tmp_path / "out2"))
    with qtbot.waitSignal(window.exporter.exportFinished, timeout=30000) as done:
        QTest.mouseClick(again.findChild(QDialogButtonBox).button(
            QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert done.args[0].exported == 3 and not done.args[0].empty_splits
    assert not window.exporter.split_box.isVisible()


def test_the_folder_offered_is_this_projects_last_export_never_anothers(
        qtbot, make_window, tmp_path):
    """A user's check: the export dialog offered the folder another project was exported to
    (a risk of writing one project's export into another's)."""
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    first, _ = corrected_folder(tmp_path / "first", 2)
    second, _ = corrected_folder(tmp_path / "second", 2)
    window = make_window(model=None)
    window.open_paths([first])
    assert window.exporter.ask().folder.text() == str(first / "export")  # never exported
    window.exporter.dialog.reject()
    assert run_dialog(qtbot, window, tmp_path / "first out", ["index"]) is not None
    window.close()
    window = make_window(model=None)  # the next session, another project
    window.open_paths([second])
    assert window.exporter.ask().folder.text() == str(second / "export")
    window.exporter.dialog.reject()
    window.close()
    window = make_window(model=None)  # back to the first
    window.open_paths([first])
    assert window.exporter.ask().folder.text() == str(tmp_path / "first out")
    window.exporter.dialog.reject()


def test_the_export_worker_names_the_mask_file_that_cannot_be_read(qtbot, tmp_path):
    from app.export.worker import ExportWorker
    from segnet_core.export import ExportItem
    from segnet_core.io.masks import read_mask

    broken = tmp_path / "labels" / "f000.png"
    broken.parent.mkdir()
    broken.write_bytes(b"not a png")
    label_set = camvid_label_set()
    item = ExportItem("f000", lambda: read_mask(broken, label_set),
                      image=np.zeros((H, W, 3), np.uint8), source=tmp_path / "f000.png")
    worker = ExportWorker()
    problems = []
    worker.problem.connect(lambda path, reason: problems.append((path, reason)))
    with qtbot.waitSignal(worker.finished, timeout=10000):
        worker.run([item], tmp_path / "out", ["index"], label_set, {})
    worker.shutdown()
    assert problems == [(broken, "f000: not exported: cannot be read as a mask: not an image "
                                 "file")]
