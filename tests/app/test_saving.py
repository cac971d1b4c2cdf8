"""Saving corrected labels: where and how they are written, autosave when leaving a frame and
on a timer, the question on close, recovery of autosaves, and edits over many frames."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt, QTimer

from app.editing.corrections import SETTLE_MS
from app.editing.saving import LOST_IF_CLOSED, STILL_WRITING, CloseAnswer
from app.frames import FrameStatus
from app.widgets.bulk_edit_dialog import BulkEditDialog, BulkKind, BulkRequest
from segnet_core.io.masks import read_mask, write_index_mask
from segnet_core.masks.labels_folder import AS_PREDICTED, LabelsFolder

from tests.app.conftest import H, LABELS, W
from tests.app.editing_helpers import (RESULT_TIMEOUT, crash, drag, key, labels, open_folder,
                                       show_row, wait_saved, when_modal)
from tests.app.test_video_and_canvas import write_video


def test_ctrl_s_writes_an_index_png_beside_the_images_and_reopening_gives_it_back(
        qtbot, make_window, image_folder):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    key(window, Qt.Key.Key_3)
    drag(window, [(10, 10), (50, 40)])
    mask = labels(window).mask.copy()
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not window.isWindowModified()  # marked clean as the copy goes to the writer
    wait_saved(window)
    path = image_folder / "labels" / "a.png"
    with Image.open(path) as image:
        assert image.mode == "P"
        values = np.asarray(image)
    assert np.array_equal(values, mask)  # the pixels are the class indices
    assert set(np.unique(values)) <= {0, 1, 2, 3}
    assert np.array_equal(read_mask(path, LABELS), mask)
    assert LabelsFolder(image_folder / "labels").read_label_set() == LABELS
    assert window.frames.status(window.current_key) == FrameStatus.CORRECTED
    window.close()

    again = make_window()
    with qtbot.waitSignal(again.display.overlayDrawn, timeout=RESULT_TIMEOUT):
        again.open_paths([image_folder])
    assert again.frames.status(again.frames[0]) == FrameStatus.CORRECTED
    assert again.frames.status(again.frames[1]) == FrameStatus.NOT_SEGMENTED
    qtbot.waitUntil(lambda: labels(again) is not None, timeout=10000)
    assert np.array_equal(labels(again).mask, mask) and labels(again).started
    assert not labels(again).dirty
    assert np.array_equal(again.display.document.shown_labels(), mask)  # shown = saved


def test_leaving_a_frame_saves_it_and_switching_back_keeps_its_undo_history(
        qtbot, make_window, image_folder):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    key(window, Qt.Key.Key_2)
    drag(window, [(5, 5), (30, 30)])
    first = labels(window)
    painted = first.mask.copy()
    show_row(qtbot, window, 1)
    wait_saved(window)
    saved = image_folder / "labels" / "a.png"
    assert np.array_equal(read_mask(saved, window.display.label_set), painted)
    assert window.frames.status(window.frames[0]) == FrameStatus.CORRECTED
    assert not window.isWindowModified()
    assert labels(window) is not first
    show_row(qtbot, window, 0)
    assert labels(window) is first and first.undo_stack.count() == 1
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert first.dirty and window.isWindowModified()  # undone to no mask: its saved one
    assert window.frames.status(window.frames[0]) == FrameStatus.NOT_SEGMENTED  # goes


def test_with_autosave_off_leaving_keeps_the_frame_unsaved(qtbot, make_window, image_folder):
    window = make_window(model=None)
    window.editing.actions.autosave.setChecked(False)
    assert window.settings.autosave is False
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5)])
    show_row(qtbot, window, 1)
    wait_saved(window)
    assert not (image_folder / "labels" / "a.png").exists()
    assert window.frames.status(window.frames[0]) == FrameStatus.UNSAVED
    assert window.isWindowModified()
    window.editing.actions.autosave.setChecked(True)


def test_closing_with_unsaved_work_asks_and_does_what_the_answer_says(
        qtbot, make_window, image_folder):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5), (20, 5)])
    painted = labels(window).mask.copy()
    asked = []
    window.editing.saving.ask_unsaved = lambda count: asked.append(count) or CloseAnswer.CANCEL
    assert not window.close()
    assert asked == [1] and window.isVisible()

    window.editing.saving.ask_unsaved = lambda count: asked.append(count) or CloseAnswer.SAVE
    assert window.close()
    assert asked == [1, 1]
    assert np.array_equal(read_mask(image_folder / "labels" / "a.png",
                                    window.display.label_set), painted)


@pytest.fixture
def hung_disk(monkeypatch):
    """Mask, autosave and list writes block until `.set()` (a network share that stopped
    answering); closing waits 0.3 s for them before it asks. Set again at the end, so the
    writer thread finishes."""
    from app.editing import saving
    from app.workers import task
    from segnet_core.masks import labels_folder

    back = threading.Event()
    write = labels_folder.write_index_mask

    def blocked(*args, **kwargs):
        back.wait()
        return write(*args, **kwargs)

    def names_blocked(*args, **kwargs):
        back.wait()
        return write_names(*args, **kwargs)

    write_names = labels_folder.LabelsFolder.write_names
    monkeypatch.setattr(labels_folder, "write_index_mask", blocked)
    monkeypatch.setattr(labels_folder.LabelsFolder, "write_names", names_blocked)
    monkeypatch.setattr(saving, "CLOSE_WAIT_S", 0.3)
    monkeypatch.setattr(task, "_left_running", [])
    yield back
    back.set()


def test_closing_while_a_save_hangs_names_it_and_cancel_keeps_the_window_and_the_edits(
        qtbot, make_window, image_folder, hung_disk):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5), (20, 5)])
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # held by the disk
    drag(window, [(5, 15), (20, 15)])  # and edited on
    painted = labels(window).mask.copy()
    asked = []
    window.editing.saving.ask_unsaved = lambda count, failed=(): asked.append(
        (count, list(failed))) or CloseAnswer.CANCEL
    assert not window.close()  # kept open, the edit unsaved, and said why
    assert window.isVisible() and labels(window).dirty
    # asked about the save on its way, naming its file, before the unsaved frame
    assert asked == [(0, [(image_folder / "labels" / "a.png", STILL_WRITING),
                          (image_folder / "labels" / "a.png", LOST_IF_CLOSED)])]
    assert not (image_folder / "labels" / "a.png").exists()
    hung_disk.set()  # the disk is back
    window.editing.saving.ask_unsaved = lambda count, failed=(): asked.append(
        (count, list(failed))) or CloseAnswer.SAVE
    assert window.close()
    assert asked[1:] == [(1, [])]  # only the unsaved frame now
    assert np.array_equal(read_mask(image_folder / "labels" / "a.png",
                                    window.display.label_set), painted)


def test_closing_anyway_while_a_save_hangs_leaves_it_behind_and_asks_nothing_more(
        qtbot, make_window, image_folder, hung_disk):
    """A review: a save a hung disk held froze the close for 90 s (three waits of 30 s),
    then Qt aborted the process as the writer's thread object went."""
    from app.workers.task import left_running

    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5), (20, 5)])
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    drag(window, [(5, 15), (20, 15)])
    asked = []
    window.editing.saving.ask_unsaved = lambda count, failed=(): asked.append(
        (count, list(failed))) or CloseAnswer.DISCARD
    waits = []
    writer = window.editing.store.writer
    wait_idle = writer.wait_idle
    writer.wait_idle = lambda timeout_s=30.0: waits.append(timeout_s) or wait_idle(timeout_s)
    key(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)  # a flag: its list hangs
    assert window.close()
    # asked once, naming the save on its way and the edits it loses; the flags' list, hung
    # too, is left unasked (a review: each list asked again after 10 s more)
    assert asked == [(0, [(image_folder / "labels" / "a.png", STILL_WRITING),
                          (image_folder / "labels" / "a.png", LOST_IF_CLOSED)])]
    # no other wait for it: not the flags', the propagation's, nor the shutdown's
    assert waits[0] == 0.3 and not any(waits[1:])
    assert left_running() == ["mask writer"]  # the process ends without it (`run`)


