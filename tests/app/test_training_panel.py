"""Fine-tuning from the window (issue 9, GUI half).

As in tests/core/test_finetune.py, the first model learned the shapes with the square and
disc labels swapped (wrong in a known way). Six frames are corrected through the label
store, two are left alone; a short fine-tune from the panel (48x48, CPU, fp32) must raise
the held-out mIoU shown, keep the GUI ticking, and "Use this model" must load the new
version and segment the two uncorrected frames again.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from segnet_core.checkpoint import checkpoint_from_model, load_checkpoint, save_checkpoint
from segnet_core.data import InMemoryDataset
from segnet_core.finetune import ModelVersions
from segnet_core.kept_estimates import model_key
from segnet_core.masks.edits import replace_mask
from segnet_core.inference import Predictor
from segnet_core.train import TrainConfig, Trainer
from tests.app.conftest import settle, write_png
from tests.app.editing_helpers import when_modal
from tests.app.ticks import GuiThreadWatch
from tests.core.synthetic import SHAPES_LABELS, shapes_folder, shapes_pair

SIZE = (48, 48)
CORRECTED, LEFT_ALONE = 6, 2
TIMEOUT = 240000


def _swapped(pair):
    image, mask = pair
    wrong = mask.copy()
    wrong[mask == 1], wrong[mask == 2] = 2, 1
    return image, wrong


@pytest.fixture(scope="module")
def wrong_model(tmp_path_factory):
    """SegNet-Basic at 48x48 that calls squares discs and discs squares."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = InMemoryDataset([_swapped(shapes_pair(rng, SIZE)) for _ in range(8)], SHAPES_LABELS)
    config = TrainConfig(model="segnet-basic", size=SIZE, epochs=4, batch_size=4, lr=0.1,
                         augment=False, device="cpu", precision="fp32", seed=0)
    trained = Trainer(config, data).run()
    path = tmp_path_factory.mktemp("wrong") / "wrong.pt"
    save_checkpoint(path, checkpoint_from_model(trained.model, SHAPES_LABELS.to_dict(), SIZE))
    return path


@pytest.fixture
def corrected_window(qtbot, make_window, wrong_model, tmp_path):
    """The window on a folder of 8 shape images, the first 6 corrected and saved."""
    folder = tmp_path / "shapes"
    folder.mkdir()
    pairs = [shapes_pair(np.random.default_rng(100 + i), SIZE)
             for i in range(CORRECTED + LEFT_ALONE)]
    for i, (image, _mask) in enumerate(pairs):
        write_png(folder / f"f{i:02d}.png", image)
    window = make_window(model=wrong_model)
    with qtbot.waitSignal(window.display.overlayDrawn, timeout=60000):
        window.open_paths([folder])
    store = window.editing.store
    for row in range(CORRECTED):
        ref = window.frames[row]
        labels = store.open_for_edit(ref, SIZE)
        assert labels.apply(replace_mask(labels.mask, pairs[row][1]), "correct")
        assert store.save_now(labels) == ""
    from app.frames import FrameStatus
    qtbot.waitUntil(lambda: len(window.frames.with_status(FrameStatus.CORRECTED)) == CORRECTED,
                    timeout=10000)
    return window


def _fast_settings(panel, epochs: int) -> None:
    panel.epochs.setValue(epochs)
    panel.batch_size.setValue(1)
    panel.train_height.setValue(SIZE[0])
    panel.train_width.setValue(SIZE[1])
    panel.augment.setChecked(False)


