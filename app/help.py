"""The Help menu: Getting started (a first session in eight steps,
`resources/getting_started.md`, which the README links to); Keyboard shortcuts (F1), read
from the menus themselves so that the list cannot drift from the keys that work, with the
canvas's mouse gestures that no menu holds; and About, which says what this copy is
(version, torch, the device and model in use)."""

from __future__ import annotations

import platform
from typing import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView,
                               QLabel, QMessageBox, QTableWidget, QTableWidgetItem, QTextBrowser,
                               QVBoxLayout)

from segnet_core import __version__
from segnet_core.resources import GETTING_STARTED

from app.context import FeatureContext
from app.menus import Place

#: What the canvas does with the mouse and held keys (no menu item holds these).
GESTURES = (
    ("Canvas", "Zoom at the cursor", "Ctrl+wheel"),
    ("Canvas", "Pan", "Space+drag, or drag with the middle button"),
    ("Canvas", "Paint, erase, fill or add a polygon corner (the tool chosen)", "Left button"),
    ("Canvas", "Close the polygon and fill it", "Enter, or double-click its last corner"),
    ("Canvas", "Drop the polygon or stroke being drawn", "Esc"),
    ("Canvas", "Take back the polygon's last corner", "Backspace, or Ctrl+Z while drawing it"),
)


class ShortcutsDialog(QDialog):
    """Every menu item with keys (menu, item, keys), then the canvas's gestures."""

    def __init__(self, rows: list[tuple[str, str, str]], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("The keys of every menu item, and what the canvas does with "
                                "the mouse. Menus show the same keys beside their items."))
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Menu", "Command", "Keys"])
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 560)

    def rows(self) -> list[tuple[str, str, str]]:
        return [tuple(self.table.item(row, column).text() for column in range(3))
                for row in range(self.table.rowCount())]


class GuideDialog(QDialog):
    """Help > Getting started: the guide's Markdown, shown as rich text."""

    def __init__(self, markdown: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Getting started")
        layout = QVBoxLayout(self)
        self.text = QTextBrowser(self)
        self.text.setMarkdown(markdown)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 620)


def guide_text() -> str:
    """The guide's Markdown; a line saying where it should be when it cannot be read."""
    try:
        return GETTING_STARTED.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return f"The guide could not be read: {GETTING_STARTED} ({error})"


class HelpMenu(QObject):
    """Help > Keyboard shortcuts and Help > About SegNet Studio. `model_text()` names the
    model in use for About (the window sets it)."""

    def __init__(self, context: FeatureContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.model_text: Callable[[], str] = lambda: "none loaded"
        self.dialog: ShortcutsDialog | None = None
        self.guide: GuideDialog | None = None
        action = context.host.action
        self.guide_action = action("&Getting started",
                                   tip="A first session in eight steps: open, segment, "
                                       "correct, propagate, fine-tune, export")
        context.menus.add(Place.HELP_START, self.guide_action)
        self.guide_action.triggered.connect(self.show_guide)
        self.keys_action = action("&Keyboard shortcuts", Qt.Key.Key_F1,
                                  tip="List every key and mouse gesture of the window")
        self.about_action = action("&About SegNet Studio",
                                   tip="Version, libraries, device and model in use")
        context.menus.add(Place.HELP_KEYS, self.keys_action)
        context.menus.add(Place.HELP_ABOUT, self.about_action)
        self.keys_action.triggered.connect(self.show_shortcuts)
        self.about_action.triggered.connect(self.show_about)

    def show_guide(self) -> GuideDialog:
        if self.guide is None:
            self.guide = GuideDialog(guide_text(), self.context.host.widget)
        self.guide.show()
        self.guide.raise_()
        return self.guide

    def show_shortcuts(self) -> ShortcutsDialog:
        """The list, made anew each time (features add their items as the window builds)."""
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = ShortcutsDialog(self.context.menus.shortcuts() + list(GESTURES),
                                      self.context.host.widget)
        self.dialog.show()
        return self.dialog

    def about_text(self) -> str:
        import torch
        from PySide6 import __version__ as pyside_version
        return (f"SegNet Studio {__version__}\n\nSegNet (Badrinarayanan, Kendall and Cipolla, "
                f"TPAMI 2017) for labelling images and video.\n\nModel: {self.model_text()}\n"
                f"Python {platform.python_version()}, torch {torch.__version__}, PySide6 "
                f"{pyside_version}\nCUDA: "
                f"{'available' if torch.cuda.is_available() else 'not available'}")

    def show_about(self) -> None:
        QMessageBox.about(self.context.host.widget, "About SegNet Studio", self.about_text())