def test_closing_without_a_save_that_failed_keeps_the_latest_edits_for_the_next_session(
        qtbot, make_window, image_folder, monkeypatch):
    """A review: "close without it" after a failed save kept the autosave as the timer last
    wrote it, up to 30 s older than the edits."""
    import app.editing.store as store_module

    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5), (25, 5)])
    assert window.editing.store.autosave() == 1  # the timer's last autosave
    wait_saved(window)
    drag(window, [(5, 30), (25, 30)])  # then more edits
    edited = labels(window).mask.copy()
    monkeypatch.setattr(store_module, "run_job",
                        lambda job: (_ for _ in ()).throw(OSError(28, "No space left")))
    answers = iter([CloseAnswer.SAVE, CloseAnswer.DISCARD])  # Save, then "close without it"
    window.editing.saving.ask_unsaved = lambda count, failed=(): next(answers)
    assert window.close()
    assert not (image_folder / "labels" / "a.png").exists()
    folder = LabelsFolder(image_folder / "labels")
    assert np.array_equal(folder.read_autosave("a.png", window.display.label_set), edited)
    second, offered = offered_back(qtbot, make_window, image_folder)
    assert offered == [second.frames[0]]


def test_an_autosave_that_failed_is_tried_again_at_the_next_autosave(
        qtbot, make_window, image_folder, monkeypatch):
    """A review: a failed autosave counted as written, so it was not tried again until the
    next edit, and a crash meanwhile lost the edits."""
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5), (25, 5)])
    edited = labels(window).mask.copy()
    autosave, calls = LabelsFolder.autosave, []

    def once_failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return autosave(self, *args, **kwargs)

    monkeypatch.setattr(LabelsFolder, "autosave", once_failing)
    store = window.editing.store
    assert store.autosave() == 1
    wait_saved(window)
    assert not LabelsFolder(image_folder / "labels").autosave_path("a.png").exists()
    assert store.autosave() == 1  # tried again, though nothing changed since
    wait_saved(window)
    folder = LabelsFolder(image_folder / "labels")
    assert np.array_equal(folder.read_autosave("a.png", window.display.label_set), edited)


def test_discarding_on_close_leaves_no_file_and_no_autosave(qtbot, make_window, image_folder):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5)])
    assert window.editing.store.autosave() == 1  # what the timer does every N seconds
    wait_saved(window)
    folder = LabelsFolder(image_folder / "labels")
    assert folder.autosave_path("a.png").is_file()
    window.editing.saving.ask_unsaved = lambda count: CloseAnswer.DISCARD
    assert window.close()
    assert not folder.autosave_path("a.png").exists() and not folder.mask_path("a.png").exists()


def test_edits_undone_after_their_autosave_are_not_offered_back_after_a_close(
        qtbot, make_window, image_folder):
    """Edits autosaved, then undone: on a frame without a mask and on one with a saved mask
    (clean again), and on one saved this session and undone to nothing (closing saves it:
    its mask goes). Their autosaves go with the close, not only at the next timer tick, and
    the next window offers nothing back."""
    window = make_window(model=None)
    window.editing.actions.autosave.setChecked(False)  # leaving a frame keeps it unsaved
    open_folder(qtbot, window, image_folder, model=False)
    show_row(qtbot, window, 1)
    drag(window, [(5, 5), (25, 5)])
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # b has a saved mask
    show_row(qtbot, window, 2)
    drag(window, [(5, 5), (25, 5)])
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # so has c, saved now
    undos = {0: 1, 1: 1, 2: 2}  # c: back past its save, to no mask
    for row in undos:
        show_row(qtbot, window, row)
        drag(window, [(40, 20), (60, 20)])
    store = window.editing.store
    assert store.autosave() == 3  # what the timer does every N seconds
    wait_saved(window)
    folder = LabelsFolder(image_folder / "labels")
    assert all(folder.autosave_path(f"{name}.png").is_file() for name in "abc")
    for row, count in undos.items():
        show_row(qtbot, window, row)
        for _ in range(count):
            key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [labels.key.name for labels in store.dirty()] == ["c.png"]
    assert store.get(window.frames[2]).undone_to_nothing
    asked = []
    window.editing.saving.ask_unsaved = lambda count: asked.append(count) or CloseAnswer.SAVE
    assert window.close()
    assert asked == [1]
    assert not any(folder.autosave_path(f"{name}.png").exists() for name in "abc")
    assert folder.mask_path("b.png").is_file()
    assert not folder.mask_path("a.png").exists() and not folder.mask_path("c.png").exists()

    assert_offered_nothing(qtbot, make_window(model=None), image_folder)