def test_finetune_from_the_panel_raises_held_out_miou_and_use_resegments(
        qtbot, corrected_window):
    window = corrected_window
    layer, panel = window.training, window.training.panel
    old_path = window.model_info.path

    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        layer.action.trigger()  # Train > Fine-tune...
    assert layer.dock.isVisible()
    assert panel.frame_list.count() == CORRECTED
    assert panel.balance_table.rowCount() == 3
    weights = [float(panel.balance_table.item(r, 3).text()) for r in range(3)]
    assert weights[0] < 1 <= min(weights[1:])  # the shapes (rare) weigh more than the
    assert max(weights[1:]) > 1  # background (the median class weighs 1)
    assert "4 frame(s) train, 2 held out (" in panel.frames_label.text()
    shown_held = panel.frames_label.text().split(" held out (")[1].split(")")[0].split(", ")
    panel.balance_mode.setCurrentIndex(1)  # natural frequency: no weighting
    assert [panel.balance_table.item(r, 3).text() for r in range(3)] == ["1.000"] * 3
    panel.balance_mode.setCurrentIndex(0)

    _fast_settings(panel, epochs=8)
    epochs = []
    layer.epochShown.connect(epochs.append)
    with GuiThreadWatch() as watch:
        with qtbot.waitSignal(layer.finished, timeout=TIMEOUT) as finished:
            panel.train_button.click()
            assert layer.running and panel.cancel_button.isEnabled()
            assert window.model_info.path == old_path  # inference keeps the old weights
        watch.wait_for_ticks(qtbot, 5)

    outcome = finished.args[0]
    result = outcome.result
    assert not result.cancelled and len(epochs) == 8
    # no per-epoch held-out figure: nothing is chosen on the held-out frames any more
    assert not hasattr(panel, "miou_chart") and len(panel.loss_chart.points) == 8
    assert panel.summary_table.horizontalHeaderItem(0).text().startswith("2 held-out")
    record = load_checkpoint(outcome.version.path).training["fine_tune"]
    assert sorted(record["frames"]["held_out"]) == sorted(shown_held)  # named beforehand
    drift = record["drift"]
    assert drift is not None and f"{100 * drift:.1f} %" in panel.drift_label.text()
    assert "held-out" in panel.verdict_label.text() and "WORSE" not in panel.verdict_label.text()
    before, after = (float(text) for text in panel.shown_miou())
    print(f"held-out mIoU shown: before {before:.1f} %, after {after:.1f} %")
    assert after > before + 10
    said = window.statusBar().currentMessage()  # short enough to read whole in the bar
    assert said == "Fine-tuning done: v002 saved, better on the held-out frames; not in use yet"
    assert panel.status_label.text().startswith("Finished in ")
    assert panel.status_label.text().endswith(
        ": saved as v002, better on the held-out frames (figures in the Result tab); not in "
        "use yet.")  # not "the previous model": another may have been chosen meanwhile
    assert panel.class_table.rowCount() == 3 and panel.use_button.isEnabled()
    assert panel.result_label.text().endswith(
        "Saved as v002. Not in use: the window segments with another model until you press "
        "Use this model.")
    watch.assert_gui_thread_kept_ticking(min_ticks=20)  # trained off the GUI thread

    versions = ModelVersions(window.frames[0].path.parent / "labels" / "models")
    assert [v.id for v in versions.list()] == ["v001", "v002"]  # the original, the new one
    assert outcome.version.id == "v002" and versions.current.id == "v001"
    assert panel.version_list.count() == 2
    assert window.model_info.path == old_path
    # v001 is the model in use saved as the project's original: the same model, so what is
    # kept of its estimates is kept for v001 too (going back to it brings them at once)
    settle(window.quality.kept.tasks)
    store, folder = window.quality.kept.store, window.frames[0].path.parent
    kept = store.load(model_key(old_path), folder, False)
    assert kept.estimates and store.load(model_key(versions.get("v001").path), folder,
                                         False) == kept

    from app.frames import FrameStatus
    with qtbot.waitSignal(window.batchFinished, timeout=TIMEOUT):
        window.segment_all()  # every frame estimated by the model in use (the old one)
    new_path = str(outcome.version.path)
    with qtbot.waitSignal(window.batchFinished, timeout=TIMEOUT) as batch:
        # the worker's modelLoaded, as the window has taken it in
        with qtbot.waitSignal(window.modelReady, timeout=60000,
                              check_params_cb=lambda info: info.path == new_path):
            panel.use_button.click()
    done, total, cancelled = batch.args
    # the frames left alone, and the 2 held-out corrected frames: the new model was not
    # trained on them, so how right it is there levels the estimates (app.quality)
    assert (done, total, cancelled) == (LEFT_ALONE + 2, LEFT_ALONE + 2, False)
    assert window.quality.measured_frames == 2
    assert window.model_info.path == new_path and versions.current.id == "v002"
    assert not panel.use_button.isEnabled() and panel.use_button.text() == "In use"
    assert panel.result_label.text().endswith(  # said once only, and as it is now
        "Saved as v002. In use: the window segments with it.")
    assert "Not in use" not in panel.result_label.text()
    assert len(window.frames.with_status(FrameStatus.CORRECTED)) == CORRECTED
    assert len(window.frames.with_status(FrameStatus.SEGMENTED)) == LEFT_ALONE
    for ref in window.frames.with_status(FrameStatus.SEGMENTED):
        assert ref in window.cache
        # estimated by the new model: the old one's estimates were no reason to skip
        qtbot.waitUntil(lambda: window.quality.estimate(ref) is not None, timeout=5000)

    # a second round holds out the frames v002 was not trained on first (the two held out
    # before), then frames it learnt, said to flatter its "before" figure
    spin = panel.holdout_share
    spin.setFocus()
    QTest.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(spin, "0.6")
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        QTest.keyClick(spin, Qt.Key.Key_Return)
    text = panel.frames_label.text()
    again = text.split(" held out (")[1].split(")")[0].split(", ")
    assert len(again) >= 3 and set(shown_held) < set(again), text
    learnt = sorted(set(again) - set(shown_held))
    assert f"The current model was trained on {', '.join(learnt)}: its 'before' figure " \
           f"there flatters it" in text

    # back to the original version from the list
    panel.version_list.setCurrentRow(0)  # newest first: v002, in use: nothing to switch to
    assert "in use" in panel.version_list.item(0).text()
    assert not panel.use_version_button.isEnabled()
    panel.version_list.setCurrentRow(1)  # newest first: row 1 is v001
    assert panel.use_version_button.isEnabled()
    settle(window.quality.kept.tasks)
    kept_v001 = store.load(model_key(versions.get("v001").path), folder, False).estimates
    with qtbot.waitSignal(window.batchFinished, timeout=TIMEOUT) as batch, \
            qtbot.waitSignal(window.modelReady, timeout=60000,
                             check_params_cb=lambda info: info.path.endswith("v001.pt")):
        panel.use_version_button.click()
    assert versions.current.id == "v001"
    # it names the version it loads (v002), beside the one selected (a user could not tell)
    assert panel.use_button.isEnabled() and panel.use_button.text() == "Use this model (v002)"
    assert panel.result_label.text().endswith("Not in use: the window segments with another "
                                              "model until you press Use this model.")
    # its Segment all waited for v001's kept estimates: those frames are not estimated again.
    # Every frame is segmented but, on a busy machine, the one on screen, which the display
    # may have had segmented with v001 before Segment all began (one full run in three, with
    # two other programs at work)
    done, total, cancelled = batch.args
    assert done == total and total in (7, 8) and not cancelled and kept_v001
    assert window.statusBar().currentMessage() == (
        f"Segmented {total} of {total} frame(s); the estimates of {len(kept_v001)} of them "
        "were kept from before (the same model)")


