"""Model versions of a project: v001.pt, v002.pt ... plus index.json and a current pointer.

Layout of the folder (normally `<project>/models`)::

    index.json   {"format": "segnet-studio-model-versions", "version": 1, "current": "v002",
                  "versions": [{"id": "v001", "file": "v001.pt", "parent": null,
                                "created": "...", "recipe": {...}, "miou_before": null,
                                "miou_after": null}, ...]}
    v001.pt      checkpoints (segnet_core.checkpoint format)

Every write is atomic (a checkpoint first, then the index), so a crash leaves at worst a
checkpoint file the index does not list yet; its number is never reused.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from segnet_core.atomic import atomic_write_bytes
from segnet_core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from segnet_core.choices import Choice
from segnet_core.errors import FileFormatError, SegNetError

INDEX_NAME = "index.json"
INDEX_FORMAT = "segnet-studio-model-versions"
INDEX_VERSION = 1
_FILE_PATTERN = re.compile(r"^v(\d{3,})\.pt$")


class ModelOrigin(Choice):
    """How a version's model was made (the "kind" of its recipe summary)."""

    FINE_TUNE = "fine-tune"  # by `run_finetune`
    TRAINED = "trained"  # by a training run (its checkpoint holds the recipe)
    IMPORTED = "imported"  # anything else (the shipped model, a file from elsewhere)


@dataclass(frozen=True)
class Version:
    """One saved model. `id` is "v001", "v002"...; `path` its checkpoint file."""

    id: str
    number: int
    path: Path
    parent: str | None
    created: str  # ISO 8601, UTC
    recipe: dict[str, Any] = field(default_factory=dict)
    miou_before: float | None = None  # held-out mIoU of the parent, when fine-tuned
    miou_after: float | None = None  # held-out mIoU of this model
    g_before: float | None = None  # held-out global pixel accuracy of the parent
    g_after: float | None = None  # and of this model (None in indexes before December 2026)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "file": self.path.name, "parent": self.parent,
                "created": self.created, "recipe": self.recipe,
                "miou_before": self.miou_before, "miou_after": self.miou_after,
                "g_before": self.g_before, "g_after": self.g_after}

    def held_out_figures(self) -> tuple[dict[str, float | None], dict[str, float | None]]:
        """(before, after) as `report.verdict` and `report.headline` take them."""
        return ({"miou": self.miou_before, "global_accuracy": self.g_before},
                {"miou": self.miou_after, "global_accuracy": self.g_after})


def recipe_summary(checkpoint: Checkpoint) -> dict[str, Any]:
    """The few facts about how a checkpoint was made that the version list shows."""
    fine_tune = checkpoint.training.get("fine_tune")
    if isinstance(fine_tune, dict):
        recipe = fine_tune.get("recipe", {})
        frames = fine_tune.get("frames", {})
        summary = {key: recipe.get(key) for key in
                   ("start", "epochs", "minutes", "lr", "batch_size", "size", "freeze_encoder",
                    "augment", "balance")}
        summary.update(kind=ModelOrigin.FINE_TUNE.value,
                       architecture=checkpoint.architecture.get("name"),
                       train_frames=len(frames.get("train", [])),
                       held_out_frames=len(frames.get("held_out", [])),
                       added_classes=list(fine_tune.get("added_classes", [])),
                       stopped=fine_tune.get("stopped"))
        return summary
    config = checkpoint.training.get("config")
    origin = ModelOrigin.TRAINED if isinstance(config, dict) else ModelOrigin.IMPORTED
    summary = {"kind": origin.value,
               "architecture": checkpoint.architecture.get("name"),
               "source": str(checkpoint.path) if checkpoint.path is not None else None}
    if isinstance(config, dict):
        summary.update({key: config.get(key) for key in ("epochs", "lr", "batch_size", "size")})
    return summary


