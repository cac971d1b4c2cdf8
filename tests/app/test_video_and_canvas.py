"""Videos in the frame list and timeline, drag-and-drop, thumbnails, zoom and pan."""

from __future__ import annotations

import cv2
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.frames import FrameRef
from tests.app.conftest import H, W, scene_image
from tests.app.test_drops import drag_and_drop, files_mime


def write_video(path, frames: int = 5):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (W, H))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(cv2.cvtColor(scene_image(30 + i), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_video_frames_are_rows_and_the_timeline_and_keys_step_through_them(
        qtbot, make_window, tmp_path):
    window = make_window(model=None)
    video = write_video(tmp_path / "clip.avi")
    window.open_paths([video])
    assert len(window.frames) == 5
    assert window.frames[2] == FrameRef(video.resolve(), 2)
    qtbot.waitUntil(lambda: window.current_key == window.frames[0], timeout=10000)
    assert window.timeline.isVisible() and window.timeline.slider.maximum() == 4

    window.actions.next_frame.trigger()  # D
    qtbot.waitUntil(lambda: window.current_key == window.frames[1], timeout=10000)
    assert window.timeline.slider.value() == 1 and window.timeline.label.text() == "frame 2 / 5"
    window.timeline.slider.setValue(4)  # dragging the slider
    qtbot.waitUntil(lambda: window.current_key == window.frames[4], timeout=10000)
    assert window.frame_view.currentIndex().row() == 4
    window.actions.previous_frame.trigger()  # A
    qtbot.waitUntil(lambda: window.current_key == window.frames[3], timeout=10000)
    assert window.display.document.image.shape == (H, W, 3)

    # a click on the slider away from the handle goes to the frame there, as in a video
    # player (it paged before: 10 frames, here to the first or the last), on the strip's
    # band too
    slider = window.timeline.slider
    for frame, y in ((1, slider.height() // 2), (2, 2)):
        QTest.mouseClick(slider, Qt.MouseButton.LeftButton,
                         pos=QPoint(round(slider.value_x(frame)), y))
        qtbot.waitUntil(lambda: window.current_key == window.frames[frame], timeout=10000)
        assert slider.value() == frame


def test_dropped_files_and_folders_open_and_get_thumbnails(qtbot, make_window, image_folder):
    window = make_window(model=None)
    viewport = window.canvas.viewport()  # delivered as Qt delivers a real drag
    accepted, _ = drag_and_drop(viewport, viewport.rect().center(), files_mime(image_folder))
    assert accepted
    qtbot.waitUntil(lambda: len(window.frames) == 4, timeout=5000)
    model = window.frames_model
    ref = window.frames[0]
    model.data(model.index(0), Qt.ItemDataRole.DecorationRole)  # asks for the thumbnail
    qtbot.waitUntil(lambda: ref in model._pixmaps, timeout=10000)
    thumbnail = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    assert (thumbnail.width(), thumbnail.height()) == (64, 43)  # 96x64 shrunk to fit 64x48
    assert "not segmented" in model.data(model.index(0), Qt.ItemDataRole.DisplayRole)


def _wheel(viewport, position: QPoint, notches: int, modifiers) -> None:
    event = QWheelEvent(QPointF(position), QPointF(viewport.mapToGlobal(position)),
                        QPoint(0, 0), QPoint(0, 120 * notches), Qt.MouseButton.NoButton,
                        modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)


def test_ctrl_wheel_zooms_at_the_cursor_and_fit_and_pan_work(qtbot, make_window, image_folder):
    window = make_window(model=None)
    window.open_paths([image_folder])
    qtbot.waitUntil(lambda: window.current_key is not None, timeout=10000)
    canvas = window.canvas
    fitted = canvas.scale_factor
    cursor = canvas.mapFromScene(QPointF(30.0, 20.0))
    before = canvas.mapToScene(cursor)
    _wheel(canvas.viewport(), cursor, 2, Qt.KeyboardModifier.ControlModifier)
    assert abs(canvas.scale_factor - fitted * 1.25 ** 2) < 1e-6
    after = canvas.mapToScene(cursor)
    assert abs(after.x() - before.x()) < 1.0 and abs(after.y() - before.y()) < 1.0

    scroll = canvas.verticalScrollBar().value()
    _wheel(canvas.viewport(), cursor, -1, Qt.KeyboardModifier.NoModifier)  # plain wheel
    assert abs(canvas.scale_factor - fitted * 1.25 ** 2) < 1e-6
    assert canvas.verticalScrollBar().value() > scroll

    viewport = canvas.viewport()
    centre = canvas.mapToScene(viewport.rect().center())
    start = viewport.rect().center()
    QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=start)
    QTest.mouseMove(viewport, start - QPoint(40, 0))  # drag the content to the left
    QTest.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=start - QPoint(40, 0))
    moved = canvas.mapToScene(viewport.rect().center())
    assert moved.x() > centre.x() + 1  # so the view now looks further right

    QTest.keyPress(canvas, Qt.Key.Key_Space)  # Space-drag pans too
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(viewport, start + QPoint(0, 30))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(0, 30))
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.mapToScene(viewport.rect().center()).y() < moved.y() - 1

    window.actions.fit.trigger()  # Ctrl+0
    assert abs(canvas.scale_factor - fitted) < 1e-6