def test_cancel_keeps_a_usable_version(qtbot, corrected_window):
    window = corrected_window
    layer, panel = window.training, window.training.panel
    layer.open()
    _fast_settings(panel, epochs=50)
    layer.epochShown.connect(lambda _record: panel.cancel_button.click())
    with qtbot.waitSignal(layer.finished, timeout=TIMEOUT) as finished:
        panel.train_button.click()
    outcome = finished.args[0]
    assert outcome.result.cancelled and 1 <= outcome.result.epochs_completed < 50
    assert outcome.version is not None and panel.use_button.isEnabled()
    assert "Cancelled" in panel.result_label.text()
    assert window.statusBar().currentMessage().startswith("Fine-tuning cancelled: v002 saved")
    kept = load_checkpoint(outcome.version.path)
    predictor = Predictor(kept.build_model(), kept.label_set(), input_size=kept.input_size,
                          normalization=kept.normalization, device="cpu", precision="fp32")
    labels = predictor.predict(np.zeros((*SIZE, 3), np.uint8)).labels
    assert labels.shape == SIZE and labels.max() < 3
    assert not layer.running and panel.train_button.isEnabled()


def test_closing_while_a_fine_tune_runs_asks_and_a_version_stopped_so_is_marked(
        qtbot, corrected_window, make_window):
    """A user's check: Ctrl+Q during a round stopped it with no word, the window looked
    frozen until it had, and the model trained so far came back next time unmarked."""
    from PySide6.QtWidgets import QMessageBox

    window = corrected_window
    folder = window.frames[0].path.parent
    del window.training.ask_stop  # the real question
    layer, panel = window.training, window.training.panel
    layer.open()
    _fast_settings(panel, epochs=50)
    epochs = []
    layer.epochShown.connect(epochs.append)
    panel.train_button.click()
    qtbot.waitUntil(lambda: len(epochs) >= 1, timeout=TIMEOUT)
    asked = []

    def answer(box, stop: bool) -> None:
        asked.append(box.text())
        button = next(b for b in box.buttons() if (b.text() == "Stop and quit") == stop)
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    when_modal(lambda box: answer(box, False), QMessageBox)  # Cancel: the round goes on
    assert not window.close()
    assert asked and asked[0].startswith("A fine-tune round is running (")
    assert "kept as a new version, marked cancelled" in asked[0]
    assert window.isVisible() and layer.running
    seen = len(epochs)
    qtbot.waitUntil(lambda: len(epochs) > seen, timeout=TIMEOUT)  # still training
    when_modal(lambda box: answer(box, True), QMessageBox)
    assert window.close()
    assert len(asked) == 2 and not window.isVisible()
    versions = ModelVersions(folder / "labels" / "models").list()
    assert [v.id for v in versions] == ["v001", "v002"]
    assert versions[-1].recipe["stopped"] == "cancelled"
    # the next session's panel marks it
    again = make_window()
    with qtbot.waitSignal(again.display.overlayDrawn, timeout=60000):
        again.open_paths([folder])
    again.training.open()
    texts = [again.training.panel.version_list.item(row).text()
             for row in range(again.training.panel.version_list.count())]
    assert texts[0].startswith("v002 (") and "cancelled" in texts[0].split(")")[0]
    assert "cancelled" not in texts[1]


