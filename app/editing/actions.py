"""The editing actions and their keys: the Edit menu, the tools toolbar, and Save and
Autosave in the File menu. Only builds; the editing controller connects them."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QActionGroup, QUndoGroup
from PySide6.QtWidgets import QMenu, QToolBar

from app.context import WindowHost
from app.editing.tools import ToolName
from app.menus import MenuBar, Place
from app.widgets.icons import decorate

DIGITS = "1234567890"
#: the keys of classes 0..19: the digits for the first ten, Shift and the digits for the
#: next ten (Shift+1 is class 11); Ctrl+K finds any class by name
CLASS_KEYS = (*DIGITS, *(f"Shift+{d}" for d in DIGITS))
TOOL_KEYS = {ToolName.BRUSH: ("&Brush", "B"), ToolName.ERASER: ("&Eraser", "E"),
             ToolName.FILL: ("&Fill", "F"), ToolName.POLYGON: ("&Polygon", "P"),
             ToolName.PICKER: ("P&ick class", "I")}


@dataclass
class EditActions:
    tools: dict[ToolName, QAction]
    brush_smaller: QAction
    brush_larger: QAction
    classes: list[QAction]
    undo: QAction
    redo: QAction
    accept_prediction: QAction
    keep_confident: QAction
    replace_class: QAction
    find_class: QAction
    save: QAction
    autosave: QAction
    class_menu: QMenu


class _TextFollower(QObject):
    """Sets its action's text to `prefix` and the undo group's text; being the action's child,
    it stops listening when the action goes (whatever order the window's parts go in)."""

    def __init__(self, action: QAction, prefix: str) -> None:
        super().__init__(action)
        self._action, self._prefix = action, prefix

    @Slot(str)
    def follow(self, text: str) -> None:
        self._action.setText(f"{self._prefix} {text}".strip())


def build_edit_actions(host: WindowHost, menus: MenuBar, undo_group: QUndoGroup) -> EditActions:
    """Create the actions; put them in the Edit menu, Save and Autosave in the File menu,
    and add a tools toolbar. Undo and redo follow `undo_group` in text and state; the
    caller connects what they do."""
    action, parent = host.action, host.widget
    group = QActionGroup(parent)
    tools = {}
    for name, (text, key) in TOOL_KEYS.items():
        tools[name] = action(text, key, checkable=True, tip=f"{text.replace('&', '')} tool")
        group.addAction(tools[name])
    tools[ToolName.BRUSH].setChecked(True)
    undo = action("&Undo", "Ctrl+Z")
    redo = action("&Redo", "Ctrl+Shift+Z", "Ctrl+Y")
    for item, prefix, can, text in (
            (undo, "&Undo", undo_group.canUndoChanged, undo_group.undoTextChanged),
            (redo, "&Redo", undo_group.canRedoChanged, undo_group.redoTextChanged)):
        item.setEnabled(False)
        can.connect(item.setEnabled)
        text.connect(_TextFollower(item, prefix).follow)
    a = EditActions(
        tools=tools,
        brush_smaller=action("Brush s&maller", "[", tip="Smaller brush"),
        brush_larger=action("Brush &larger", "]", tip="Larger brush"),
        classes=[action(f"Class {i + 1}", key) for i, key in enumerate(CLASS_KEYS)],
        undo=undo,
        redo=redo,
        accept_prediction=action("&Accept prediction", "Ctrl+Return",
                                 tip="Make the model's prediction this frame's labels"),
        keep_confident=action("&Keep prediction where confident...",
                              tip="Take the prediction where its confidence is above a "
                                  "threshold, in this frame or a range of frames"),
        replace_class=action("&Replace class...",
                             tip="Replace one class by another in this frame or a range"),
        find_class=action("&Find class...", "Ctrl+K",
                          tip="Type part of a class name (or its number) and Enter to paint "
                              "with it"),
        save=action("&Save labels", "Ctrl+S", tip="Save this frame's labels now"),
        autosave=action("Auto&save labels", checkable=True,
                        tip="Save a frame's labels when leaving it"),
        class_menu=QMenu("&Class", parent),
    )
    a.class_menu.addAction(a.find_class)
    a.class_menu.addSeparator()
    for item in a.classes:
        a.class_menu.addAction(item)
    menus.add(Place.EDIT_HISTORY, a.undo, a.redo)
    menus.add(Place.EDIT_TOOLS, *a.tools.values(), a.brush_smaller, a.brush_larger, a.class_menu)
    menus.add(Place.EDIT_PREDICTION, a.accept_prediction, a.keep_confident, a.replace_class)
    menus.add(Place.FILE_LABELS, a.save, a.autosave)

    for item, name in ((a.undo, "undo"), (a.redo, "redo"), (a.accept_prediction, "accept"),
                       (a.save, "save"), *((item, str(name)) for name, item in tools.items())):
        decorate(item, name)
    toolbar = QToolBar("Tools", parent)
    toolbar.setObjectName("tools_toolbar")
    for item in (*a.tools.values(), None, a.undo, a.redo, None, a.accept_prediction, a.save):
        if item is None:
            toolbar.addSeparator()
        else:
            toolbar.addAction(item)
    host.add_toolbar(toolbar)
    return a
