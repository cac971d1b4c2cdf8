"""The menus, built once from the registry: every feature's actions in their menu and group,
driven through the keyboard as a user would."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.menus import Menu, Place
from tests.app.editing_helpers import drag, key, open_folder


def texts(menu) -> list[str]:
    return [action.text() for action in menu.actions()]


def test_the_menu_bar_holds_every_features_actions_in_order(qtbot, make_window):
    window = make_window(model=None)
    assert texts(window.menuBar()) == [menu.value for menu in Menu]
    assert texts(window.menus.menu(Menu.FILE)) == [
        "&Open image(s)...", "Open &folder...", "Open &video...", "&Recent files", "",
        "&Save labels", "Auto&save labels", "&Import labels...", "", "&Load model...",
        "&Models", "", "&Export...", "", "&Quit"]
    assert texts(window.menus.menu(Menu.GO)) == [
        "&Next frame", "&Previous frame", "Fi&rst frame", "&Last frame", "",
        "Next &suggested frame",
        "&Flag frame to correct first", "", "&Play / pause",
        "&Go to frame..."]
    assert texts(window.menus.menu(Menu.TRAIN)) == ["&Fine-tune on corrected frames..."]
    edit = texts(window.menus.menu(Menu.EDIT))
    assert edit[:3] == ["&Undo", "&Redo", ""] and edit[-7:] == [
        "&Accept prediction", "&Keep prediction where confident...", "&Replace class...", "",
        "Propa&gate labels to the next frames...", "Propagate labels to the pre&vious frames...",
        "Accep&t propagated labels"]


def test_a_late_action_joins_its_group_and_undo_follows_the_frame(
        qtbot, make_window, image_folder):
    window = make_window(model=None)
    late = window.context.host.action("Late")
    window.menus.add(Place.FILE_OPEN, late)
    assert texts(window.menus.menu(Menu.FILE))[:5] == [
        "&Open image(s)...", "Open &folder...", "Open &video...", "&Recent files", "Late"]

    open_folder(qtbot, window, image_folder, model=False)
    undo = window.editing.actions.undo
    assert undo.text() == "&Undo" and not undo.isEnabled()
    drag(window, [(10, 10), (20, 12)])
    assert undo.text() == "&Undo Brush stroke" and undo.isEnabled()
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert undo.text() == "&Undo" and window.editing.actions.redo.text() == "&Redo Brush stroke"


def test_ctrl_e_opens_the_export_dialog(qtbot, make_window):
    window = make_window(model=None)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    key(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.exporter.dialog is not None and
                    window.exporter.dialog.isVisible(), timeout=5000)
    window.exporter.dialog.reject()