def _type_into(spin, text: str) -> None:
    spin.setFocus()
    QTest.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(spin, text)
    QTest.keyClick(spin, Qt.Key.Key_Tab)


def test_the_next_session_starts_with_the_settings_of_the_last_run(
        qtbot, corrected_window, make_window, wrong_model):
    window = corrected_window
    layer, panel = window.training, window.training.panel
    layer.open()
    assert panel.epochs.value() == 24 and panel.batch_size.value() == 4  # the recipe's
    _type_into(panel.epochs, "37")
    _type_into(panel.batch_size, "1")
    _type_into(panel.train_height, str(SIZE[0]))
    _type_into(panel.train_width, str(SIZE[1]))
    _type_into(panel.holdout_share, "0.4")
    panel.tabs.setCurrentIndex(0)
    QTest.mouseClick(panel.augment, Qt.MouseButton.LeftButton,
                     pos=QPoint(8, panel.augment.height() // 2))
    assert not panel.augment.isChecked()
    layer.epochShown.connect(lambda _record: panel.cancel_button.click())
    with qtbot.waitSignal(layer.finished, timeout=TIMEOUT):
        QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    window.close()

    again = make_window(model=wrong_model).training.panel  # the next session
    assert again.epochs.value() == 37 and again.batch_size.value() == 1
    assert (again.train_height.value(), again.train_width.value()) == SIZE
    assert again.holdout_share.value() == pytest.approx(0.4) and not again.augment.isChecked()
    assert again.learning_rate.text() == "automatic"  # left as it was: still automatic


def test_a_time_limit_typed_in_the_panel_ends_the_round_and_is_kept(
        qtbot, corrected_window, make_window, wrong_model):
    """A user's check: the panel had no time limit (`finetune --minutes` has), and a round
    takes about 30 minutes on a 2-core CPU without bf16."""
    from segnet_core.train_events import StopReason

    window = corrected_window
    layer, panel = window.training, window.training.panel
    layer.open()
    assert panel.minutes.text() == "none"  # the recipe's: every epoch
    _fast_settings(panel, epochs=1000)  # the most the panel takes
    panel.tabs.setCurrentIndex(0)
    _type_into(panel.minutes, "0.1")  # six seconds
    progress_seen = []  # in thousandths of the time, not of the 1000 epochs' steps
    panel.progress.valueChanged.connect(
        lambda value: panel.progress.maximum() == 1000 and progress_seen.append(value))
    with qtbot.waitSignal(layer.finished, timeout=TIMEOUT) as finished:
        QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    result = finished.args[0].result
    assert result.stopped == StopReason.TIME_LIMIT and not result.cancelled
    assert result.global_step >= 1 and result.epochs_completed < 1000
    assert result.settings.minutes == pytest.approx(0.1)
    assert (f"Stopped at the 0.1-minute limit with {result.epochs_completed} of 1000 epoch(s) "
            "done" in panel.result_label.text())
    if not result.epochs_completed:  # six seconds: inside its first epoch here, said so
        assert "inside the first: rounds this short tend to leave the model worse" in \
            panel.result_label.text()
    assert progress_seen and max(progress_seen) > 500  # the bar followed the time
    assert finished.args[0].version is not None and panel.use_button.isEnabled()
    window.close()
    again = make_window(model=wrong_model).training.panel  # the next session
    assert again.minutes.value() == pytest.approx(0.1)


def propagate_last_corrected(qtbot, window) -> None:
    """Edit > Propagate labels to the next frames from the last corrected frame (f05) to the
    frames left alone (f06, f07)."""
    window.show_row(CORRECTED - 1)
    qtbot.waitUntil(lambda: window.current_key == window.frames[CORRECTED - 1]
                    and window.editing.editor.labels is not None, timeout=10000)
    window.propagation.ask_steps = lambda _direction: LEFT_ALONE
    with qtbot.waitSignal(window.propagation.finished, timeout=60000):
        window.propagation.forward_action.trigger()


def test_the_panel_says_how_many_training_frames_hold_propagated_labels_not_accepted(
        qtbot, corrected_window):
    window = corrected_window
    propagate_last_corrected(qtbot, window)
    for ref in list(window.frames)[CORRECTED:]:
        assert window.editing.store.save_now(window.editing.store.get(ref)) == ""
    layer, panel = window.training, window.training.panel
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        layer.action.trigger()  # Train > Fine-tune...
    assert panel.frame_list.count() == CORRECTED + LEFT_ALONE  # they train all the same
    assert f"; {LEFT_ALONE} of the {CORRECTED + LEFT_ALONE} hold propagated labels not " \
        "accepted yet: they train, never held out" in panel.frames_label.text()
    share_box = panel.holdout_share.lineEdit()  # a share of one half, typed
    QTest.mouseDClick(share_box, Qt.MouseButton.LeftButton)
    share_box.selectAll()
    QTest.keyClicks(share_box, "0.5")
    QTest.keyClick(share_box, Qt.Key.Key_Tab)
    assert panel.holdout() == 0.5
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        QTest.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)
    # half of the 6 reviewed frames held out (3), not half of all 8 (4); not f05, whose
    # labels were carried to f06 and f07, while others fit: it would set them aside
    assert re.match(r"5 frame\(s\) train, 3 held out \(f0[0-4]\.png, f0[0-4]\.png, "
                    r"f0[0-4]\.png\); 2 of the 8", panel.frames_label.text()), \
        panel.frames_label.text()
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):  # left out of training too
        QTest.mouseClick(panel.train_propagated, Qt.MouseButton.LeftButton,
                         pos=panel.train_propagated.rect().center())
    assert not panel.settings().train_propagated
    assert re.sub(r" \(f0.*?\)", "", panel.frames_label.text()).startswith(
        f"3 frame(s) train, 3 held out; {LEFT_ALONE} of the {CORRECTED + LEFT_ALONE} hold "
        f"propagated labels not accepted yet: left out")
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        QTest.mouseClick(panel.train_propagated, Qt.MouseButton.LeftButton,
                         pos=panel.train_propagated.rect().center())
    # chosen by hand: the propagated frames cannot be ticked to be held out
    items = [panel.frame_list.item(i) for i in range(panel.frame_list.count())]
    assert [bool(item.flags() & Qt.ItemFlag.ItemIsUserCheckable) for item in items] == \
        [True] * CORRECTED + [False] * LEFT_ALONE
    # each with its box, so the names line up; theirs greyed with the name, and unclickable
    assert all(item.data(Qt.ItemDataRole.CheckStateRole) is not None for item in items)
    assert [bool(item.flags() & Qt.ItemFlag.ItemIsEnabled) for item in items] == \
        [True] * CORRECTED + [False] * LEFT_ALONE
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):  # the frames ticked, by key
        QTest.keyClick(panel.holdout_mode, Qt.Key.Key_Down)
    items = [panel.frame_list.item(i) for i in range(panel.frame_list.count())]  # listed anew
    last = panel.frame_list.visualItemRect(items[-1])
    QTest.mouseClick(panel.frame_list.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(last.left() + 8, last.center().y()))  # on its box
    assert items[-1].checkState() == Qt.CheckState.Unchecked
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):  # a share again
        QTest.keyClick(panel.holdout_mode, Qt.Key.Key_Up)
    window.show_row(CORRECTED)
    qtbot.waitUntil(lambda: window.current_key == window.frames[CORRECTED], timeout=10000)
    window.propagation.accept_action.trigger()  # Edit > Accept propagated labels
    QTest.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "; 1 of the 8 holds propagated" in panel.frames_label.text(),
                    timeout=10000)


