"""Correcting labels with the mouse and keys: exact pixels, undo/redo, fill, polygon,
picker, class keys, brush size and its outline, and the overlay drawn from the mask."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.canvas.overlay import class_shares, label_rgba
from app.canvas.qimage import qimage_to_array
from app.editing.tools import ToolName
from app.frames import FrameStatus
from segnet_core.masks.edits import fill_polygon, paint_disc_segment

from tests.app.conftest import H, LABELS, W
from tests.app.editing_helpers import (RESULT_TIMEOUT, at, click, drag, key, labels,
                                       open_folder, when_modal)

VOID = LABELS.void_index  # with the tiny model; CamVid's 11 without a model


def expected_stroke(points, size, value, base=None, void=VOID):
    mask = np.full((H, W), void, np.uint8) if base is None else base.copy()
    for p0, p1 in zip(points[:1] + points[:-1], points):
        patch = paint_disc_segment(mask, p0, p1, size / 2, value)
        if patch is not None:
            patch.apply(mask)
    return mask


def shown_overlay(window) -> np.ndarray:
    """The overlay as the canvas holds it (alpha, and colours where opaque)."""
    return qimage_to_array(window.canvas._overlay_item.image())


def test_a_brush_stroke_paints_exactly_its_pixels_and_undo_redo_restore_them(
        qtbot, make_window, image_folder):
    window = make_window(model=None)  # no prediction: the mask starts all void
    open_folder(qtbot, window, image_folder, model=False)
    editor = window.editing.editor
    label_set = window.display.label_set
    void = label_set.void_index
    key(window, Qt.Key.Key_2)  # class 2 = index 1
    editor.set_brush_size(5)
    points = [(10, 10), (20, 12), (30, 12)]
    drag(window, points)
    expected = expected_stroke(points, 5, 1, void=void)
    mask = labels(window).mask
    assert np.array_equal(mask, expected)
    assert (mask == 1).sum() > 50 and set(np.unique(mask)) == {1, void}
    assert labels(window).undo_stack.count() == 1  # one drag, one undo step
    assert window.isWindowModified()
    assert window.windowTitle() == "a.png - SegNet Studio (1 frame(s) unsaved)[*]"
    assert window.frames.status(window.current_key) == FrameStatus.UNSAVED
    assert np.array_equal(window.display.overlay_rgba, label_rgba(mask, label_set))
    assert np.array_equal(shown_overlay(window)[..., 3], np.where(mask == 1, 255, 0))

    step = labels(window).undo_stack.text(0)
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (labels(window).mask == void).all()
    assert not window.isWindowModified() and window.windowTitle() == "a.png - SegNet Studio[*]"
    assert window.statusBar().currentMessage() == f"Undone: {step} (a.png)"  # says what
    assert window.display.overlay_rgba is None or (window.display.overlay_rgba[..., 3] == 0).all()
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    key(window, Qt.Key.Key_Z, ctrl | shift)
    assert np.array_equal(labels(window).mask, expected)
    assert window.statusBar().currentMessage() == f"Redone: {step} (a.png)"
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    key(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(labels(window).mask, expected)

    viewport = window.canvas.viewport()  # Esc while dragging takes the stroke back
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=at(window, 40, 40))
    QTest.mouseMove(viewport, at(window, 60, 50))
    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=at(window, 60, 50))
    assert np.array_equal(labels(window).mask, expected)
    assert labels(window).undo_stack.count() == 1

    key(window, Qt.Key.Key_E)  # the eraser paints void
    assert editor.tool_name == "eraser"
    drag(window, [(10, 10), (15, 10)])
    erased = expected_stroke([(10, 10), (15, 10)], 5, void, base=expected)
    assert np.array_equal(labels(window).mask, erased)
    assert labels(window).undo_stack.count() == 2


def test_the_first_edit_starts_from_the_prediction_and_undo_shows_it_again(
        qtbot, make_window, image_folder):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    prediction = window.display.document.prediction
    before = window.display.overlay_rgba.copy()
    key(window, Qt.Key.Key_3)
    window.editing.editor.set_brush_size(3)
    drag(window, [(40, 30)])
    expected = expected_stroke([(40, 30)], 3, 2, base=prediction.labels)
    assert np.array_equal(labels(window).mask, expected)
    assert np.array_equal(window.display.overlay_rgba, label_rgba(expected, LABELS))
    assert labels(window).undo_stack.count() == 1
    labels(window).undo_stack.undo()
    assert not labels(window).started  # back to the prediction, exactly as shown before
    assert np.array_equal(window.display.overlay_rgba, before)


def test_an_edit_before_the_frames_prediction_shows_waits_for_it(qtbot, make_window,
                                                                 image_folder):
    """A user's check: a fill clicked before the overlay showed started from an empty mask
    (the whole frame Road), saved as a correction that lowered every estimate. An edit now
    waits for the model's labels, saying so; a polygon keeps its corners meanwhile."""
    import threading

    from app.editing.editor import WAIT_FOR_LABELS
    from tests.app.editing_helpers import show_row

    window = make_window()
    open_folder(qtbot, window, image_folder)
    gate = threading.Event()
    window.worker.tasks.submit(lambda _task: gate.wait(60))  # the model is busy elsewhere
    try:
        show_row(qtbot, window, 1)
        assert window.display.document.prediction is None
        key(window, Qt.Key.Key_F)  # Fill
        click(window, 20, 20)
        assert not labels(window).started and labels(window).undo_stack.count() == 0
        assert window.statusBar().currentMessage() == WAIT_FOR_LABELS
        key(window, Qt.Key.Key_3)
        key(window, Qt.Key.Key_P)  # Polygon: its corners wait too
        for corner in ((5, 5), (30, 5), (30, 25)):
            click(window, *corner)
        QTest.keyClick(window.canvas, Qt.Key.Key_Return)  # closed: not filled yet
        assert window.statusBar().currentMessage() == WAIT_FOR_LABELS
        assert not labels(window).started and len(window.editing.editor.tools[
            ToolName.POLYGON].points) == 3
    finally:
        gate.set()
    qtbot.waitUntil(lambda: window.display.document.prediction is not None,
                    timeout=RESULT_TIMEOUT)
    expected = window.display.document.prediction.labels.copy()
    QTest.keyClick(window.canvas, Qt.Key.Key_Return)  # closed again: over the model's labels
    fill_polygon(expected, [(5, 5), (30, 5), (30, 25)], 2).apply(expected)
    assert np.array_equal(labels(window).mask, expected)


