"""The window's first screen and Help menu: the empty canvas says what to do first, F1 lists
every key the menus hold (submenus too) with the canvas's gestures, and About names the
version and the model in use."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu, QMessageBox

from segnet_core import __version__

from app.canvas.qimage import qimage_to_array
from tests.app.editing_helpers import key, open_folder, when_modal


def bright_pixels(window) -> int:
    """How many pixels of the canvas are light (text); its background is dark grey."""
    picture = qimage_to_array(window.canvas.viewport().grab().toImage())
    return int((picture[..., :3].min(axis=2) > 150).sum())


def test_the_empty_canvas_says_how_to_begin_until_frames_open(qtbot, make_window,
                                                              image_folder):
    window = make_window(model=None)
    assert window.canvas.placeholder.startswith("Open images, a folder or a video")
    assert "F1" in window.canvas.placeholder
    assert bright_pixels(window) > 200  # the hint is drawn
    hint = window.canvas.placeholder
    empty = image_folder.parent / "empty"
    empty.mkdir()
    window.open_paths([])  # nothing given (the start command without paths)
    window.open_paths([empty])  # a folder with no image or video
    assert window.canvas.placeholder == hint  # a user's check found the hint gone
    assert bright_pixels(window) > 200
    open_folder(qtbot, window, image_folder, model=False)
    assert window.canvas.placeholder == ""
    window.display.show(None)  # nothing shown (a frame that cannot be read): no stale hint
    assert bright_pixels(window) == 0


def test_f1_lists_every_key_of_the_menus_and_the_canvas_gestures(qtbot, make_window):
    window = make_window()
    key(window, Qt.Key.Key_F1)
    dialog = window.help.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    rows = dialog.rows()
    listed = {keys for _menu, _item, keys in rows}
    in_menus = [action for action in window.findChildren(QAction)
                if action.shortcuts() and any(isinstance(owner, QMenu)
                                              for owner in action.associatedObjects())]
    assert len(in_menus) > 30
    for action in in_menus:  # every key a menu item shows is listed, submenus' too; the
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)  # class keys
                         for k in action.shortcuts())  # past the model's 3 classes are not
        assert (keys in listed) == action.isVisible(), action.text()
    assert "3" in listed and "4" not in listed
    assert ("Edit", "Undo", "Ctrl+Z") in rows
    assert ("Edit", "Propagate labels to the next frames", "Ctrl+Shift+Right") in rows
    assert ("Go", "Next suggested frame", "N") in [(m, i.split(" (")[0], k) for m, i, k in rows]
    assert any(menu == "Canvas" and "Pan" in item for menu, item, _keys in rows)
    assert ("Canvas", "Close the polygon and fill it",
            "Enter, or double-click its last corner") in rows
    key(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_about_names_the_version_and_the_model_in_use(qtbot, make_window):
    """Help > About, clicked in the menu bar: its box says what this copy is."""
    window = make_window()
    assert [action.text() for action in window.menuBar().actions()][-1] == "&Help"
    bar = window.menuBar()
    help_item = bar.actions()[-1]
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton,
                     pos=bar.actionGeometry(help_item).center())
    menu = help_item.menu()
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    seen = []

    def read_and_close(box) -> None:  # the box is modal: read it from inside its loop
        seen.append((box.windowTitle(), box.text()))
        box.accept()

    when_modal(read_and_close, QMessageBox)
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton,
                     pos=menu.actionGeometry(window.help.about_action).center())
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    title, text = seen[0]
    assert title == "About SegNet Studio" and text == window.help.about_text()
    assert f"SegNet Studio {__version__}" in text
    assert window.model_info.name in text and str(window.model_info.device) in text
    assert "torch" in text


def test_getting_started_walks_a_first_session_with_keys_that_work(qtbot, make_window):
    """A newcomer's check: no getting-started guidance anywhere. Help > Getting started
    shows the guide the README links to; every key it names in brackets is a menu's."""
    import re

    from segnet_core.resources import GETTING_STARTED

    window = make_window()
    assert "Help > Getting started" in window.canvas.placeholder
    bar = window.menuBar()
    help_item = bar.actions()[-1]
    help_menu = help_item.menu()
    assert help_menu.actions()[0] is window.help.guide_action  # first in Help
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton,  # Help > Getting started, clicked
                     pos=bar.actionGeometry(help_item).center())
    qtbot.waitUntil(help_menu.isVisible, timeout=5000)
    QTest.mouseClick(help_menu, Qt.MouseButton.LeftButton,
                     pos=help_menu.actionGeometry(window.help.guide_action).center())
    dialog = window.help.guide
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    shown = dialog.text.toPlainText()
    assert shown.startswith("Getting started") and "Next suggested frame (N)" in shown
    assert "#" not in shown.splitlines()[0]  # drawn as a heading, not as Markdown source
    keys = {part.strip() for _menu, _item, listed in window.help.context.menus.shortcuts()
            for part in listed.split(",")}
    named = [token.strip() for token in re.findall(r"\(([^;,)]+)", GETTING_STARTED.read_text())
             if re.fullmatch(r"(Ctrl\+|Shift\+)*([A-Z0-9]|F\d+|Return|Right|Left)",
                             token.strip())]
    assert len(named) >= 12 and set(named) <= keys, set(named) - keys
    key(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