def test_the_panel_follows_an_accept_of_saved_propagated_labels_in_a_later_session(
        qtbot, make_window, wrong_model, corrected_window):
    """Next session, a frame shown but not edited has no labels open: accepting it changes
    only the list beside the masks, and the panel's count follows at once, no Refresh."""
    window = corrected_window
    propagate_last_corrected(qtbot, window)
    for ref in list(window.frames)[CORRECTED:]:
        assert window.editing.store.save_now(window.editing.store.get(ref)) == ""
    folder = window.frames[0].path.parent
    window.close()
    second = make_window(model=wrong_model)
    with qtbot.waitSignal(second.display.overlayDrawn, timeout=60000):
        second.open_paths([folder])
    layer, panel = second.training, second.training.panel
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        layer.action.trigger()  # Train > Fine-tune...
    assert "; 2 of the 8 hold propagated" in panel.frames_label.text()
    second.show_row(CORRECTED)
    qtbot.waitUntil(lambda: second.current_key == second.frames[CORRECTED], timeout=10000)
    QTest.keyClick(second, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # Edit > Accept propagated labels
    assert "Accepted" in second.statusBar().currentMessage()
    qtbot.waitUntil(lambda: "; 1 of the 8 holds propagated" in panel.frames_label.text(),
                    timeout=10000)


def test_the_greyed_list_ticks_the_frames_a_share_holds_out_and_keeps_the_users_ticks(
        qtbot, corrected_window):
    """A share drawn: the greyed list ticks the frames it holds out (a user saw a stale tick
    from an earlier choice by hand, and not the frames named above it); the user's own ticks
    come back with "The frames ticked below"."""
    layer, panel = corrected_window.training, corrected_window.training.panel
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        layer.action.trigger()  # Train > Fine-tune...

    def drawn() -> list[str]:  # the names the summary gives: "... held out (f02.png, f04.png)"
        return re.search(r"held out \((.*?)\)", panel.frames_label.text()).group(1).split(", ")

    assert not panel.frame_list.isEnabled() and len(drawn()) == 2  # a share of 0.25 of 6
    assert sorted(panel.ticked_names()) == sorted(drawn())
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):  # "The frames ticked below"
        QTest.keyClick(panel.holdout_mode, Qt.Key.Key_Down)
    assert panel.ticked_names() == []  # none ticked by hand yet
    item = panel.frame_list.findItems("f00.png", Qt.MatchFlag.MatchExactly)[0]
    QTest.mouseClick(panel.frame_list.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.frame_list.visualItemRect(item).center())
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        QTest.keyClick(panel.frame_list, Qt.Key.Key_Space)
    assert panel.ticked_names() == ["f00.png"]
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):  # a share again: the draw
        QTest.keyClick(panel.holdout_mode, Qt.Key.Key_Up)
    assert sorted(panel.ticked_names()) == sorted(drawn())
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):  # by hand again: the user's
        QTest.keyClick(panel.holdout_mode, Qt.Key.Key_Down)
    assert panel.ticked_names() == ["f00.png"]
    assert re.match(r"5 frame\(s\) train, 1 held out \(f00\.png\)", panel.frames_label.text())


