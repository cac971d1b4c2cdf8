"""The editing actions with the keys of the README: the Edit menu, the tools toolbar, and
Save and Autosave in the File menu. Only builds; the editing layer connects them."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoGroup
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from app.editing.tools import BRUSH, ERASER, FILL, PICKER, POLYGON

CLASS_KEYS = "1234567890"  # keys of classes 0..9
TOOL_KEYS = {BRUSH: ("&Brush", "B"), ERASER: ("&Eraser", "E"), FILL: ("&Fill", "F"),
             POLYGON: ("&Polygon", "P"), PICKER: ("P&ick class", "I")}


@dataclass
class EditActions:
    tools: dict[str, QAction]
    brush_smaller: QAction
    brush_larger: QAction
    classes: list[QAction]
    undo: QAction
    redo: QAction
    accept_prediction: QAction
    keep_confident: QAction
    replace_class: QAction
    save: QAction
    autosave: QAction
    class_menu: QMenu


def _action(window: QMainWindow, text: str, *keys, checkable: bool = False,
            tip: str = "") -> QAction:
    action = QAction(text, window)
    if keys:
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setCheckable(checkable)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(f"{text.replace('&', '')} ({', '.join(keys)})" if keys else tip)
    window.addAction(action)
    return action


def build_edit_actions(window: QMainWindow, undo_group: QUndoGroup) -> EditActions:
    """Create the actions; add the Edit menu before View, Save and Autosave to the File menu
    and a tools toolbar. Undo and redo follow `undo_group` in text and state; the caller
    connects what they do."""
    group = QActionGroup(window)
    tools = {}
    for name, (text, key) in TOOL_KEYS.items():
        tools[name] = _action(window, text, key, checkable=True,
                              tip=f"{text.replace('&', '')} tool")
        group.addAction(tools[name])
    tools[BRUSH].setChecked(True)
    undo = _action(window, "&Undo", "Ctrl+Z")
    redo = _action(window, "&Redo", "Ctrl+Shift+Z", "Ctrl+Y")
    for action, prefix, can, text in (
            (undo, "&Undo", undo_group.canUndoChanged, undo_group.undoTextChanged),
            (redo, "&Redo", undo_group.canRedoChanged, undo_group.redoTextChanged)):
        action.setEnabled(False)
        can.connect(action.setEnabled)
        text.connect(lambda t, a=action, p=prefix: a.setText(f"{p} {t}".strip()))
    a = EditActions(
        tools=tools,
        brush_smaller=_action(window, "Brush s&maller", "[", tip="Smaller brush"),
        brush_larger=_action(window, "Brush &larger", "]", tip="Larger brush"),
        classes=[_action(window, f"Class {i + 1}", key) for i, key in enumerate(CLASS_KEYS)],
        undo=undo,
        redo=redo,
        accept_prediction=_action(window, "&Accept prediction", "Ctrl+Return",
                                  tip="Make the model's prediction this frame's labels"),
        keep_confident=_action(window, "&Keep prediction where confident...",
                               tip="Take the prediction where its confidence is above a "
                                   "threshold, in this frame or a range of frames"),
        replace_class=_action(window, "&Replace class...",
                              tip="Replace one class by another in this frame or a range"),
        save=_action(window, "&Save labels", "Ctrl+S", tip="Save this frame's labels now"),
        autosave=_action(window, "Auto&save labels", checkable=True,
                         tip="Save a frame's labels when leaving it"),
        class_menu=QMenu("&Class", window),
    )
    for action in a.classes:
        a.class_menu.addAction(action)

    bar = window.menuBar()
    menus = [action.menu() for action in bar.actions()]
    file_menu, view_menu = menus[0], menus[1]
    edit_menu = QMenu("&Edit", window)
    bar.insertMenu(view_menu.menuAction(), edit_menu)
    for item in (a.undo, a.redo, None, *a.tools.values(), a.brush_smaller, a.brush_larger,
                 a.class_menu, None, a.accept_prediction, a.keep_confident, a.replace_class):
        if item is None:
            edit_menu.addSeparator()
        elif isinstance(item, QMenu):
            edit_menu.addMenu(item)
        else:
            edit_menu.addAction(item)
    after_open = next((x for x in file_menu.actions() if x.isSeparator()), None)
    file_menu.insertSeparator(after_open)
    for item in (a.save, a.autosave):
        file_menu.insertAction(after_open, item)

    toolbar = QToolBar("Tools", window)
    toolbar.setObjectName("tools_toolbar")
    for action in (*a.tools.values(), None, a.undo, a.redo, None, a.accept_prediction,
                   a.save):
        if action is None:
            toolbar.addSeparator()
        else:
            toolbar.addAction(action)
    window.addToolBar(toolbar)
    return a
