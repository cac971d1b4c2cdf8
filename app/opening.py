"""Opening frames: File > Open (images, folder, video, recent files) and dropped files.
What cannot be opened goes to the Problems dock; the first new frame is shown."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app import open_dialogs as dialogs
from app.actions import WindowActions
from app.context import FeatureContext
from app.navigation import NavigationController


class OpeningController(QObject):
    """Emits `framesOpened()` once new frames are listed, before the first is shown."""

    framesOpened = Signal()

    def __init__(self, context: FeatureContext, navigation: NavigationController,
                 actions: WindowActions, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.navigation = navigation
        a = actions
        a.open_images.triggered.connect(lambda: self._ask(dialogs.ask_images))
        a.open_folder.triggered.connect(lambda: self._ask(dialogs.ask_folder))
        a.open_video.triggered.connect(lambda: self._ask(dialogs.ask_video))
        a.recent_menu.aboutToShow.connect(lambda: dialogs.fill_recent_menu(
            a.recent_menu, context.settings, self.open_paths))

    def open_paths(self, paths: Iterable[str | Path]) -> None:
        """Open images, folders and videos; report what cannot be opened; show the first
        new frame."""
        context = self.context
        report = context.frames_model.add_paths(paths)
        for problem in report.problems:
            context.problems.add(problem.path, problem.reason)
        for path in report.opened:
            context.settings.add_recent(path)
            context.settings.last_folder = path if path.is_dir() else path.parent
        skipped = f"; {len(report.problems)} skipped (see Problems)" if report.problems else ""
        context.host.show_message(f"Opened {report.added} frame(s){skipped}")
        self.framesOpened.emit()
        if report.first_row is not None:
            self.navigation.show_row(report.first_row)

    def _ask(self, dialog: Callable[[QWidget, str], list[str]]) -> None:
        paths = dialog(self.context.host.widget, self.context.settings.last_folder)
        if paths:
            self.open_paths(paths)
