"""One truth for "corrected": a frame whose mask file is in its labels folder is corrected in
the frame list, in fine-tuning's frames and in export, also when the mask appears while the
window is open (written by another program here)."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from app.frames import FrameStatus
from segnet_core.masks.labels_folder import LabelsFolder

from tests.app.conftest import H, LABELS, W
from tests.app.editing_helpers import drag, key, labels, open_folder, show_row, wait_saved


def other_tool_writes(folder, stem: str, value: int) -> np.ndarray:
    """A plain 8-bit index PNG as another program writes it (OpenCV, not our writer)."""
    mask = np.full((H, W), value, np.uint8)
    mask[: H // 4] = 0
    folder.mkdir(exist_ok=True)
    assert cv2.imwrite(str(folder / f"{stem}.png"), mask)
    return mask


def counts(window) -> tuple[list, list, list]:
    """The corrected frames as the list, fine-tuning and export see them."""
    listed = window.frames.corrected()
    trained = [frame.frame for frame in window.training.corrected_frames()]
    return listed, trained, window.exporter.corrected_refs()


def test_masks_that_appear_while_open_are_corrected_everywhere(qtbot, make_window,
                                                               image_folder, tmp_path):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)  # no labels/ folder yet
    show_row(qtbot, window, 1)
    qtbot.waitUntil(lambda: labels(window) is not None, timeout=10000)
    assert not labels(window).started
    show_row(qtbot, window, 0)  # b.png was visited and holds void labels in memory
    key(window, Qt.Key.Key_2)
    drag(window, [(5, 5), (30, 20)])  # a.png: edits not saved yet
    assert window.frames.status(window.frames[0]) == FrameStatus.UNSAVED

    labels_dir = image_folder / "labels"
    written = {stem: other_tool_writes(labels_dir, stem, 1) for stem in ("b", "c")}
    qtbot.waitUntil(lambda: window.frames.status(window.frames[2]) == FrameStatus.CORRECTED,
                    timeout=5000)
    assert window.frames.status(window.frames[1]) == FrameStatus.CORRECTED
    assert window.frames.status(window.frames[3]) == FrameStatus.NOT_SEGMENTED
    listed, trained, exported = counts(window)
    assert listed == trained == exported == window.frames[:3]
    dialog = window.exporter.ask()
    assert "3 corrected" in " ".join(w.text() for w in dialog.findChildren(type(dialog.error)))
    dialog.reject()

    show_row(qtbot, window, 1)  # the visited frame now shows the file's mask
    qtbot.waitUntil(lambda: labels(window) is not None and labels(window).started,
                    timeout=10000)
    assert np.array_equal(labels(window).mask, written["b"])
    assert np.array_equal(window.display.document.shown_labels(), written["b"])

    out = tmp_path / "out"
    dialog = window.exporter.ask()
    dialog.set_formats(["index"])
    dialog.folder.setText(str(out))
    with qtbot.waitSignal(window.exporter.exportFinished, timeout=30000) as done:
        dialog.accept()
    assert done.args[0].corrected == 3
    for stem, mask in written.items():
        assert np.array_equal(np.asarray(Image.open(out / "index" / f"{stem}.png")), mask)


def test_the_frame_shown_follows_a_new_file_and_unsaved_edits_are_kept(
        qtbot, make_window, image_folder):
    labels_dir = image_folder / "labels"
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    qtbot.waitUntil(lambda: labels(window) is not None, timeout=10000)
    mask = other_tool_writes(labels_dir, "a", 2)  # the frame on screen, untouched
    qtbot.waitUntil(lambda: labels(window) is not None and labels(window).started,
                    timeout=5000)
    assert np.array_equal(labels(window).mask, mask)
    assert window.frames.status(window.current_key) == FrameStatus.CORRECTED

    drag(window, [(40, 40), (60, 50)])  # now it has unsaved edits
    edited = labels(window).mask.copy()
    other_tool_writes(labels_dir, "a", 1)
    qtbot.waitUntil(lambda: any("unsaved edits" in e for e in window.problems.entries()),
                    timeout=5000)
    assert np.array_equal(labels(window).mask, edited) and labels(window).dirty
    assert window.frames.status(window.current_key) == FrameStatus.UNSAVED


def test_our_own_saves_keep_the_undo_history(qtbot, make_window, image_folder):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    key(window, Qt.Key.Key_2)
    drag(window, [(5, 5), (30, 20)])
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    window.editing.corrections.rescan()  # as if the watcher had told
    assert labels(window).undo_stack.count() == 1 and labels(window).undo_stack.canUndo()
    assert window.frames.status(window.current_key) == FrameStatus.CORRECTED


def test_a_mask_missed_by_the_watcher_is_seen_when_the_frame_is_visited(
        qtbot, make_window, image_folder):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    show_row(qtbot, window, 2)
    qtbot.waitUntil(lambda: labels(window) is not None, timeout=10000)
    watcher = window.editing.corrections.watcher
    watcher.removePaths(watcher.directories())  # e.g. a network folder that never tells
    mask = other_tool_writes(image_folder / "labels", "c", 1)
    LabelsFolder(image_folder / "labels").write_label_set(LABELS)
    show_row(qtbot, window, 0)
    show_row(qtbot, window, 2)
    qtbot.waitUntil(lambda: window.frames.status(window.frames[2]) == FrameStatus.CORRECTED,
                    timeout=5000)
    qtbot.waitUntil(lambda: labels(window) is not None and labels(window).started,
                    timeout=10000)
    assert np.array_equal(labels(window).mask, mask)