def test_frames_ticked_to_hold_out_set_aside_the_frames_linked_to_them_by_propagation(
        qtbot, corrected_window):
    """f05's labels carried to f06 and f07 (f06 accepted): ticking f05 holds it out and sets
    f06 and f07 aside, said in the panel before training and kept out of the training
    frames of the run. Neither can be ticked itself: carried to, their labels are partly
    the model's own, accepted (f06) or not (f07)."""
    window = corrected_window
    propagate_last_corrected(qtbot, window)
    window.show_row(CORRECTED)
    qtbot.waitUntil(lambda: window.current_key == window.frames[CORRECTED], timeout=10000)
    window.propagation.accept_action.trigger()  # Edit > Accept propagated labels
    for ref in list(window.frames)[CORRECTED:]:
        assert window.editing.store.save_now(window.editing.store.get(ref)) == ""
    layer, panel = window.training, window.training.panel
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        layer.action.trigger()  # Train > Fine-tune...
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):  # Held out: the frames ticked
        QTest.keyClick(panel.holdout_mode, Qt.Key.Key_Down)

    def tick(name):
        item = panel.frame_list.findItems(name, Qt.MatchFlag.MatchExactly)[0]
        QTest.mouseClick(panel.frame_list.viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.frame_list.visualItemRect(item).center())
        with qtbot.waitSignal(layer.balanceShown, timeout=60000):
            QTest.keyClick(panel.frame_list, Qt.Key.Key_Space)  # ticks, does not play

    for name in ("f06.png", "f07.png"):
        item = panel.frame_list.findItems(name, Qt.MatchFlag.MatchExactly)[0]
        assert item.flags() == Qt.ItemFlag.NoItemFlags
        assert item.toolTip().startswith(("Labels propagated from another frame: trains, but "
                                          "is not held out", "Propagated labels not accepted"))
    tick("f05.png")
    assert panel.frames_label.text() == (
        "5 frame(s) train, 1 held out (f05.png); 2 set aside (f06.png, f07.png): linked by "
        "propagation to a held-out frame; 1 of the 8 holds propagated labels not accepted yet: "
        "it trains unless set aside, never held out (Edit > Accept propagated labels once "
        "looked over)")
    label = panel.frames_label  # all of it shows: as high as its wrapped lines need
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()), timeout=5000)
    assert panel.frame_list.currentItem().text() == "f05.png"  # the user's place is kept
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):  # a second Space unticks
        QTest.keyClick(panel.frame_list, Qt.Key.Key_Space)
    assert panel.ticked_names() == []
    tick("f05.png")
    tick("f00.png")
    assert panel.frames_label.text().startswith(
        "4 frame(s) train, 2 held out (f00.png, f05.png); 2 set aside"), \
        panel.frames_label.text()
    _fast_settings(panel, epochs=1)
    with qtbot.waitSignal(layer.finished, timeout=TIMEOUT) as finished:
        QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    record = load_checkpoint(finished.args[0].version.path).training["fine_tune"]["frames"]
    assert record["held_out"] == ["f00.png", "f05.png"]
    assert record["train"] == ["f01.png", "f02.png", "f03.png", "f04.png"]