def assert_offered_nothing(qtbot, window, folder) -> None:
    """`window` opens `folder` and offers no autosave back."""
    offers = []
    window.editing.saving.recoveryOffered.connect(offers.append)
    open_folder(qtbot, window, folder, model=False)
    qtbot.wait(200)
    assert offers == [] and not window.editing.saving.recovery_bar.isVisible()


def offered_back(qtbot, make_window, folder):
    """A new window (the next session) on `folder`, and the frames whose autosaves it offers
    back."""
    second = make_window(model=None)
    with qtbot.waitSignal(second.editing.saving.recoveryOffered, timeout=5000) as offered:
        second.open_paths([folder])
    return second, offered.args[0]


def test_another_windows_autosaves_are_not_offered_back_while_it_works(
        qtbot, make_window, image_folder):
    """A second window on the folder took the first one's autosaves for a crash's and
    offered them back: discarding them there deleted the only copy of its unsaved edits.
    Once that session is gone, they are offered."""
    working = make_window(model=None)
    open_folder(qtbot, working, image_folder, model=False)
    drag(working, [(5, 5), (25, 5)])
    assert working.editing.store.autosave() == 1
    wait_saved(working)
    live = working.context.live
    qtbot.waitUntil(lambda: live.mark_path(image_folder / "labels").is_file(), timeout=10000)
    looking = make_window(model=None)
    assert_offered_nothing(qtbot, looking, image_folder)
    lines = [looking.problems.list.item(row).text()
             for row in range(looking.problems.list.count())]
    assert any(line.startswith("labels: open in another SegNet Studio window (process "
                               f"{os.getpid()}") for line in lines), lines
    assert looking.problems.isVisible()
    looking.close()
    crash(working)
    second, offered = offered_back(qtbot, make_window, image_folder)
    assert offered == [second.frames[0]]


def test_a_windows_first_autosave_in_a_folder_is_marked_before_it_lands(
        qtbot, make_window, image_folder):
    """A review: the first autosave made `labels/`, and the window's mark followed up to
    2 s later; a window opened meanwhile offered that autosave back."""
    working = make_window(model=None)
    open_folder(qtbot, working, image_folder, model=False)
    assert not (image_folder / "labels").exists()  # opening made nothing
    drag(working, [(5, 5), (25, 5)])
    assert working.editing.store.autosave() == 1
    wait_saved(working)
    assert working.context.live.mark_path(image_folder / "labels").is_file()
    assert_offered_nothing(qtbot, make_window(model=None), image_folder)


def crash_leaving_an_autosave(qtbot, make_window, folder) -> None:
    """A session edits the first frame of `folder`, autosaves it, and crashes."""
    crashed = make_window(model=None)
    open_folder(qtbot, crashed, folder, model=False)
    drag(crashed, [(5, 5), (25, 5)])
    assert crashed.editing.store.autosave() == 1
    wait_saved(crashed)
    crash(crashed)


@pytest.mark.parametrize("button", ["discard", "restore"])
def test_an_offer_answered_after_another_window_began_there_leaves_its_autosaves(
        qtbot, make_window, image_folder, button):
    """A review: window A offered a crashed session's autosave back; window B, opened
    after (offered nothing: A works there), edited that frame and autosaved it; Discard in
    A then deleted B's only copy of its edits (Restore took them for A's)."""
    crash_leaving_an_autosave(qtbot, make_window, image_folder)
    first, offered = offered_back(qtbot, make_window, image_folder)
    assert offered == [first.frames[0]]
    labels_folder = image_folder / "labels"
    qtbot.waitUntil(lambda: first.context.live.mark_path(labels_folder).is_file(),
                    timeout=10000)
    second = make_window(model=None)
    assert_offered_nothing(qtbot, second, image_folder)
    drag(second, [(5, 30), (25, 30)])  # its own edit of a.png, autosaved
    assert second.editing.store.autosave() == 1
    wait_saved(second)
    autosave = LabelsFolder(labels_folder).autosave_path("a.png")
    written = autosave.read_bytes()
    bar = first.editing.saving.recovery_bar
    qtbot.mouseClick(getattr(bar, f"{button}_button"), Qt.MouseButton.LeftButton)
    wait_saved(first)
    assert autosave.read_bytes() == written
    assert not first.editing.store.dirty() and not bar.isVisible()
    assert first.statusBar().currentMessage().startswith(
        "1 autosave(s) left as they are: another SegNet Studio window (process ")


