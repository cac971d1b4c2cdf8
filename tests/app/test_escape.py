"""Esc cancels Segment all, after what else takes it: a polygon or stroke being drawn on the
canvas, a class search."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.app.conftest import scene_image, write_png
from tests.app.editing_helpers import RESULT_TIMEOUT, at, click, key, open_folder


def busy_window(qtbot, make_window, slow_checkpoint, tmp_path, frames: int = 12):
    """A window on `frames` images with the slow model, Segment all (Ctrl+Shift+A) running."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(frames):
        write_png(folder / f"f{i:02d}.png", scene_image(40 + i))
    window = make_window(slow_checkpoint)
    open_folder(qtbot, window, folder)
    key(window, Qt.Key.Key_A,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.actions.cancel_segment_all.isEnabled()
    return window


def test_esc_cancels_segment_all_once_the_polygon_being_drawn_is_dropped(
        qtbot, make_window, slow_checkpoint, tmp_path):
    window = busy_window(qtbot, make_window, slow_checkpoint, tmp_path)
    polygon = window.editing.editor.tools["polygon"]
    key(window, Qt.Key.Key_P)
    click(window, 10, 10)
    click(window, 40, 10)
    assert len(polygon.points) == 2 and QApplication.focusWidget() is window.canvas
    finished = []
    window.batchFinished.connect(lambda *args: finished.append(args))
    # asking whether the canvas takes Esc (some platforms ask twice) drops nothing
    asked = QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_Escape,
                      Qt.KeyboardModifier.NoModifier)
    assert QApplication.sendEvent(window.canvas, asked) and asked.isAccepted()
    assert len(polygon.points) == 2
    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)  # the polygon goes, Segment all runs on
    assert polygon.points == [] and window.actions.cancel_segment_all.isEnabled()
    qtbot.wait(200)
    assert finished == []
    with qtbot.waitSignal(window.batchFinished, timeout=RESULT_TIMEOUT) as batch:
        QTest.keyClick(window.canvas, Qt.Key.Key_Escape)  # nothing drawn: Segment all stops
    done, total, cancelled = batch.args
    assert cancelled and done < total
    assert window.statusBar().currentMessage().startswith("Cancelled after")
    assert window.status.cancel.toolTip() == "Stop Segment all (Esc)"


def test_esc_in_the_class_search_ends_the_search_not_segment_all(
        qtbot, make_window, slow_checkpoint, tmp_path):
    window = busy_window(qtbot, make_window, slow_checkpoint, tmp_path)
    panel = window.class_panel
    key(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.search, timeout=5000)
    qtbot.keyClicks(panel.search, "ro")
    qtbot.keyClick(panel.search, Qt.Key.Key_Escape)
    assert panel.search.text() == "" and window.actions.cancel_segment_all.isEnabled()
    with qtbot.waitSignal(window.batchFinished, timeout=RESULT_TIMEOUT) as batch:
        key(window, Qt.Key.Key_Escape)  # the focus back on the canvas: Segment all stops
    assert batch.args[2]


def test_a_stroke_taken_back_with_esc_shows_the_prediction_again(qtbot, make_window,
                                                                  image_folder):
    """Esc during a brush stroke on a frame that showed the prediction: the overlay is the
    prediction's again (it was left empty: the stroke's copy of the prediction was undone
    onto the overlay, as if the label mask were shown; a user's check)."""
    window = make_window()
    open_folder(qtbot, window, image_folder)
    before = window.display.overlay_rgba.copy()
    key(window, Qt.Key.Key_B)
    viewport = window.canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=at(window, 10, 10))
    QTest.mouseMove(viewport, at(window, 30, 20))
    assert not np.array_equal(window.display.overlay_rgba, before)  # painted
    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)
    QTest.mouseMove(viewport, at(window, 40, 25))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=at(window, 40, 25))
    assert not window.editing.editor.labels.started
    assert np.array_equal(window.display.overlay_rgba, before)


def test_segment_all_without_a_model_says_to_load_one_not_cancelled(
        qtbot, make_window, image_folder):
    """A user's check: with no model, Segment all said "Cancelled after 0 of 4 frame(s)"
    though nobody cancelled."""
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    key(window, Qt.Key.Key_A,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.statusBar().currentMessage().startswith("No model is loaded: File > Load")
    assert not window.actions.cancel_segment_all.isEnabled()
    qtbot.wait(100)
    assert "Cancelled" not in window.statusBar().currentMessage()
    key(window, Qt.Key.Key_N)  # Next suggested frame says the same (it said Segment all)
    assert window.statusBar().currentMessage().startswith("No model is loaded: File > Load")