def test_an_open_panel_lists_the_corrections_found_when_a_folder_opens(qtbot, make_window,
                                                                       wrong_model, tmp_path):
    """The panel already open (as a restored layout leaves it): opening a folder whose
    labels folder holds masks lists them, instead of "No corrected frames yet"."""
    folder = shapes_folder(tmp_path / "shots", [f"g{i}.png" for i in range(4)], corrected=3,
                           seed=300, size=SIZE)
    window = make_window(model=wrong_model)
    layer, panel = window.training, window.training.panel
    layer.action.trigger()  # Train > Fine-tune... before anything is open
    qtbot.waitUntil(lambda: panel.train_button.isVisible(), timeout=10000)
    qtbot.wait(800)  # its refresh (300 ms after it shows) has run: nothing to list yet
    assert panel.frame_list.count() == 0 and not layer._refresh_timer.isActive()
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        window.open_paths([folder])
    assert panel.frame_list.count() == 3
    text = panel.frames_label.text()
    assert text.startswith("2 frame(s) train, 1 held out (")
    held = text.split(" held out (")[1].split(")")[0]

    # a model trained on that frame (a fine-tuned version) comes into use: the preview
    # draws again, among the frames it did not learn, as the run will
    learnt = load_checkpoint(wrong_model)
    learnt.training = {"fine_tune": {"frames": {"train_all": [held]}}}
    path = tmp_path / "learnt.pt"
    save_checkpoint(path, learnt)
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        window.load_model(path)  # as File > Load model does
    again = panel.frames_label.text().split(" held out (")[1].split(")")[0]
    assert again != held and again in {"g0.png", "g1.png", "g2.png"}