def test_a_frame_the_model_failed_on_is_edited_at_once(qtbot, make_window, image_folder):
    """Edits wait for a prediction on its way only: where segmenting the frame failed (said
    in Problems), none is, and the frame is labelled from void as without a model."""
    import threading

    from tests.app.editing_helpers import show_row

    window = make_window()
    open_folder(qtbot, window, image_folder)
    gate = threading.Event()
    window.worker.tasks.submit(lambda _task: gate.wait(60))
    try:
        show_row(qtbot, window, 1)
        window.worker.failed.emit(window.frames[1], "out of memory")  # as the worker says it
        key(window, Qt.Key.Key_F)
        click(window, 20, 20)
        assert labels(window).started and (labels(window).mask == 0).all()  # all class 1
    finally:
        window.worker.drop_pending()
        gate.set()


def test_a_brush_click_wholly_off_the_image_edits_nothing(qtbot, make_window, image_folder):
    """A user's re-check: a click in the canvas's margin was an undo step, and saved, the
    frame counted as corrected (as predicted) and was exported."""
    window = make_window()
    open_folder(qtbot, window, image_folder)
    window.editing.editor.set_brush_size(3)
    window.canvas.zoom_by(0.5)  # margins all round
    margin = at(window, -8, H // 2)
    assert window.canvas.viewport().rect().contains(margin)
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=margin)
    assert not labels(window).started and labels(window).undo_stack.count() == 0
    assert not labels(window).dirty
    drag(window, [(40, 30)])  # on the image: a stroke, from the prediction
    assert labels(window).undo_stack.count() == 1


