"""Files dropped anywhere in the window open, as a copy. Drags are delivered the way Qt
delivers a real one: to the widget under the cursor (`QApplication.widgetAt`), through
`QApplication.sendEvent`, so Qt walks up from there to a widget that takes the drop."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QToolBar, QWidget

from tests.app.conftest import write_png, scene_image

BOTH = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction


def files_mime(*paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drag_and_drop(widget: QWidget, point: QPoint, mime: QMimeData,
                  actions=BOTH) -> tuple[bool, Qt.DropAction | None]:
    """Drag `mime` over `point` of `widget` and drop it there as the user would: the events
    go to the widget under that point. (accepted at every step, the drop's action)."""
    window = widget.window()
    global_point = widget.mapToGlobal(point)
    target = QApplication.widgetAt(global_point)
    assert target is not None and (target is window or window.isAncestorOf(target))
    local = target.mapFromGlobal(global_point)
    args = (actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(local, *args)
    QApplication.sendEvent(target, enter)
    move = QDragMoveEvent(local, *args)
    QApplication.sendEvent(target, move)
    if not (enter.isAccepted() and move.isAccepted()):
        return False, None  # a real drag shows "no entry" and never drops
    drop = QDropEvent(QPointF(local), *args)
    QApplication.sendEvent(target, drop)
    return drop.isAccepted(), drop.dropAction() if drop.isAccepted() else None


def folder_of(tmp_path, name: str, count: int):
    folder = tmp_path / name
    folder.mkdir()
    for i in range(count):
        write_png(folder / f"{name}{i}.png", scene_image(10 + i))
    return folder


def test_files_dropped_on_the_image_open_as_a_copy(qtbot, make_window, tmp_path):
    window = make_window(model=None)
    first = folder_of(tmp_path, "first", 2)
    window.open_paths([first])
    qtbot.waitUntil(lambda: window.current_key is not None, timeout=10000)
    viewport = window.canvas.viewport()
    assert QApplication.widgetAt(viewport.mapToGlobal(viewport.rect().center())) is viewport
    second = folder_of(tmp_path, "second", 3)
    accepted, action = drag_and_drop(viewport, viewport.rect().center(), files_mime(second))
    assert accepted and action == Qt.DropAction.CopyAction
    qtbot.waitUntil(lambda: len(window.frames) == 5, timeout=5000)
    assert all(p.exists() for p in second.iterdir())  # copied, never moved
    qtbot.waitUntil(lambda: window.current_key == window.frames[2], timeout=10000)


def test_drops_on_the_frame_list_docks_and_toolbar_open_files(qtbot, make_window, tmp_path):
    window = make_window(model=None)
    window.resize(780, 640)  # the offscreen screen is 800 px wide: all of it on screen
    qtbot.waitUntil(lambda: window.width() == 780)
    list_view = window.frame_view.viewport()
    classes = next(d for d in window.findChildren(QDockWidget) if d.objectName() == "classes")
    toolbar = next(t for t in window.findChildren(QToolBar) if t.isVisible())
    image = write_png(tmp_path / "one.png", scene_image(1))
    places = [(list_view, list_view.rect().center()),
              (classes, QPoint(classes.width() // 2, 6)),  # its title bar
              (toolbar, QPoint(toolbar.width() // 2, toolbar.height() // 2))]
    for count, (widget, point) in enumerate(places, start=1):
        folder = folder_of(tmp_path, f"f{count}", 1)
        accepted, action = drag_and_drop(widget, point, files_mime(folder))
        assert accepted and action == Qt.DropAction.CopyAction, widget
        qtbot.waitUntil(lambda c=count: len(window.frames) == c, timeout=5000)
    accepted, _ = drag_and_drop(list_view, QPoint(5, 5), files_mime(image))
    assert accepted
    qtbot.waitUntil(lambda: len(window.frames) == 4, timeout=5000)


def test_a_drag_without_local_files_is_refused(qtbot, make_window):
    window = make_window(model=None)
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/street.png")])
    viewport = window.canvas.viewport()
    accepted, _ = drag_and_drop(viewport, viewport.rect().center(), mime)
    assert not accepted and len(window.frames) == 0