def test_restore_says_which_autosaves_it_left_to_another_window(
        qtbot, make_window, image_folder, tmp_path):
    """A review: Restore with one of two folders taken by another window meanwhile said
    only "Restored ... 1 frame(s)": the note of the autosave left was replaced at once."""
    import shutil

    from segnet_core.masks.live_sessions import LiveSessions

    other = tmp_path / "other"
    shutil.copytree(image_folder, other)
    for folder in (image_folder, other):
        crash_leaving_an_autosave(qtbot, make_window, folder)
    window = make_window(model=None)
    with qtbot.waitSignal(window.editing.saving.recoveryOffered, timeout=5000):
        window.open_paths([image_folder, other])
    qtbot.waitUntil(lambda: len(window.editing.saving._recoveries) == 2, timeout=5000)
    elsewhere = LiveSessions()  # another window begins in the second folder
    elsewhere.claim(other / "labels")
    try:
        qtbot.mouseClick(window.editing.saving.recovery_bar.restore_button,
                         Qt.MouseButton.LeftButton)
        said = window.statusBar().currentMessage()
        assert said.startswith("Restored the autosaved edits of 1 frame(s)"), said
        assert ". 1 autosave(s) left as they are: another SegNet Studio window" in said
    finally:
        elsewhere.close()


def test_autosave_timer_writes_only_changed_frames_and_start_offers_them_back(
        qtbot, make_window, image_folder):
    window = make_window(model=None)
    assert window.editing.saving.autosave_timer.isActive()
    assert window.editing.saving.autosave_timer.interval() == 30000
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5), (25, 5)])
    edited = labels(window).mask.copy()
    store = window.editing.store
    assert store.autosave() == 1
    assert store.autosave() == 0  # nothing changed since
    wait_saved(window)
    folder = LabelsFolder(image_folder / "labels")
    assert np.array_equal(folder.read_autosave("a.png", window.display.label_set), edited)
    crash(window)

    second, offered = offered_back(qtbot, make_window, image_folder)
    assert offered == [second.frames[0]]
    assert second.editing.saving.recovery_bar.isVisible()
    qtbot.waitUntil(lambda: labels(second) is not None, timeout=10000)
    assert (labels(second).mask == second.display.label_set.void_index).all()
    second.editing.saving.recovery_bar.restore_button.click()
    assert not second.editing.saving.recovery_bar.isVisible()
    assert np.array_equal(labels(second).mask, edited)
    assert labels(second).dirty and second.isWindowModified()
    assert second.frames.status(second.frames[0]) == FrameStatus.UNSAVED
    assert np.array_equal(second.display.document.shown_labels(), edited)
    labels(second).undo_stack.undo()  # restoring is an edit like any other
    assert (labels(second).mask == second.display.label_set.void_index).all()


def test_a_clean_quit_leaves_no_empty_hidden_folder_and_a_crash_keeps_its_autosaves(
        qtbot, make_window, image_folder):
    """A user's check: every labels folder kept an empty `.live/` and `.autosave/` after a
    clean quit."""
    labels_root = image_folder / "labels"
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5), (25, 5)])
    assert window.editing.store.autosave() == 1
    wait_saved(window)
    assert sorted(p.name for p in labels_root.iterdir()) == [".autosave", ".live"]
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    window.close()
    assert sorted(p.name for p in labels_root.iterdir()) == ["a.png", "label_colors.txt"]

    again = make_window(model=None)
    open_folder(qtbot, again, image_folder, model=False)
    show_row(qtbot, again, 1)
    drag(again, [(5, 5), (25, 5)])
    again.end_for_system("SIGTERM")  # its edits wait in their autosave for the next start
    qtbot.waitUntil(lambda: not again.isVisible(), timeout=10000)
    assert [p.name for p in (labels_root / ".autosave").iterdir()] == ["b.png"]
    assert not (labels_root / ".live").exists()


@pytest.mark.parametrize("asking", [False, True])
def test_sigterm_closes_asking_nothing_and_the_next_session_offers_the_edits_back(
        qtbot, make_window, image_folder, asking):
    """A user's check: `kill -TERM` ended the program at once, and the edits of the last
    30 seconds (no autosave yet) were lost. Also with the close question open."""
    import signal

    from app.end_signals import end_on_signals

    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5), (25, 5)])
    edited = labels(window).mask.copy()
    asked = []

    def when_asked(box) -> None:
        asked.append(box.windowTitle())
        os.kill(os.getpid(), signal.SIGTERM)

    restore = end_on_signals(window, window.end_for_system)
    try:
        if asking:  # the real close question, open when the signal comes
            window.editing.saving.ask_unsaved = window.editing.saving._ask_unsaved
            when_modal(when_asked)
            assert not window.close()  # answered Cancel for the signal's close to come
        else:
            os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10000)
    finally:
        restore()
    assert asked == (["Unsaved labels"] if asking else [])
    assert not (image_folder / "labels" / "a.png").exists()  # nobody said Save
    folder = LabelsFolder(image_folder / "labels")
    assert np.array_equal(folder.read_autosave("a.png", window.display.label_set), edited)
    second, offered = offered_back(qtbot, make_window, image_folder)
    assert offered == [second.frames[0]]


def test_sigterm_during_a_close_that_is_asking_wins_and_keeps_the_edits(
        qtbot, make_window, image_folder):
    """A review: a signal handled inside the close's own wait (a propagation stopping) was
    lost, and the close went on to ask, the window staying open."""
    import signal

    from PySide6.QtCore import QEventLoop

    from app.end_signals import end_on_signals

    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5), (25, 5)])
    edited = labels(window).mask.copy()
    stop = window.propagation.stop

    def stopping() -> None:  # the close waits for a propagation, and the signal comes
        loop = QEventLoop()
        QTimer.singleShot(0, lambda: os.kill(os.getpid(), signal.SIGTERM))
        QTimer.singleShot(300, loop.quit)
        loop.exec()
        stop()

    window.propagation.stop = stopping
    restore = end_on_signals(window, window.end_for_system)
    try:
        assert not window.close()  # the user's close gives way to the signal's
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10000)
    finally:
        restore()
    folder = LabelsFolder(image_folder / "labels")
    assert np.array_equal(folder.read_autosave("a.png", window.display.label_set), edited)


