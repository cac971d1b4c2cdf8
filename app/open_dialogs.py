"""The file dialogs of the File menu and its Recent files submenu."""

from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from segnet_core.io.images import IMAGE_EXTENSIONS
from segnet_core.io.video import VIDEO_EXTENSIONS

from app.settings import Settings


def _filter(kind: str, extensions: Sequence[str]) -> str:
    return f"{kind} ({' '.join('*' + e for e in extensions)});;All files (*)"


def ask_images(parent: QWidget, folder: str) -> list[str]:
    files, _ = QFileDialog.getOpenFileNames(parent, "Open images", folder,
                                            _filter("Images", IMAGE_EXTENSIONS))
    return files


def ask_folder(parent: QWidget, folder: str) -> list[str]:
    chosen = QFileDialog.getExistingDirectory(parent, "Open folder", folder)
    return [chosen] if chosen else []


def ask_video(parent: QWidget, folder: str) -> list[str]:
    file, _ = QFileDialog.getOpenFileName(parent, "Open video", folder,
                                          _filter("Videos", VIDEO_EXTENSIONS))
    return [file] if file else []


def ask_model(parent: QWidget, folder: str) -> str | None:
    file, _ = QFileDialog.getOpenFileName(parent, "Load model", folder,
                                          "Checkpoints (*.pt *.pth);;All files (*)")
    return file or None


def fill_recent_menu(menu: QMenu, settings: Settings,
                     open_paths: Callable[[list[str]], None]) -> None:
    """Rebuild `menu` from the recent files (call it on aboutToShow)."""
    menu.clear()
    recent = settings.recent_files()
    for path in recent:
        menu.addAction(path).triggered.connect(lambda _checked=False, p=path: open_paths([p]))
    if recent:
        menu.addSeparator()
        menu.addAction("Clear recent files").triggered.connect(settings.clear_recent)
    else:
        menu.addAction("(none)").setEnabled(False)