def _float_or_none(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        return float(value)
    return None  # missing, not a number, or nan


def _held_out_g(scores: Any) -> float | None:
    """The global pixel accuracy of a `scores_to_json` dict (None when absent)."""
    return _float_or_none(scores.get("global_accuracy")) if isinstance(scores, dict) else None


class ModelVersions:
    """The model versions kept in `folder` (created on the first save).

    Safe to share between threads of one process (a lock guards every read-modify-write).
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.index_path = self.folder / INDEX_NAME
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- index
    def _read_index(self) -> dict[str, Any]:
        if not self.index_path.is_file():
            return {"format": INDEX_FORMAT, "version": INDEX_VERSION, "current": None,
                    "versions": []}
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise FileFormatError(self.index_path, f"unreadable model index ({error})") from None
        if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
            raise FileFormatError(self.index_path, "not a SegNet Studio model index")
        if data.get("version") != INDEX_VERSION:
            raise FileFormatError(self.index_path, f"model index version {data.get('version')!r}"
                                                   f" is not supported")
        if not isinstance(data.get("versions"), list):
            raise FileFormatError(self.index_path, "'versions' must be a list")
        return data

    def _write_index(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, indent=2, allow_nan=False)
        atomic_write_bytes(self.index_path, (text + "\n").encode("utf-8"))

    def _version(self, entry: Any) -> Version:
        try:
            match = _FILE_PATTERN.match(entry["file"])
            if match is None or entry["id"] != f"v{match.group(1)}":
                raise ValueError(f"bad id {entry.get('id')!r} / file {entry.get('file')!r}")
            return Version(id=entry["id"], number=int(match.group(1)),
                           path=self.folder / entry["file"], parent=entry.get("parent"),
                           created=str(entry.get("created", "")),
                           recipe=dict(entry.get("recipe") or {}),
                           miou_before=_float_or_none(entry.get("miou_before")),
                           miou_after=_float_or_none(entry.get("miou_after")),
                           g_before=_float_or_none(entry.get("g_before")),
                           g_after=_float_or_none(entry.get("g_after")))
        except (KeyError, TypeError, ValueError) as error:
            raise FileFormatError(self.index_path, f"damaged version entry: {error}") from None

    # ----------------------------------------------------------------- queries
    def list(self) -> list[Version]:
        """Every version, oldest first."""
        with self._lock:
            return sorted((self._version(e) for e in self._read_index()["versions"]),
                          key=lambda v: v.number)

    def get(self, version: Version | str | int) -> Version:
        """The version named by a Version, its id ("v003") or its number (3)."""
        if isinstance(version, Version):
            wanted = version.id
        elif isinstance(version, int) and not isinstance(version, bool):
            wanted = f"v{version:03d}"
        else:
            wanted = str(version)
        for candidate in self.list():
            if candidate.id == wanted:
                return candidate
        raise SegNetError(f"{self.folder}: there is no model version {wanted}")

    def saved_from(self, path: str | Path | None) -> Version | None:
        """The newest version saved as a copy of the model file at `path` (the project's
        original, when the model in use is still that file), or None."""
        if path is None:
            return None
        wanted = str(Path(path).resolve())
        for version in reversed(self.list()):
            source = version.recipe.get("source")
            if version.recipe.get("kind") != ModelOrigin.FINE_TUNE.value and source and \
                    str(Path(source).resolve()) == wanted:
                return version
        return None

    def load(self, version: Version | str | int) -> Checkpoint:
        """The checkpoint of a version (CheckpointError when its file is missing or bad)."""
        return load_checkpoint(self.get(version).path)

    @property
    def current(self) -> Version | None:
        """The version the project uses, or None before any is saved."""
        with self._lock:
            data = self._read_index()
            wanted = data.get("current")
            if wanted is None:
                return None
            found = [v for v in self.list() if v.id == wanted]
            if not found:
                raise FileFormatError(self.index_path, f"the current model {wanted!r} is not "
                                                       "among the versions listed")
            return found[0]

    def set_current(self, version: Version | str | int) -> Version:
        """Point the project at `version` (any version, earlier ones included)."""
        with self._lock:
            chosen = self.get(version)
            data = self._read_index()
            data["current"] = chosen.id
            self._write_index(data)
            return chosen

    # ----------------------------------------------------------------- saving
    def _next_number(self, data: dict[str, Any]) -> int:
        numbers = [self._version(e).number for e in data["versions"]]
        if self.folder.is_dir():
            numbers += [int(m.group(1)) for p in self.folder.iterdir()
                        if (m := _FILE_PATTERN.match(p.name))]
        return max(numbers, default=0) + 1

    def save(self, checkpoint: Checkpoint, parent: Version | str | int | None = None, *,
             make_current: bool | None = None) -> Version:
        """Save `checkpoint` as the next version and return it.

        parent: the version it was fine-tuned from; None takes the parent recorded by
            `run_finetune` (`training["fine_tune"]["parent"]["version"]`) when that version
            is in this folder.
        make_current: True / False; None (default) makes it current only when no version is
            current yet (a new fine-tuned model is used once the user accepts it:
            `set_current`).

        The saved file's training record gains "model_version" ({"id", "parent",
        "created"}), so a model loaded from here and fine-tuned again names its parent. The
        caller's checkpoint object is not modified.
        """
        with self._lock:
            data = self._read_index()
            known = {self._version(e).id for e in data["versions"]}
            if parent is not None:
                parent_id = self.get(parent).id
            else:
                recorded = (checkpoint.training.get("fine_tune") or {}).get("parent") or {}
                parent_id = recorded.get("version") if isinstance(recorded, dict) else None
                parent_id = parent_id if parent_id in known else None
            number = self._next_number(data)
            version_id = f"v{number:03d}"
            created = datetime.now(timezone.utc).isoformat(timespec="seconds")
            training = dict(checkpoint.training)
            training["model_version"] = {"id": version_id, "parent": parent_id,
                                         "created": created}
            path = self.folder / f"{version_id}.pt"
            save_checkpoint(path, dataclasses.replace(checkpoint, training=training,
                                                      resume=None, path=None))
            fine_tune = checkpoint.training.get("fine_tune") or {}
            version = Version(id=version_id, number=number, path=path, parent=parent_id,
                              created=created, recipe=recipe_summary(checkpoint),
                              miou_before=_float_or_none(fine_tune.get("miou_before")),
                              miou_after=_float_or_none(fine_tune.get("miou_after")),
                              g_before=_held_out_g(fine_tune.get("before")),
                              g_after=_held_out_g(fine_tune.get("after")))
            data["versions"].append(version.to_dict())
            if make_current or (make_current is None and data.get("current") is None):
                data["current"] = version_id
            self._write_index(data)
            return version
