"""What the window remembers between runs, through QSettings.

The settings live where Qt keeps them for the organisation and application "SegNet Studio",
unless the environment variable SEGNET_STUDIO_SETTINGS names an INI file to use instead
(tests point it into a temporary folder; it also gives a clean profile by hand).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from segnet_core.errors import SegNetError
from segnet_core.finetune import FineTuneSettings

SETTINGS_ENV = "SEGNET_STUDIO_SETTINGS"
ORGANIZATION = APPLICATION = "SegNet Studio"
MAX_RECENT = 10
DEFAULT_OPACITY = 0.5
DEFAULT_AUTOSAVE_SECONDS = 30
DEFAULT_BRUSH_SIZE = 9
MAX_MIN_AREA = 1_000_000  # the export dialog's largest COCO smallest region (px)


class Settings:
    """Typed access to the few values the window keeps."""

    def __init__(self, path: str | Path | None = None) -> None:
        path = path or os.environ.get(SETTINGS_ENV)
        if path:
            self._store = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self._store = QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                                    ORGANIZATION, APPLICATION)

    @property
    def file_name(self) -> str:
        return self._store.fileName()

    def sync(self) -> None:
        self._store.sync()

    # ------------------------------------------------------------ overlay

    @property
    def opacity(self) -> float:
        try:
            value = float(self._store.value("view/opacity", DEFAULT_OPACITY))
        except (TypeError, ValueError):
            return DEFAULT_OPACITY
        return min(1.0, max(0.0, value))

    @opacity.setter
    def opacity(self, value: float) -> None:
        self._store.setValue("view/opacity", float(value))

    @property
    def sort_by_estimate(self) -> bool:
        """Whether the frame list is sorted by estimated accuracy (off until turned on)."""
        return _as_bool(self._store.value("view/sort_by_estimate", False))

    @sort_by_estimate.setter
    def sort_by_estimate(self, on: bool) -> None:
        self._store.setValue("view/sort_by_estimate", bool(on))

    # ------------------------------------------------------------ editing

    @property
    def autosave(self) -> bool:
        """Save a frame's labels when leaving it (on unless turned off)."""
        return _as_bool(self._store.value("editing/autosave", True))

    @autosave.setter
    def autosave(self, on: bool) -> None:
        self._store.setValue("editing/autosave", bool(on))

    @property
    def autosave_seconds(self) -> int:
        """How often unsaved edits are written to the autosave folder (at least 1 s)."""
        return max(1, self._int("editing/autosave_seconds", DEFAULT_AUTOSAVE_SECONDS))

    @autosave_seconds.setter
    def autosave_seconds(self, seconds: int) -> None:
        self._store.setValue("editing/autosave_seconds", int(seconds))

    @property
    def brush_size(self) -> int:
        return max(1, self._int("editing/brush_size", DEFAULT_BRUSH_SIZE))

    @brush_size.setter
    def brush_size(self, size: int) -> None:
        self._store.setValue("editing/brush_size", int(size))

    def _json_dict(self, key: str) -> dict:
        """A JSON object stored under `key`; {} when none, or when it cannot be read back."""
        try:
            stored = json.loads(str(self._store.value(key, "") or "{}"))
        except ValueError:
            return {}
        return stored if isinstance(stored, dict) else {}

    def _int(self, key: str, default: int) -> int:
        try:
            return int(self._store.value(key, default))
        except (TypeError, ValueError):
            return default

    # ------------------------------------------------------------ export

    @property
    def export_formats(self) -> list[str]:
        """The formats last exported (none before the first export)."""
        return self._strings("export/formats")

    @export_formats.setter
    def export_formats(self, formats: list[str]) -> None:
        self._store.setValue("export/formats", list(formats))

    @property
    def export_choices(self) -> dict:
        """The export dialog's split, predictions box and COCO smallest region as last
        exported (`ExportDialog.set_choices`' keywords); the dialog's own defaults before, and
        for a value that cannot be read back."""
        stored = self._json_dict("export/choices")
        choices: dict = {}
        split = stored.get("split")
        if isinstance(split, list) and 1 <= len(split) <= 3 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1
                for v in split) and abs(sum(round(v, 2) for v in split) - 1) < 1e-6:
            choices["split"] = [round(float(v), 2) for v in split]  # as the boxes show them
        if isinstance(stored.get("predictions"), bool):
            choices["predictions"] = stored["predictions"]
        area = stored.get("min_area")
        if isinstance(area, int) and not isinstance(area, bool) and 0 <= area <= MAX_MIN_AREA:
            choices["min_area"] = area
        return choices

    @export_choices.setter
    def export_choices(self, choices: dict) -> None:
        self._store.setValue("export/choices", json.dumps(choices))

    #: How many projects' export folders (import sources) are remembered, the most recent
    PROJECTS_KEPT = 50

    def export_folder(self, project: str | Path) -> str:
        """The folder the frames of `project` (the folder of the images or video exported)
        were last exported to; '' when they never were. Another project's folder is never
        offered (a user's check: an export dialog offered the folder of another project)."""
        folder = self._json_dict("export/folders").get(str(project), "")
        return folder if isinstance(folder, str) else ""

    def set_export_folder(self, project: str | Path, folder: str | Path) -> None:
        self._set_of_project("export/folders", project, str(folder))

    # ------------------------------------------------------------ import

    def import_source(self, project: str | Path) -> tuple[str, str]:
        """The masks last imported into `project` (the folder imported for) and their format
        (an `ImportFormat` value); ('', '') when none were. Whether saved masks were
        replaced is not remembered: the dialog always starts with Replace off."""
        stored = self._json_dict("import/sources").get(str(project))
        if not (isinstance(stored, list) and len(stored) == 2
                and all(isinstance(part, str) for part in stored)):
            return "", ""
        return stored[0], stored[1]

    def set_import_source(self, project: str | Path, source: str | Path, fmt: str) -> None:
        self._set_of_project("import/sources", project, [str(source), fmt])

    # ------------------------------------------------------------ where the user left

    def left_at(self, source: str | Path) -> tuple[str, int | None] | None:
        """The frame shown when a window last closed on the frames of `source` (a folder of
        images, or a video): its file and its index in the video (None for an image);
        None when not known."""
        stored = self._json_dict("frames/left_at").get(str(source))
        if not (isinstance(stored, list) and len(stored) == 2 and isinstance(stored[0], str)
                and (stored[1] is None or type(stored[1]) is int)):
            return None
        return stored[0], stored[1]

    def set_left_at(self, source: str | Path, path: str | Path, index: int | None) -> None:
        self._set_of_project("frames/left_at", source, [str(path), index])

    def _set_of_project(self, key: str, project: str | Path, value) -> None:
        """Keep `value` for `project` in the JSON object under `key`: the most recent last,
        `PROJECTS_KEPT` projects at most."""
        values = self._json_dict(key)
        values.pop(str(project), None)
        values[str(project)] = value  # last: the most recent
        kept = list(values.items())[-self.PROJECTS_KEPT:]
        self._store.setValue(key, json.dumps(dict(kept)))

    # ------------------------------------------------------------ fine-tuning

    #: The fine-tuning settings the panel shows, remembered from the last run started; the
    #: device, precision and seed come from the command line, a held-out choice by hand
    #: belongs to its project (its share is kept).
    FINETUNE_FIELDS = ("start", "epochs", "minutes", "lr", "batch_size", "size",
                       "freeze_encoder", "augment", "balance", "holdout", "train_propagated")

    @property
    def finetune(self) -> FineTuneSettings:
        """The panel's settings of the last fine-tuning run started; the recipe's defaults
        before one, and for any value that cannot be read back (an older or edited file)."""
        stored = self._json_dict("training/finetune")
        settings = FineTuneSettings()
        for key in self.FINETUNE_FIELDS:  # one at a time: a bad value costs only itself
            if key not in stored:
                continue
            try:
                parsed = FineTuneSettings.from_dict({key: stored[key]})  # its type mended
                candidate = replace(settings, **{key: getattr(parsed, key)})
                candidate.validate()
            except (SegNetError, TypeError, ValueError):
                continue
            settings = candidate
        return settings

    @finetune.setter
    def finetune(self, settings: FineTuneSettings) -> None:
        values = {key: value for key, value in settings.to_dict().items()
                  if key in self.FINETUNE_FIELDS}
        if not isinstance(settings.holdout, float):  # frames ticked by hand: not kept
            values.pop("holdout")
        self._store.setValue("training/finetune", json.dumps(values))

    # ------------------------------------------------------------ window

    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/state", state)

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._store.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    # ------------------------------------------------------------ files

    def recent_files(self) -> list[str]:
        return self._strings("files/recent")[:MAX_RECENT]

    def add_recent(self, path: str | Path) -> list[str]:
        """Put `path` first in the recent files (at most ten, no repeats); the new list."""
        return self._add_first("files/recent", path)

    def recent_models(self) -> list[str]:
        """The checkpoints loaded last, newest first."""
        return self._strings("models/recent")[:MAX_RECENT]

    def add_recent_model(self, path: str | Path) -> list[str]:
        return self._add_first("models/recent", path)

    def _strings(self, key: str) -> list[str]:
        value = self._store.value(key, [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            value = [value]
        return [str(v) for v in (value or []) if v]

    def _add_first(self, key: str, path: str | Path) -> list[str]:
        """Put `path` first in the list `key` (at most ten, no repeats); the new list."""
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self._strings(key) if p != path]
        self._store.setValue(key, recent[:MAX_RECENT])
        return recent[:MAX_RECENT]

    def clear_recent(self) -> None:
        self._store.setValue("files/recent", [])

    @property
    def last_folder(self) -> str:
        return str(self._store.value("files/last_folder", "") or "")

    @last_folder.setter
    def last_folder(self, folder: str | Path) -> None:
        self._store.setValue("files/last_folder", str(folder))


def _as_bool(value) -> bool:
    """QSettings gives INI booleans back as the strings 'true' / 'false'."""
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off", "")
    return bool(value)
