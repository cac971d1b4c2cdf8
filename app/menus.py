"""The menu bar, built once from a typed registry: every menu and every group in it is a
`Place`; features attach their actions (or submenus) to a place by name, in any order, and
the menu shows its groups in the order below, a separator between non-empty groups."""

from __future__ import annotations

import enum

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar


class Menu(enum.Enum):
    """The window's menus, left to right; the value is the title."""

    FILE = "&File"
    EDIT = "&Edit"
    VIEW = "&View"
    GO = "&Go"
    SEGMENT = "&Segment"
    TRAIN = "&Train"
    HELP = "&Help"


class Place(enum.Enum):
    """A group of a menu, top to bottom within the menu."""

    FILE_OPEN = (Menu.FILE, "open")
    FILE_LABELS = (Menu.FILE, "labels")
    FILE_MODEL = (Menu.FILE, "model")
    FILE_EXPORT = (Menu.FILE, "export")
    FILE_QUIT = (Menu.FILE, "quit")
    EDIT_HISTORY = (Menu.EDIT, "history")
    EDIT_TOOLS = (Menu.EDIT, "tools")
    EDIT_PREDICTION = (Menu.EDIT, "prediction")
    EDIT_PROPAGATE = (Menu.EDIT, "propagate")
    VIEW_ZOOM = (Menu.VIEW, "zoom")
    VIEW_OVERLAY = (Menu.VIEW, "overlay")
    VIEW_FRAMES = (Menu.VIEW, "frames")
    VIEW_PANELS = (Menu.VIEW, "panels")
    GO_STEP = (Menu.GO, "step")
    GO_SUGGEST = (Menu.GO, "suggest")
    GO_PLAYBACK = (Menu.GO, "playback")
    SEGMENT_ALL = (Menu.SEGMENT, "all")
    TRAIN_FINETUNE = (Menu.TRAIN, "fine-tune")
    HELP_START = (Menu.HELP, "start")
    HELP_KEYS = (Menu.HELP, "keys")
    HELP_ABOUT = (Menu.HELP, "about")

    @property
    def menu(self) -> Menu:
        return self.value[0]


class MenuBar:
    """Owns the menus of `bar` (one per `Menu`, made at once); `add(place, item)` puts an
    action or a submenu at the end of its group."""

    def __init__(self, bar: QMenuBar) -> None:
        self._menus = {menu: bar.addMenu(menu.value) for menu in Menu}
        self._items: dict[Place, list[QAction | QMenu]] = {place: [] for place in Place}

    def menu(self, menu: Menu) -> QMenu:
        return self._menus[menu]

    def shortcuts(self) -> list[tuple[str, str, str]]:
        """(menu, item, keys) of every menu item that has keys, submenus included, in
        menu order: what Help > Keyboard shortcuts lists."""
        rows: list[tuple[str, str, str]] = []

        def walk(title: str, menu: QMenu) -> None:
            for action in menu.actions():
                if not action.isVisible():  # e.g. the class keys past the label set's
                    continue
                if action.menu() is not None:
                    walk(f"{title} > {plain(action.text())}", action.menu())
                elif action.shortcuts():
                    keys = ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText)
                                     for key in action.shortcuts())
                    rows.append((title, plain(action.text()), keys))

        for menu, widget in self._menus.items():
            walk(plain(menu.value), widget)
        return rows

    def add(self, place: Place, *items: QAction | QMenu) -> None:
        self._items[place].extend(items)
        self._fill(place.menu)

    def _fill(self, menu: Menu) -> None:
        target = self._menus[menu]
        target.clear()
        groups = [self._items[p] for p in Place if p.menu is menu and self._items[p]]
        for number, items in enumerate(groups):
            if number:
                target.addSeparator()
            for item in items:
                if isinstance(item, QMenu):
                    target.addMenu(item)
                else:
                    target.addAction(item)


def plain(text: str) -> str:
    """A menu text without its mnemonic marks and trailing dots: "&Open folder..." -> "Open
    folder"."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".").rstrip("…")