def test_ctrl_s_twice_before_the_write_is_done_still_says_saved(qtbot, make_window,
                                                                 image_folder):
    """A review: the second Ctrl+S (labels clean, the write on its way) dropped the first's
    "Saved" and said "Labels already saved"."""
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5), (25, 5)])
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    path = image_folder / "labels" / "a.png"
    assert window.statusBar().currentMessage() == f"Saving {path}..."
    wait_saved(window)
    assert window.statusBar().currentMessage() == f"Saved {path}"


def test_an_autosave_older_than_the_saved_mask_is_not_offered(qtbot, make_window,
                                                              image_folder):
    folder = LabelsFolder(image_folder / "labels")
    void = np.full((H, W), LABELS.void_index, np.uint8)
    folder.autosave("b.png", void, LABELS)
    folder.save("a.png", void, LABELS)
    folder.autosave("a.png", void, LABELS)
    past = os.stat(folder.autosave_path("a.png")).st_mtime_ns - 10**9
    os.utime(folder.autosave_path("a.png"), ns=(past, past))
    window = make_window(model=None)
    offers = []
    window.editing.saving.recoveryOffered.connect(offers.append)
    window.open_paths([image_folder])
    assert [[ref.path.name for ref in offer] for offer in offers] == [["b.png"]]
    window.editing.saving.recovery_bar.discard_button.click()
    wait_saved(window)
    assert not folder.autosave_path("b.png").exists()


def test_a_mask_file_that_cannot_be_read_is_reported_and_never_overwritten(
        qtbot, make_window, image_folder):
    broken = image_folder / "labels" / "a.png"
    broken.parent.mkdir()
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not a mask")
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    assert any("a.png" in entry for entry in window.problems.entries())
    assert labels(window).locked
    drag(window, [(5, 5), (20, 20)])
    assert labels(window).undo_stack.count() == 0
    assert "Not editable" in window.statusBar().currentMessage()
    show_row(qtbot, window, 1)
    wait_saved(window)
    assert broken.read_bytes() == b"\x89PNG\r\n\x1a\n not a mask"


def test_video_frames_are_saved_by_stem_and_frame_number(qtbot, make_window, tmp_path):
    video = write_video(tmp_path / "clip.avi")
    window = make_window(model=None)
    window.open_paths([video])
    qtbot.waitUntil(lambda: labels(window) is not None, timeout=10000)
    show_row(qtbot, window, 2)
    qtbot.waitUntil(lambda: labels(window) is not None and labels(window).key.index == 2,
                    timeout=10000)
    window.activateWindow()
    drag(window, [(5, 5)])
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    assert sorted(p.name for p in (tmp_path / "labels").glob("*.png")) == ["clip_000002.png"]
    assert window.statusBar().currentMessage() == (  # the frame named as the window counts
        f"Saved clip.avi · frame 3 as {tmp_path / 'labels' / 'clip_000002.png'}")


def test_a_video_whose_mask_names_are_too_long_shows_its_frames_and_says_why_not_saved(
        qtbot, make_window, tmp_path):
    """A tester's check: a video of a 248-character stem (a valid name) has frames whose mask
    names (stem + `_000014.png`) no file can have; looking for the saved mask crashed the
    frame loader, and its frames stayed "not segmented" with nothing in the Problems panel."""
    video = write_video(tmp_path / ("L" * 248 + ".avi"))
    (tmp_path / "labels").mkdir()  # as beside images labelled before (else: no such folder)
    window = make_window(model=None)
    window.open_paths([video])
    show_row(qtbot, window, 2)
    qtbot.waitUntil(lambda: labels(window) is not None and labels(window).key.index == 2,
                    timeout=10000)
    assert not labels(window).locked
    window.activateWindow()
    drag(window, [(5, 5)])
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    assert labels(window).dirty
    mask = tmp_path / "labels" / ("L" * 248 + "_000002.png")
    said = window.statusBar().currentMessage()
    assert said.startswith(f"{mask} not saved: [Errno 36] its name is too long for the file "
                           "system (259 bytes, at most 255)")
    assert any(f"{mask.name}: not saved" in e for e in window.problems.entries())
    assert [p.name for p in (tmp_path / "labels").glob("*.png")] == []


def test_keep_confident_and_replace_class_over_a_range_of_frames(qtbot, make_window,
                                                                 image_folder):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    with qtbot.waitSignal(window.batchFinished, timeout=RESULT_TIMEOUT):
        window.segment_all()
    predictions = [window.cache.get(ref) for ref in window.frames]
    threshold = float(np.median(predictions[1].confidence))
    report = window.editing.run_bulk(BulkRequest(BulkKind.KEEP, 0, 2, threshold=threshold))
    assert report.changed == list(window.frames)[:3]
    for row in range(3):
        labels_ = window.editing.store.get(window.frames[row])
        p = predictions[row]
        assert np.array_equal(labels_.mask, np.where(p.confidence > threshold, p.labels, 3))
        assert labels_.undo_stack.count() == 1
    wait_saved(window)  # the frames not on screen were saved (autosave on)
    saved = sorted(p.name for p in (image_folder / "labels").glob("*.png"))
    assert saved == ["b.png", "c.png"]
    assert window.frames.status(window.frames[0]) == FrameStatus.UNSAVED
    assert window.frames.status(window.frames[3]) == FrameStatus.SEGMENTED

    before = labels(window).mask.copy()
    common = int(np.bincount(before[before < 3]).argmax())
    report = window.editing.run_bulk(BulkRequest(BulkKind.REPLACE, 0, 0, a=common, b=3))
    assert report.changed == [window.frames[0]]
    assert np.array_equal(labels(window).mask, np.where(before == common, 3, before))
    d = window.frames[3]  # not started: the replacement starts from its prediction
    window.editing.run_bulk(BulkRequest(BulkKind.REPLACE, 3, 3, a=0, b=1))
    expected = np.where(predictions[3].labels == 0, 1, predictions[3].labels)
    assert np.array_equal(window.editing.store.get(d).mask, expected)