def test_undo_and_backspace_take_back_a_polygons_last_corner_and_nothing_else(
        qtbot, make_window, image_folder):
    """A user's check: Ctrl+Z while drawing a polygon dropped it and undid the brush stroke
    before it as well, and no key took back one misplaced corner."""
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    editor, polygon = window.editing.editor, window.editing.editor.tools["polygon"]
    key(window, Qt.Key.Key_1)
    drag(window, [(60, 50), (80, 50)])  # a brush stroke first
    stroke = labels(window).mask.copy()
    steps = labels(window).undo_stack.index()
    key(window, Qt.Key.Key_P)
    key(window, Qt.Key.Key_2)
    for corner in [(5, 5), (40, 5), (40, 30), (70, 70)]:  # the last one misplaced
        click(window, *corner)
    assert QApplication.focusWidget() is window.canvas
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert polygon.points == [(5, 5), (40, 5), (40, 30)]
    assert window.statusBar().currentMessage().startswith(
        "Took back the polygon's last corner (3 left")
    QTest.keyClick(window.canvas, Qt.Key.Key_Backspace)
    assert polygon.points == [(5, 5), (40, 5)]
    assert np.array_equal(labels(window).mask, stroke)
    assert labels(window).undo_stack.index() == steps  # the stroke was not undone
    # Undo from elsewhere (the focus in the frame list) takes back a corner too
    window.frame_view.setFocus()
    qtbot.waitUntil(window.frame_view.hasFocus, timeout=5000)
    QTest.keyClick(window.frame_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert polygon.points == [(5, 5)] and labels(window).undo_stack.index() == steps
    window.canvas.setFocus()
    for corner in [(40, 5), (40, 30), (5, 30)]:
        click(window, *corner)
    QTest.keyClick(window.canvas, Qt.Key.Key_Return)
    expected = stroke.copy()
    fill_polygon(expected, [(5, 5), (40, 5), (40, 30), (5, 30)], 1).apply(expected)
    assert np.array_equal(labels(window).mask, expected)
    # with no polygon drawn, Ctrl+Z undoes as ever: the polygon, then the stroke
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(labels(window).mask, stroke)
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert labels(window).undo_stack.index() == steps - 1


def test_the_empty_canvas_shows_no_brush_outline_over_its_help(qtbot, make_window,
                                                                image_folder):
    """A newcomer's check: the brush's circle followed the pointer over the empty window's
    text."""
    from PySide6.QtCore import QPoint

    window = make_window(model=None)
    outline = window.editing.editor.marks.outline
    viewport = window.canvas.viewport()
    QTest.mouseMove(viewport, QPoint(viewport.width() // 2, viewport.height() // 2))
    QTest.mouseMove(viewport, QPoint(viewport.width() // 2 + 5, viewport.height() // 2))
    assert not any(item.isVisible() for item in outline)
    open_folder(qtbot, window, image_folder, model=False)
    QTest.mouseMove(viewport, at(window, 12, 9))  # not where a later test moves: a move to
    assert all(item.isVisible() for item in outline)  # where the pointer is sends no event
    # a frame that cannot be read: no outline, nor the last image's zoom (a probe)
    window.canvas.zoom_by(4.0)
    (image_folder / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n broken since")
    window.show_row(2)
    qtbot.waitUntil(lambda: window.canvas.placeholder.startswith("c.png cannot be read"),
                    timeout=10000)
    assert not any(item.isVisible() for item in outline)
    assert window.canvas.transform().isIdentity()


def test_enter_on_a_polygon_of_two_corners_keeps_them_and_says_why(
        qtbot, make_window, image_folder):
    """A newcomer's check: Enter after two corners did nothing visible and said nothing
    (the corners were dropped)."""
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    polygon = window.editing.editor.tools["polygon"]
    key(window, Qt.Key.Key_P)
    for corner in [(5, 5), (40, 5)]:
        click(window, *corner)
    QTest.keyClick(window.canvas, Qt.Key.Key_Return)
    assert polygon.points == [(5, 5), (40, 5)]
    assert window.statusBar().currentMessage() == (
        "A polygon needs 3 corners; it has 2: click more, or Esc drops it")
    click(window, 40, 30)
    QTest.keyClick(window.canvas, Qt.Key.Key_Return)
    assert polygon.points == [] and labels(window).undo_stack.count() == 1
    click(window, 5, 40)  # a double-click closes too: on a second corner, kept as well
    QTest.mouseDClick(window.canvas.viewport(), Qt.MouseButton.LeftButton,
                      pos=at(window, 30, 40))
    assert polygon.points == [(5, 40), (30, 40)]
    assert window.statusBar().currentMessage().startswith("A polygon needs 3 corners; it has 2")


def test_ctrl_return_while_a_polygon_is_drawn_is_still_accept_prediction(
        qtbot, make_window, image_folder):
    """A review: the canvas took Ctrl+Return for the polygon's Enter once it took every key
    its tool would use."""
    window = make_window()
    open_folder(qtbot, window, image_folder)
    key(window, Qt.Key.Key_P)
    for corner in [(5, 5), (40, 5), (40, 30)]:
        click(window, *corner)
    QTest.keyClick(window.canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    stack = labels(window).undo_stack
    assert stack.text(stack.index() - 1) == "Accept prediction"
    assert np.array_equal(labels(window).mask, window.display.document.prediction.labels)


def test_redo_while_a_polygon_is_drawn_keeps_its_corners_and_redoes_nothing(
        qtbot, make_window, image_folder):
    """A user's check: Ctrl+Y while drawing dropped the corners and redid an older edit."""
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    polygon = window.editing.editor.tools["polygon"]
    key(window, Qt.Key.Key_1)
    before = labels(window).mask.copy()
    drag(window, [(60, 50), (80, 50)])
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(labels(window).mask, before)  # the stroke undone: Redo may bring it
    key(window, Qt.Key.Key_P)
    click(window, 5, 5)
    click(window, 40, 5)
    QTest.keyClick(window.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert polygon.points == [(5, 5), (40, 5)]
    assert np.array_equal(labels(window).mask, before)
    assert window.statusBar().currentMessage() == (
        "Close the polygon (Enter) or drop it (Esc) before Redo")
    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)
    QTest.keyClick(window.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert not np.array_equal(labels(window).mask, before)  # redone once nothing is drawn


def test_fill_and_polygon_give_the_expected_regions(qtbot, make_window, image_folder):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    editor = window.editing.editor
    void = window.display.label_set.void_index
    key(window, Qt.Key.Key_P)
    key(window, Qt.Key.Key_1)
    corners = [(5, 5), (40, 5), (40, 30), (5, 30)]
    for corner in corners:
        click(window, *corner)
    assert editor.marks.polygon[0].isVisible()
    QTest.keyClick(window.canvas, Qt.Key.Key_Return)
    expected = np.full((H, W), void, np.uint8)
    fill_polygon(expected, corners, 0).apply(expected)
    assert np.array_equal(labels(window).mask, expected)
    assert not editor.marks.polygon[0].isVisible()

    triangle = [(50, 40), (90, 40), (50, 60)]  # closed by a double-click on its last corner
    key(window, Qt.Key.Key_2)
    for corner in triangle[:-1]:
        click(window, *corner)
    QTest.mouseDClick(window.canvas.viewport(), Qt.MouseButton.LeftButton,
                      pos=at(window, *triangle[-1]))
    fill_polygon(expected, triangle, 1).apply(expected)
    assert np.array_equal(labels(window).mask, expected)

    click(window, 60, 10)  # Esc drops a polygon in progress
    click(window, 70, 10)
    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert np.array_equal(labels(window).mask, expected) and editor.tools["polygon"].points == []

    key(window, Qt.Key.Key_F)
    key(window, Qt.Key.Key_3)
    click(window, 20, 20)  # inside the rectangle: only it changes
    expected[expected == 0] = 2
    assert np.array_equal(labels(window).mask, expected)
    click(window, 80, 5)  # the void around both shapes, one 4-connected region
    expected[expected == void] = 2
    assert np.array_equal(labels(window).mask, expected)
    assert labels(window).undo_stack.count() == 4


def test_250_strokes_then_250_undos_restore_the_original_bit_for_bit(
        qtbot, make_window, image_folder):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    original = window.display.document.prediction.labels.copy()
    editor = window.editing.editor
    rng = np.random.default_rng(5)
    for i in range(250):
        editor.set_class(int(rng.integers(0, 3)))
        editor.set_brush_size(int(rng.integers(1, 12)))
        drag(window, [tuple(int(v) for v in rng.integers(0, (W, H))) for _ in range(3)])
    stack = labels(window).undo_stack
    assert stack.count() >= 245  # a stroke that changes nothing is no step
    final = labels(window).mask.copy()
    undo = window.editing.actions.undo
    for _ in range(stack.count()):
        undo.trigger()
    assert not labels(window).started
    assert np.array_equal(window.display.document.shown_labels(), original)
    assert np.array_equal(window.display.shares, class_shares(original, 3))
    while stack.canRedo():
        window.editing.actions.redo.trigger()
    assert np.array_equal(labels(window).mask, final)
    assert np.array_equal(window.display.overlay_rgba, label_rgba(final, LABELS))
    assert np.allclose(window.display.shares, class_shares(final, 3))  # counted per patch


def test_picker_number_keys_and_brush_size_with_its_outline(qtbot, make_window, image_folder):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    editor = window.editing.editor
    prediction = window.display.document.prediction.labels
    key(window, Qt.Key.Key_1)
    assert editor.current_class == 0 and window.class_panel.current_class() == 0
    key(window, Qt.Key.Key_9)  # the label set has 3 classes: nothing happens
    assert editor.current_class == 0
    y, x = np.argwhere(prediction != 0)[0]
    key(window, Qt.Key.Key_I)
    assert editor.tool_name == "picker"
    click(window, int(x), int(y))
    assert editor.current_class == prediction[y, x]
    assert editor.tool_name == "brush"  # back to the tool before the picker

    editor.set_brush_size(9)
    key(window, Qt.Key.Key_BracketRight)
    assert editor.brush_size == 10
    key(window, Qt.Key.Key_BracketRight)
    assert editor.brush_size == 12
    key(window, Qt.Key.Key_BracketLeft)
    assert editor.brush_size == 10
    QTest.mouseMove(window.canvas.viewport(), at(window, 30, 20))
    assert editor.marks.brush_visible
    rect = editor.marks.brush_rect()
    assert (rect.width(), rect.center()) == (10.0, QPointF(30.5, 20.5))
    on_screen = window.canvas.mapFromScene(rect).boundingRect().width()
    assert abs(on_screen - 10 * window.canvas.scale_factor) <= 2  # its real size at this zoom
    window.canvas.zoom_by(2.0)
    on_screen = window.canvas.mapFromScene(editor.marks.brush_rect()).boundingRect().width()
    assert abs(on_screen - 10 * window.canvas.scale_factor) <= 2
    key(window, Qt.Key.Key_F)
    QTest.mouseMove(window.canvas.viewport(), at(window, 31, 20))
    assert not editor.marks.brush_visible  # the outline is the brush's and eraser's


def test_accept_prediction_and_an_overlay_updated_by_rectangles(qtbot, make_window,
                                                                image_folder):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    prediction = window.display.document.prediction.labels
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Accept prediction
    assert np.array_equal(labels(window).mask, prediction) and labels(window).dirty
    assert window.statusBar().currentMessage().startswith("Accepted the prediction")
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == "The labels are the prediction already"
    assert labels(window).undo_stack.count() == 1
    pasted = []
    original = window.canvas.update_overlay_region
    window.canvas.update_overlay_region = lambda x, y, image: (
        pasted.append((x, y, image.width(), image.height())), original(x, y, image))
    window.editing.editor.set_brush_size(4)
    drag(window, [(20, 20), (24, 20)])
    assert pasted and all(w <= 9 and h <= 5 for _, _, w, h in pasted)  # dabs, not the frame
    mask = labels(window).mask
    alpha = shown_overlay(window)[..., 3]
    assert np.array_equal(alpha, np.where(mask < 3, 255, 0))
    opaque = shown_overlay(window)[..., :3][alpha == 255]
    assert np.array_equal(opaque, LABELS.colorize(mask)[alpha == 255])


def test_zooming_in_from_fit_keeps_the_pixel_under_the_cursor_once_scroll_bars_appear(
        qtbot, make_window, image_folder):
    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    canvas = window.canvas
    cursor = at(window, 20, 15)
    canvas.zoom_by(4.0, cursor)
    qtbot.waitUntil(canvas.horizontalScrollBar().isVisible, timeout=5000)
    QCoreApplication.processEvents()  # the scroll bars are laid out; the view must not jump
    after = canvas.mapToScene(cursor)
    assert abs(after.x() - 20.5) < 1.0 and abs(after.y() - 15.5) < 1.0


def test_accept_prediction_asks_before_replacing_a_correction(qtbot, make_window, image_folder):
    """A user's check pressed Ctrl+Return (one Shift from Accept propagated labels) on a
    corrected frame: the correction went without a word. Now it asks; Cancel keeps it."""
    from PySide6.QtWidgets import QMessageBox

    window = make_window()
    del window.editing.ask_replace  # the real question
    open_folder(qtbot, window, image_folder)
    prediction = window.display.document.prediction.labels
    window.editing.editor.set_brush_size(30)
    key(window, Qt.Key.Key_3)  # a class the prediction does not use much
    drag(window, [(x, y) for y in (10, 30, 50) for x in range(5, W, 15)])
    corrected = labels(window).mask.copy()
    assert np.mean(corrected != prediction) > 0.05
    seen = []

    def answer(button) -> None:
        def press(box) -> None:
            seen.append(box.text())
            if button is None:
                QTest.keyClick(box, Qt.Key.Key_Escape)
            else:
                QTest.mouseClick(box.button(button), Qt.MouseButton.LeftButton)
        when_modal(press)

    answer(None)  # Escape: Cancel
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Accept prediction
    assert seen and seen[0].startswith("Replace this frame's labels with the model's "
                                       "prediction? It changes ")
    assert np.array_equal(labels(window).mask, corrected)
    assert window.statusBar().currentMessage() == "Kept this frame's labels"
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    answer(QMessageBox.StandardButton.Yes)
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert len(seen) == 2 and np.array_equal(labels(window).mask, prediction)
    # the prediction's own labels: nothing to lose, nothing asked
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert len(seen) == 2
    assert window.statusBar().currentMessage() == "The labels are the prediction already"
