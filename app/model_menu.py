"""File > Models: the models to switch to without a file dialog. A model fine-tuned on a
folder lives in that folder's `labels/models/` (`segnet_core.finetune.ModelVersions`); it
is offered here for the frames open now (every version), for the folders and videos opened
recently (the version each segments with) and for the models loaded recently (with the other
versions of their folders), so a model tuned on a street's frames is at hand when the same
street is opened as a video, without every version of every recent project."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtWidgets import QMenu, QWidget

from segnet_core.errors import SegNetError
from segnet_core.finetune import ModelVersions, versions_folder
from segnet_core.finetune.report import version_figures

from app.context import FeatureContext


@dataclass(frozen=True)
class ModelEntry:
    text: str
    path: Path


def _versions(folder: Path, current_only: bool = False) -> list[ModelEntry]:
    """The versions kept in `folder`, newest first ([] when none or unreadable); with
    `current_only`, its current version alone (the newest when none is current)."""
    versions = ModelVersions(folder)
    try:
        listed, current = versions.list(), versions.current
    except SegNetError:
        return []
    place = folder.parent.parent.name or str(folder)
    if current_only and listed:
        listed = [current or listed[-1]]
    entries = []
    for version in reversed(listed):
        text = f"{place}: {version.id}"
        if version.recipe.get("kind") == "fine-tune":
            text += " fine-tuned"
        if version.miou_after is not None:
            text += f", held-out {version_figures(version)}"
        if current is not None and current.id == version.id:
            text += " (project's)"  # as the fine-tune panel marks it
        entries.append(ModelEntry(text, version.path))
    return entries


class ModelsMenu(QMenu):
    """Rebuilt each time it opens; choosing an entry calls `load(path)`. `in_use()` names
    the model loaded now (checked)."""

    def __init__(self, context: FeatureContext, load: Callable[[Path], None],
                 in_use: Callable[[], str | None], parent: QWidget | None = None) -> None:
        super().__init__("&Models", parent)
        self.context = context
        self._load = load
        self._in_use = in_use
        self.aboutToShow.connect(self.rebuild)

    def entries(self) -> tuple[list[ModelEntry], list[ModelEntry]]:
        """(the versions for the open frames, the recent ones), without repeats."""
        here: list[ModelEntry] = []
        for folder in _unique(versions_folder(ref.path) for ref in self._sample_frames()):
            here += _versions(folder)
        settings = self.context.settings
        recent: list[ModelEntry] = []
        for raw in settings.recent_models():
            path = Path(raw)
            versions = _versions(path.parent)
            if any(entry.path == path for entry in versions):
                recent += versions  # the model's folder, with the versions made since
            elif path.is_file():
                recent.append(ModelEntry(f"{path.name} ({path.parent})", path))
        for raw in settings.recent_files():  # the model each project segments with
            recent += _versions(versions_folder(Path(raw)), current_only=True)
        seen = {entry.path for entry in here}
        unique = []
        for entry in recent:
            if entry.path not in seen:
                seen.add(entry.path)
                unique.append(entry)
        return here, unique

    def rebuild(self) -> None:
        self.clear()
        here, recent = self.entries()
        in_use = self._in_use()
        for title, entries in (("For the open frames", here), ("Recent", recent)):
            if not entries:
                continue
            self.addSection(title)
            for entry in entries:
                action = self.addAction(entry.text)
                action.setCheckable(True)
                action.setChecked(in_use is not None and Path(in_use) == entry.path)
                action.setToolTip(str(entry.path))
                action.triggered.connect(lambda _checked=False, p=entry.path: self._load(p))
        if not here and not recent:
            self.addAction("(no models yet: load one, or fine-tune)").setEnabled(False)

    def _sample_frames(self):
        """One frame per labels folder is enough: a video's frames share one."""
        seen = set()
        for ref in self.context.frames:
            if ref.path.parent not in seen:
                seen.add(ref.path.parent)
                yield ref


def _unique(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path not in found:
            found.append(path)
    return found