def replace_class_in(window, a: int, b: int, first: int, last: int) -> None:
    """Edit > Replace class... : class `a` by `b` in frames `first` to `last` (from 1), typed
    into the dialog and Ok clicked."""
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QDialogButtonBox

    names = window.display.label_set.names

    def answer(dialog) -> None:
        dialog.class_a.setFocus()
        QTest.keyClicks(dialog.class_a, names[a])
        QTest.keyClicks(dialog.class_b, names[b])
        for spin, value in ((dialog.first, str(first)), (dialog.last, str(last))):
            spin.selectAll()
            QTest.keyClicks(spin, value)
        assert dialog.range.isChecked() and dialog.request().a == a
        QTest.mouseClick(dialog.findChild(QDialogButtonBox).button(
            QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)

    when_modal(answer, BulkEditDialog)
    window.editing.actions.replace_class.trigger()  # Edit > Replace class...
    wait_saved(window)


def test_replace_class_says_which_frames_it_skipped_as_not_segmented(qtbot, make_window,
                                                                       image_folder):
    """A user's check took the frames Replace class skipped, never segmented, for done: the
    message counts them apart and says how to include them."""
    window = make_window()
    open_folder(qtbot, window, image_folder)  # a.png alone is segmented (shown)
    common = int(np.bincount(window.cache.get(window.frames[0]).labels.ravel()).argmax())
    replace_class_in(window, common, (common + 1) % LABELS.num_classes, 1, 3)
    assert window.statusBar().currentMessage() == (
        "Changed 1 frame(s), 2 skipped: not segmented yet (Segment all, Ctrl+Shift+A, first "
        "to include them)")
    assert [ref.path.name for ref in window.frames
            if window.frames.status(ref) == FrameStatus.NOT_SEGMENTED] == ["b.png", "c.png",
                                                                          "d.png"]
    (image_folder / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n broken since")  # a review:
    window.show_row(2)  # a frame that cannot be read is not "not segmented yet"
    qtbot.waitUntil(lambda: window.frames.unreadable(window.frames[2]), timeout=10000)
    show_row(qtbot, window, 0)
    replace_class_in(window, common, (common + 1) % LABELS.num_classes, 1, 3)
    assert window.statusBar().currentMessage().endswith(
        ", 1 skipped: not segmented yet (Segment all, Ctrl+Shift+A, first to include them), "
        "1 skipped: not editable")


def paint_a_border(window) -> None:
    """A real correction: a wide border of class 1 (key 2) around the frame."""
    key(window, Qt.Key.Key_2)
    drag(window, [(0, y) for y in range(0, H, 2)] + [(W - 1, y) for y in range(H - 1, 0, -2)])
    drag(window, [(x, 0) for x in range(0, W, 3)] + [(x, H - 1) for x in range(W - 1, 0, -3)])


def segmented_folder(qtbot, make_window, image_folder):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    with qtbot.waitSignal(window.batchFinished, timeout=RESULT_TIMEOUT):
        window.segment_all()
    return window


def most_common(window, row: int) -> int:
    return int(np.bincount(window.cache.get(window.frames[row]).labels.ravel()).argmax())


def test_a_class_replaced_over_frames_nobody_labelled_is_the_models_guess_not_evidence(
        qtbot, make_window, image_folder):
    """A user's check: Replace class over frames 9 to 12 saved frames never opened, which
    then said "model 98 % right" and moved every other estimate up. Their labels are the
    model's prediction with a class renamed: listed as saved as predicted, until a real
    correction. A second rename keeps them so (a review found it made them evidence)."""
    from app.editing.store import location

    window = segmented_folder(qtbot, make_window, image_folder)
    common = most_common(window, 1)
    classes = window.display.label_set.num_classes
    replace_class_in(window, common, (common + 1) % classes, 2, 4)
    changed = [ref for ref in window.frames[1:] if window.editing.store.get(ref) is not None
               and window.editing.store.get(ref).started]
    assert changed  # the class was there: frames changed and saved
    assert all(window.as_predicted.is_listed(ref) for ref in changed)
    qtbot.waitUntil(lambda: LabelsFolder(image_folder / "labels").read_names(AS_PREDICTED)
                    == {location(ref)[1] for ref in changed}, timeout=10000)  # written too
    replace_class_in(window, (common + 1) % classes, (common + 2) % classes, 2, 4)
    assert all(window.as_predicted.is_listed(ref) for ref in changed)

    # a real correction of one of them is evidence again
    show_row(qtbot, window, window.frames.row_of(changed[0]))
    paint_a_border(window)
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    assert not window.as_predicted.is_listed(changed[0])


def test_a_class_replaced_in_the_frame_shown_is_a_correction(qtbot, make_window, image_folder):
    """The frame on screen is seen changed: a considered correction, as before."""
    window = segmented_folder(qtbot, make_window, image_folder)
    common = most_common(window, 0)
    replace_class_in(window, common, (common + 1) % window.display.label_set.num_classes, 1, 1)
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    assert labels(window).started and not window.as_predicted.is_listed(window.frames[0])


def test_a_correction_over_a_renamed_guess_stays_a_correction_after_a_crash(
        qtbot, make_window, image_folder):
    """A review: the autosave of a real correction made over a class renamed on an unseen
    frame said "model's guess", so restored after a crash and saved it was listed as
    predicted (no evidence)."""
    window = segmented_folder(qtbot, make_window, image_folder)
    window.editing.actions.autosave.setChecked(False)  # the frames stay unsaved
    common = most_common(window, 2)
    replace_class_in(window, common, (common + 1) % window.display.label_set.num_classes, 3, 3)
    show_row(qtbot, window, 2)
    paint_a_border(window)
    corrected = labels(window).mask.copy()
    assert window.editing.store.autosave() >= 1
    wait_saved(window)
    crash(window)

    second = make_window()
    with qtbot.waitSignal(second.editing.saving.recoveryOffered, timeout=RESULT_TIMEOUT):
        open_folder(qtbot, second, image_folder)
    second.editing.saving.recovery_bar.restore_button.click()
    show_row(qtbot, second, 2)
    assert np.array_equal(labels(second).mask, corrected)
    key(second, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(second)
    assert not second.as_predicted.is_listed(second.frames[2])


def test_the_bulk_dialog_turns_its_fields_into_a_request(qtbot):
    dialog = BulkEditDialog(BulkKind.KEEP, LABELS, frame_count=10, current_row=4)
    qtbot.addWidget(dialog)
    dialog.threshold.setValue(0.75)
    assert dialog.request() == BulkRequest(BulkKind.KEEP, 4, 4, threshold=0.75)
    dialog.last.setValue(2)  # choosing frames picks the range, in either order
    assert dialog.request() == BulkRequest(BulkKind.KEEP, 1, 4, threshold=0.75)
    replace = BulkEditDialog(BulkKind.REPLACE, LABELS, frame_count=10, current_row=0)
    qtbot.addWidget(replace)
    replace.class_a.setCurrentIndex(2)
    replace.class_b.setCurrentIndex(3)  # void
    assert replace.request() == BulkRequest(BulkKind.REPLACE, 0, 0, a=2, b=LABELS.void_index)


def test_a_failed_save_keeps_the_frame_unsaved_and_says_why(qtbot, make_window, image_folder,
                                                            monkeypatch):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    drag(window, [(5, 5)])

    def disk_full(self, name, mask, label_set):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(LabelsFolder, "save", disk_full)
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    assert labels(window).dirty and window.isWindowModified()
    assert window.frames.status(window.current_key) == FrameStatus.UNSAVED
    assert any("a.png: not saved" in e and "No space" in e for e in window.problems.entries())
    mask = image_folder / "labels" / "a.png"
    # said once the write failed, not "Saved" as it was queued (a user's check)
    assert window.statusBar().currentMessage() == (
        f"{mask} not saved: [Errno 28] No space left on device (View > Problems)")
    monkeypatch.undo()
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    assert not labels(window).dirty
    assert window.frames.status(window.current_key) == FrameStatus.CORRECTED
    assert window.statusBar().currentMessage() == f"Saved {mask}"
    # a save on closing that fails is asked about, naming the file; Retry once it can
    drag(window, [(30, 30)])
    monkeypatch.setattr(LabelsFolder, "save", disk_full)
    asked = []

    def answer(count, failed=()):
        asked.append((count, list(failed)))
        if failed:
            monkeypatch.undo()  # space made
            return CloseAnswer.SAVE  # Retry
        return CloseAnswer.SAVE

    window.editing.saving.ask_unsaved = answer
    painted = labels(window).mask.copy()
    assert window.close()
    assert [count for count, _failed in asked] == [1, 0]
    assert asked[1][1] == [(mask, "[Errno 28] No space left on device")]
    assert np.array_equal(read_mask(mask, window.display.label_set), painted)


def test_undoing_every_edit_after_a_save_removes_the_mask_instead_of_saving_void(
        qtbot, make_window, image_folder):
    """A frame opened without a mask, edited, saved, then undone to before its first edit is
    back to the model's prediction: saving it (Ctrl+S, or leaving it) removes the mask this
    session wrote, never writes an all-void one, and the frame counts as segmented again."""
    window = make_window()
    open_folder(qtbot, window, image_folder)
    prediction = window.display.document.prediction.labels.copy()
    path = image_folder / "labels" / "a.png"
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Accept prediction
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    assert path.is_file() and window.frames.status(window.frames[0]) == FrameStatus.CORRECTED

    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert labels(window).dirty and not labels(window).started
    assert np.array_equal(window.display.document.shown_labels(), prediction)  # not void
    # until saved, its mask (what was undone) counts as a correction nowhere
    assert window.frames.status(window.frames[0]) == FrameStatus.SEGMENTED
    assert window.frames[0] not in window.frames.corrected() and window.isWindowModified()
    assert window.editing.store.autosave() == 0  # no all-void autosave either
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage().startswith("Removing ")
    wait_saved(window)
    assert window.statusBar().currentMessage().startswith(f"Removed {path}: every edit")
    assert not path.exists()
    assert not labels(window).dirty and not labels(window).from_file
    assert window.frames.status(window.frames[0]) == FrameStatus.SEGMENTED
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage().startswith("Nothing to save")

    # redo brings the labels back as unsaved; undo again and leave the frame (autosave on)
    key(window, Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert labels(window).started and labels(window).dirty
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    assert np.array_equal(read_mask(path, window.display.label_set), prediction)
    qtbot.wait(SETTLE_MS + 200)  # the folder's watcher sees the mask come
    window.editing.corrections.rescan()  # as the watcher would, should it not have yet
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    show_row(qtbot, window, 1)
    wait_saved(window)
    assert not path.exists()
    assert window.frames.status(window.frames[0]) == FrameStatus.SEGMENTED
    first = window.editing.store.get(window.frames[0])
    qtbot.wait(SETTLE_MS + 200)  # the folder's watcher sees the mask go
    window.editing.corrections.rescan()  # as the watcher would, should it not have yet
    assert window.editing.store.get(window.frames[0]) is first  # our removal: history kept
    show_row(qtbot, window, 0)
    assert labels(window) is first and first.undo_stack.count() == 1 and not first.started


def test_a_frame_undone_to_before_its_first_edit_leaves_the_corrected_frames_at_that_step(
        qtbot, make_window, image_folder):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    key(window, Qt.Key.Key_2)
    drag(window, [(5, 5), (30, 30)])
    drag(window, [(40, 10), (60, 30)])
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.frames.status(window.frames[0]) == FrameStatus.UNSAVED  # one edit left
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # still dirty: no
    assert window.frames.status(window.frames[0]) == FrameStatus.SEGMENTED  # dirty news


def test_past_the_undo_limit_undoing_all_it_holds_keeps_the_edits_it_dropped(
        qtbot, make_window, image_folder, monkeypatch):
    """The oldest steps fell off the undo history: undo cannot reach a frame without a mask
    any more, so the frame keeps its mask (never removed, never shown as the prediction)."""
    import app.editing.frame_labels as frame_labels
    monkeypatch.setattr(frame_labels, "UNDO_LIMIT", 2)
    window = make_window()
    open_folder(qtbot, window, image_folder)
    key(window, Qt.Key.Key_2)
    drag(window, [(5, 5), (30, 30)])
    first = labels(window).mask.copy()
    drag(window, [(40, 10), (60, 30)])
    drag(window, [(10, 40), (40, 60)])
    assert labels(window).undo_stack.count() == 2
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    for _ in range(3):
        key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert labels(window).started and np.array_equal(labels(window).mask, first)
    assert np.array_equal(window.display.document.shown_labels(), first)
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    path = image_folder / "labels" / "a.png"
    assert np.array_equal(read_mask(path, window.display.label_set), first)


def test_after_our_removal_another_programs_mask_and_its_removal_are_taken_as_theirs(
        qtbot, make_window, image_folder):
    from segnet_core.io.masks import write_index_mask

    window = make_window()
    open_folder(qtbot, window, image_folder)
    path, ref = image_folder / "labels" / "a.png", window.frames[0]
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Accept prediction
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # removes a.png: ours
    wait_saved(window)
    qtbot.wait(SETTLE_MS + 200)
    window.editing.corrections.rescan()  # as the watcher would, should it not have yet
    theirs = np.full(labels(window).shape, 1, np.uint8)
    write_index_mask(path, theirs, LABELS)  # another program writes one
    qtbot.wait(SETTLE_MS + 200)
    window.editing.corrections.rescan()
    qtbot.waitUntil(lambda: labels(window) is not None and labels(window).opened_with_mask,
                    timeout=5000)
    assert np.array_equal(labels(window).mask, theirs)
    changed = []
    window.editing.corrections.maskChanged.connect(changed.append)
    path.unlink()  # ... and removes it again: not ours, so the window is told
    qtbot.wait(SETTLE_MS + 200)
    window.editing.corrections.rescan()
    assert changed == [ref]
    assert window.frames.status(ref) == FrameStatus.SEGMENTED
    assert not labels(window).started  # the frame shows the prediction, not the gone mask


@pytest.mark.parametrize("case", ["after-the-write", "while-saving", "same-time",
                                  "removal-while-saving"])
def test_another_programs_mask_written_right_after_our_save_is_taken_as_theirs(
        qtbot, make_window, image_folder, monkeypatch, case):
    """Another program writes the frame's mask just after our save wrote it, before the
    window heard of its write (after-the-write), or while the window looks at the folder
    before that news (while-saving), or within the file system's timestamp tick of ours
    (same-time: their file has our modification time), or just after our save removed the
    mask (every edit undone) while the window looks: the file is theirs, and the frame's
    clean labels follow it. Taking the file's time after the news, dropping a change seen
    while saving, or telling files by their time alone once took their mask for ours, and it
    was never read."""
    window = make_window()
    open_folder(qtbot, window, image_folder)
    theirs = np.full(labels(window).shape, 1, np.uint8)
    written, go_on = threading.Event(), threading.Event()
    removal, same_time = case == "removal-while-saving", case == "same-time"
    ours = LabelsFolder.remove if removal else LabelsFolder.save

    def and_then_another_program(folder, name, *args):  # the writer thread
        result = ours(folder, name, *args)
        if not same_time:
            time.sleep(0.01)  # a later time than ours, whatever the file system's tick
        write_index_mask(folder.mask_path(name), theirs, LABELS)
        if same_time:
            os.utime(folder.mask_path(name), ns=(result[0], result[0]))
        written.set()
        go_on.wait(10)
        return result

    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Accept prediction
    if removal:  # saved, then every edit undone: the next save removes the mask
        key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        wait_saved(window)
        key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    monkeypatch.setattr(LabelsFolder, "remove" if removal else "save", and_then_another_program)
    if case in ("after-the-write", "same-time"):
        go_on.set()
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert written.wait(10)
    if not go_on.is_set():
        assert window.editing.store.saving(window.frames[0])
        window.editing.corrections.rescan()  # as the watcher would
        go_on.set()
    wait_saved(window)
    window.editing.corrections.rescan()  # as the watcher would, should it not have yet
    qtbot.waitUntil(lambda: labels(window) is not None and labels(window).opened_with_mask
                    and np.array_equal(labels(window).mask, theirs), timeout=5000)
    assert window.frames.status(window.frames[0]) == FrameStatus.CORRECTED


def test_restoring_autosaves_that_hold_what_is_saved_says_nothing_came_back(
        qtbot, make_window, image_folder):
    """A crash left an autosave identical to the saved mask (no "propagated" marker): the
    bar offers it, and Restore says there was nothing to restore instead of "Restored the
    autosaved edits of 0 frame(s); they are not saved yet"."""
    labels_dir = image_folder / "labels"
    (labels_dir / ".autosave").mkdir(parents=True)
    mask = np.zeros((H, W), np.uint8)
    write_index_mask(labels_dir / "a.png", mask, LABELS)
    autosave = labels_dir / ".autosave" / "a.png"
    write_index_mask(autosave, mask, LABELS)
    later = (labels_dir / "a.png").stat().st_mtime_ns + 10**9
    os.utime(autosave, ns=(later, later))
    window = make_window(model=None)
    with qtbot.waitSignal(window.editing.saving.recoveryOffered, timeout=5000):
        open_folder(qtbot, window, image_folder, model=False)
    qtbot.mouseClick(window.editing.saving.recovery_bar.restore_button,
                     Qt.MouseButton.LeftButton)
    assert window.statusBar().currentMessage() == (
        "Nothing to restore: the autosaves held what is saved already")
    qtbot.waitUntil(lambda: not autosave.exists(), timeout=5000)