def test_a_round_trains_the_project_of_the_frame_shown_only(qtbot, corrected_window,
                                                             tmp_path):
    """A user's check: with a second project open, the panel listed both projects' frames
    to train, scored one on the other's frame and saved the result as the first project's
    version. It trains the frame shown's project, and says how many it leaves out."""
    window = corrected_window
    layer, panel = window.training, window.training.panel
    other = shapes_folder(tmp_path / "other", [f"g{i}.png" for i in range(3)], corrected=2,
                          seed=300, size=SIZE)
    window.open_paths([other])
    layer.open()
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):
        layer.refresh()
    names = [panel.frame_list.item(i).text() for i in range(panel.frame_list.count())]
    assert names == [f"f{i:02d}.png" for i in range(CORRECTED)]  # f00 is shown
    assert panel.frames_label.text().endswith(
        "; 2 corrected frame(s) of another project open left out (a round trains the model of "
        "the frame shown's project)")
    row = next(r for r in range(len(window.frames))  # one not corrected: no labels opened
               if window.frames[r].path == other / "g2.png")
    with qtbot.waitSignal(layer.balanceShown, timeout=60000):  # the panel follows the frame
        window.show_row(row)  # shown into the other project (a user's re-check)
    assert window.current_key == window.frames[row]
    names = [panel.frame_list.item(i).text() for i in range(panel.frame_list.count())]
    assert names == ["g0.png", "g1.png"]
    assert layer.versions_folder() == other / "labels" / "models"

    plain = tmp_path / "plain"  # a third, with no correction: Train says where they are
    plain.mkdir()
    write_png(plain / "p.png", shapes_pair(np.random.default_rng(7), SIZE)[0])
    window.open_paths([plain])
    qtbot.waitUntil(lambda: window.current_key.path.parent == plain, timeout=10000)
    QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert not layer.running
    assert panel.status_label.text() == (
        "No corrected frames in the project of the frame shown; 8 in another project open: "
        "show one of its frames to fine-tune its model")


def test_why_train_could_not_start_goes_once_it_can(qtbot, make_window, image_folder):
    """A user's check: "No corrected frames" stayed under the progress bar after a folder
    with corrections was opened and the Setup tab said "1 frame(s) train"; with nothing
    open it did not say to open something."""
    from segnet_core.io.masks import write_index_mask
    from tests.app.conftest import H, LABELS, W

    window = make_window()
    layer, panel = window.training, window.training.panel
    with qtbot.waitSignal(layer.dock.visibilityChanged, timeout=10000):
        layer.action.trigger()  # Train > Fine-tune...
    qtbot.waitUntil(panel.train_button.isVisible, timeout=10000)
    QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert panel.status_label.text().startswith("Nothing is open: open the images or video")
    assert not layer.running
    window.open_paths([image_folder])  # nothing corrected there yet
    qtbot.waitUntil(lambda: window.current_key is not None, timeout=10000)
    QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert panel.status_label.text() == ("No corrected frames: correct and save a few frames "
                                         "first")
    mask = np.zeros((H, W), np.uint8)
    write_index_mask(image_folder / "labels" / "b.png", mask, LABELS)  # saved elsewhere
    window.editing.corrections.rescan()  # as the folder's watcher would
    qtbot.waitUntil(lambda: panel.status_label.text() == "", timeout=10000)
    # listed ("1 corrected frame(s) train, ..."), or counted once the balance is in
    assert re.match(r"1 (corrected )?frame\(s\) train", panel.frames_label.text())
