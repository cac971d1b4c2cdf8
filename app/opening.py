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
from app.frames import FrameRef, OpenReport
from app.navigation import NavigationController


def open_message(report: OpenReport) -> str:
    """What an open did, in a line: frames added (and from how many videos), paths that
    were open already (shown again), paths skipped."""
    parts = []
    if report.added or not report.already_open:
        videos = len(report.videos)
        parts.append(f"Opened {report.added} frame(s)"
                     + (f" ({videos} video{'s' if videos > 1 else ''})" if videos else ""))
    if report.already_open:
        names = ", ".join(path.name or str(path) for path in report.already_open[:3])
        more = f" and {len(report.already_open) - 3} more" if len(report.already_open) > 3 else ""
        parts.append(f"{names}{more} {'is' if len(report.already_open) == 1 else 'are'} "
                     "already open: showing it")
    if report.problems:
        parts.append(f"{len(report.problems)} skipped (see Problems)")
    return "; ".join(parts)


class OpeningController(QObject):
    """Emits `framesOpened()` once new frames are listed, before the first is shown;
    `last_opened` then holds the folders and files they came from, and `opened_into_empty`
    whether no frame was open before them."""

    framesOpened = Signal()

    def __init__(self, context: FeatureContext, navigation: NavigationController,
                 actions: WindowActions, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.navigation = navigation
        self.last_opened: list[Path] = []
        self.opened_into_empty = False
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
        empty = len(context.frames) == 0
        report = context.frames_model.add_paths(paths)
        for problem in report.problems:
            context.problems.add(problem.path, problem.reason)
        for path in report.opened:
            context.settings.add_recent(path)
            context.settings.last_folder = path if path.is_dir() else path.parent
        context.host.show_message(open_message(report))
        self.last_opened = [Path(path) for path in report.opened]
        self.opened_into_empty = empty
        self.framesOpened.emit()
        row = self._row_left_at() if empty and len(report.opened) == 1 else None
        if row is not None and row != report.first_row:
            name = context.frames[row].name
            context.host.show_message(f"{open_message(report)}; back at {name}, where you "
                                      "left it (Home: the first frame)")
        else:
            row = report.first_row
        if row is not None:
            self.navigation.show_row(row)

    def remember_where(self, ref) -> None:
        """The window closes on `ref`: reopened alone into an empty window, its folder of
        images (or its video) comes back to it (a user's check: always frame 1)."""
        if ref is None:
            return
        settings = self.context.settings
        settings.set_left_at(ref.source.resolve(), ref.path, ref.index)
        if ref.is_video_frame:  # its folder opened as a folder comes back to it too
            settings.set_left_at(ref.path.parent.resolve(), ref.path, ref.index)

    def _row_left_at(self) -> int | None:
        """The row of the frame the folder or video just opened was left at, if listed."""
        left = self.context.settings.left_at(self.last_opened[0].resolve())
        if left is None:
            return None
        return self.context.frames.row_of(FrameRef(Path(left[0]), left[1]))

    def _ask(self, dialog: Callable[[QWidget, str], list[str]]) -> None:
        paths = dialog(self.context.host.widget, self.context.settings.last_folder)
        if paths:
            self.open_paths(paths)
