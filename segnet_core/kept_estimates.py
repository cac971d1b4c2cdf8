"""Frame estimates kept between sessions, so that a video or folder opened again shows how
right the model is on every frame without segmenting it all again (Segment all over a
9,000-frame video takes ~14 CPU-minutes with the shipped model).

What is kept, per model and per source (a video file, or a folder of images): each frame's
estimated accuracy as the model's calibration gave it (before any levelling), and, for
corrected frames, how right the model really was by the saved mask, or that the mask says
nothing of it (mostly void, or unreadable: `quality.labelled_accuracy`). Each value is kept with
the stamp (`segnet_core.atomic.FileStamp`) of what it was computed from: the image file (the
video file for a video's frames) and, for a real accuracy, the mask file too. A value whose
files changed since is not given back; nor is anything of a model whose file changed (the
model's key is its path and stamp). Nothing here is the user's work: a file that cannot be
read is taken as empty, and is written anew at the next save.

Layout: `<root>/<model key>/<source key>.json`, one small JSON file each (a 9,000-frame video
is about 600 KB: `benchmarks/kept_estimates.py`); the folders of all but the `KEEP_MODELS`
most recently written models are removed (a fine-tune round makes a new model each time),
and past `KEEP_BYTES` in all the least recently written files.
The window writes only the frames whose values changed since it last wrote (every few
seconds), each with the stamp its image (or video) file had when the value came, and its
mask's as it is when written. A source's file is read, merged and replaced under a lock
(`<file>.lock`, the `filelock` package: an OS lock, let go if its holder dies), so that the
window and `segnet-studio rank` writing the same source at once both keep what they add; it
is read under it too (on Windows a file open for reading cannot be replaced).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Union

from filelock import FileLock

from segnet_core.atomic import FileStamp, atomic_write_bytes, file_stamp, stamp_of
from segnet_core.masks.labels_folder import LABELS_FOLDER, LabelsFolder, mask_name

FORMAT = "segnet-studio kept estimates 1"
#: The folder the estimates are kept in, when set (an empty value: keep none)
CACHE_ENV = "SEGNET_STUDIO_CACHE"
KEEP_MODELS = 12  # models whose estimates are kept (the most recently written)
KEEP_BYTES = 256 * 2 ** 20  # and at most this much in all: the newest files first
#: How long a write waits for another's lock on the same file (a read, merge and replace of
#: a small file: milliseconds) before it gives up with an OSError (TimeoutError)
LOCK_WAIT_S = 10.0

#: A frame within its source: an image's file name, or a video frame's index (from 0)
FrameKey = Union[str, int]


@dataclass
class SourceEstimates:
    """A source's kept values for one model, by `FrameKey`: estimated accuracy (0..1, before
    levelling), the real accuracy measured on corrected frames (0..1), and the corrected
    frames whose mask was read and says nothing of it (`silent`: mostly void, unreadable)."""

    estimates: dict[FrameKey, float] = field(default_factory=dict)
    measured: dict[FrameKey, float] = field(default_factory=dict)
    silent: set[FrameKey] = field(default_factory=set)


def estimates_folder() -> Path | None:
    """Where the window and `segnet-studio rank` keep the estimates: `CACHE_ENV`'s folder
    when it is set (None when it is empty: keep none), else "segnet-studio/estimates" in the
    user's cache folder, the one Qt's QStandardPaths.GenericCacheLocation names (~/.cache or
    $XDG_CACHE_HOME on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA%/cache on Windows:
    found here without Qt, for the commands)."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return Path(value) if value else None
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = (Path(local) if local else Path.home() / "AppData" / "Local") / "cache"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "segnet-studio" / "estimates"


def frame_source(path: str | Path, frame: int | None) -> tuple[Path, bool, FrameKey]:
    """Where a frame's values are kept: its source (a video file, or the folder of an
    image), whether that is a video, and the frame's key there (index, or file name)."""
    path = Path(path)
    if frame is not None:
        return path, True, int(frame)
    return path.parent, False, path.name


def model_key(path: str | Path) -> str | None:
    """The key of the model file `path` as it is now (its absolute path and stamp: a file
    rewritten gets a new key); None when it cannot be looked at."""
    stamp = file_stamp(path)
    if stamp is None:
        return None
    return _digest(f"{FORMAT}\n{Path(path).resolve()}\n{stamp}")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


class EstimateStore:
    """The kept estimates under `root` (created when first written)."""

    def __init__(self, root: str | Path, keep_models: int = KEEP_MODELS,
                 keep_bytes: int = KEEP_BYTES) -> None:
        self.root = Path(root)
        self.keep_models = keep_models
        self.keep_bytes = keep_bytes

    def path_of(self, model: str, source: str | Path) -> Path:
        return self.root / model / f"{_digest(str(Path(source).resolve()))}.json"

    # ------------------------------------------------------------ reading

    def load(self, model: str, source: str | Path, video: bool) -> SourceEstimates:
        """The values kept for `source` (a video file when `video`, else a folder of images)
        under `model` whose files have not changed since; empty when none are kept or the
        file cannot be read."""
        source = Path(source)
        kept = SourceEstimates()
        path = self.path_of(model, source)
        if not path.is_file():
            return kept
        with _reading_lock(path):  # Windows: no write replaces the file while it is open
            stored = self._read(model, source)
        if stored is None:
            return kept
        images = _image_stamps(source, video)
        masks = _mask_stamps(source, video)
        for text, entry in stored.get("frames", {}).items():
            try:
                key = int(text) if video else str(text)
                image_stamp = images(key)
                if image_stamp is None or _stamp(entry.get("image")) != image_stamp:
                    continue  # its image changed, or is gone: nothing of it holds
                if entry.get("estimate") is not None:
                    kept.estimates[key] = _fraction(entry["estimate"])
                mask_stamp = masks.get(_mask_of(source, video, key))
                if mask_stamp is None or _stamp(entry.get("mask")) != mask_stamp:
                    continue  # no mask, or another one since: its real accuracy is unknown
                if entry.get("real") is None:
                    kept.silent.add(key)
                else:
                    kept.measured[key] = _fraction(entry["real"])
            except (TypeError, ValueError, AttributeError, ArithmeticError):
                continue  # one bad entry: that frame is estimated again
        return kept

    def _read(self, model: str, source: Path) -> dict | None:
        path = self.path_of(model, source)
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            return None  # RecursionError: a damaged file nested too deep
        if not isinstance(stored, dict) or stored.get("format") != FORMAT or \
                not isinstance(stored.get("frames"), dict):
            return None
        return stored

    # ------------------------------------------------------------ writing

    def save(self, model: str, source: str | Path, video: bool, frames: set[FrameKey],
             kept: SourceEstimates,
             image_stamps: dict[FrameKey, FileStamp] | None = None) -> Path:
        """Keep `kept` for the `frames` of `source` (those whose values changed: what it
        holds of them replaces what was kept, a frame it has nothing for loses its entry;
        other frames' entries stay as they were, stamps and all), each stamped with its
        files as they are now, or with the stamp `image_stamps` gives its image (taken when
        its value was computed: None, no such file then); the file written. OSError when it
        cannot be written."""
        return self.save_stamped(model, source, video, frames, kept, image_stamps)[0]

    def save_stamped(self, model: str, source: str | Path, video: bool,
                     frames: set[FrameKey], kept: SourceEstimates,
                     image_stamps: dict[FrameKey, FileStamp] | None = None
                     ) -> tuple[Path, FileStamp]:
        """`save`, and the file's stamp as this write left it (taken under the lock: a write
        by another program after it changes the stamp)."""
        source = Path(source)
        path = self.path_of(model, source)
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{path}.lock", timeout=LOCK_WAIT_S):
            self._merge(model, source, video, frames, kept, image_stamps)
            stamp = file_stamp(path)
        self.prune()
        return path, stamp

    def _merge(self, model: str, source: Path, video: bool, frames: set[FrameKey],
               kept: SourceEstimates,
               image_stamps: dict[FrameKey, FileStamp] | None) -> None:
        """`save`'s read, merge and replace, under the file's lock."""
        stored = self._read(model, source) or {"frames": {}}
        replaced = {str(key) for key in frames}
        entries = {text: entry for text, entry in stored["frames"].items()
                   if text not in replaced}
        images = _image_stamps(source, video)
        masks = _mask_stamps(source, video)
        for key in frames:
            image_stamp = image_stamps[key] if image_stamps is not None and \
                key in image_stamps else images(key)
            if image_stamp is None:
                continue
            entry: dict = {"image": list(image_stamp)}
            if key in kept.estimates:
                entry["estimate"] = float(kept.estimates[key])  # exact: prints the same
            mask_stamp = masks.get(_mask_of(source, video, key))
            if mask_stamp is not None and (key in kept.measured or key in kept.silent):
                if key in kept.measured:
                    entry["real"] = float(kept.measured[key])
                entry["mask"] = list(mask_stamp)  # alone: the mask says nothing
            if len(entry) > 1:
                entries[str(key)] = entry
        data = {"format": FORMAT, "source": str(source.resolve()), "frames": entries}
        atomic_write_bytes(self.path_of(model, source),
                           json.dumps(data, separators=(",", ":")).encode("utf-8"))

    def copy_model(self, model: str, copy: str) -> int:
        """Keep for the model `copy` what is kept for `model` (a file holding the same
        model: a project's original version saved from the model in use): each source's
        file is copied over the copy's file of that source; how many were copied. OSError
        when they cannot be."""
        try:
            files = [Path(entry.path) for entry in os.scandir(self.root / model)
                     if entry.name.endswith(".json") and entry.is_file()]
        except FileNotFoundError:
            return 0
        for file in files:
            target = self.root / copy / file.name
            target.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(f"{target}.lock", timeout=LOCK_WAIT_S):
                atomic_write_bytes(target, file.read_bytes())
        return len(files)

    def prune(self) -> list[Path]:
        """Remove the folders of all but the `keep_models` most recently written models, then
        the least recently written files past `keep_bytes` in all (many videos); the folders
        and files removed."""
        try:
            folders = [Path(entry.path) for entry in os.scandir(self.root) if entry.is_dir()]
        except OSError:
            return []
        folders.sort(key=_modified, reverse=True)
        removed = []
        for folder in folders[self.keep_models:]:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        files = []
        for folder in folders[:self.keep_models]:
            try:  # not the lock files: another may hold one (they are empty)
                files += [(entry.stat(), Path(entry.path)) for entry in os.scandir(folder)
                          if entry.name.endswith(".json")]
            except OSError:
                continue
        files.sort(key=lambda found: found[0].st_mtime_ns, reverse=True)
        total = 0
        for stat, path in files:
            total += stat.st_size
            if total > self.keep_bytes:
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    continue  # open elsewhere (Windows): next time
                removed.append(path)
        return removed


class ModelEstimates:
    """One model's kept values as a command reads and adds to them, frame by frame: a
    source's file is read when a frame of it is first asked for (`get`; with `read` False
    nothing is given, all is computed again and kept); `put` notes a frame's values anew,
    and `save` writes the frames put since, each stamped with its files as they are then.
    `given`: how many frames the command took from here (`ranking.rank_inputs` says)."""

    def __init__(self, store: EstimateStore, model: str, read: bool = True) -> None:
        self.store = store
        self.model = model
        self.read = read
        self.given = 0
        self._read: dict[tuple[Path, bool], SourceEstimates] = {}
        self._put: dict[tuple[Path, bool], SourceEstimates] = {}
        self._resolved: dict[Path, Path] = {}  # each source resolved once, not each frame

    def get(self, path: str | Path, frame: int | None) -> tuple[float | None, float | None]:
        """The estimate and the real accuracy kept for frame `frame` of `path` (None for an
        image), each None when none is kept or its files changed since."""
        kept, key = self._kept(path, frame)
        return kept.estimates.get(key), kept.measured.get(key)

    def said_nothing(self, path: str | Path, frame: int | None) -> bool:
        """Whether the frame's mask, as it is now, was read and says nothing of how right the
        model is (`put` with `silent`): it need not be read again."""
        kept, key = self._kept(path, frame)
        return key in kept.silent

    def _kept(self, path: str | Path, frame: int | None) -> tuple[SourceEstimates, FrameKey]:
        if not self.read:
            return SourceEstimates(), 0
        where, key = self._where(path, frame)
        kept = self._read.get(where)
        if kept is None:
            kept = self._read[where] = self.store.load(self.model, *where)
        return kept, key

    def put(self, path: str | Path, frame: int | None, estimate: float,
            real: float | None = None, silent: bool = False) -> None:
        """A frame's values as computed now (`real`: how right the model is by its mask;
        None: no mask, or it says nothing, which `silent` tells: a mask was read and says
        nothing), kept at the next `save`."""
        where, key = self._where(path, frame)
        values = self._put.setdefault(where, SourceEstimates())
        values.estimates[key] = float(estimate)
        values.measured.pop(key, None)
        values.silent.discard(key)
        if real is not None:
            values.measured[key] = float(real)
        elif silent:
            values.silent.add(key)

    def _where(self, path: str | Path, frame: int | None) -> tuple[tuple[Path, bool], FrameKey]:
        source, video, key = frame_source(path, frame)
        resolved = self._resolved.get(source)
        if resolved is None:
            resolved = self._resolved[source] = source.resolve()
        return (resolved, video), key

    def save(self) -> None:
        """Write the frames put since the last save; OSError when they cannot be (they
        are then dropped: computed again next time)."""
        put, self._put = self._put, {}
        for (source, video), values in put.items():
            self.store.save(self.model, source, video, set(values.estimates), values)


@contextmanager
def _reading_lock(path: Path) -> Iterator[None]:
    """`path`'s lock while it is read; none when it cannot be had (a folder not writable, a
    writer hung past `LOCK_WAIT_S`): it is read as it is (on POSIX a replace never shows a
    reader half a file)."""
    lock = FileLock(f"{path}.lock", timeout=LOCK_WAIT_S)
    try:
        lock.acquire()
    except OSError:
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _modified(folder: Path) -> int:
    """When a model's folder was last written: its newest file's time."""
    try:
        return max((entry.stat().st_mtime_ns for entry in os.scandir(folder)),
                   default=folder.stat().st_mtime_ns)
    except OSError:
        return 0


def _image_stamps(source: Path, video: bool):
    """A function from a `FrameKey` to the stamp of the file its image comes from (None:
    none); a folder is listed once."""
    if video:
        stamp = file_stamp(source)
        return lambda _key: stamp
    stamps: dict[str, FileStamp] = {}
    try:
        for entry in os.scandir(source):
            try:
                stamps[entry.name] = stamp_of(entry.stat())
            except OSError:
                continue
    except OSError:
        pass
    return lambda key: stamps.get(key) if isinstance(key, str) else None


def _mask_stamps(source: Path, video: bool) -> dict[str, FileStamp]:
    """The stamps of the saved masks in the labels folder of `source`'s frames (none when
    it cannot be read: no real accuracy comes back)."""
    folder = LabelsFolder.beside(source) if video else LabelsFolder(source / LABELS_FOLDER)
    try:
        return folder.mask_stamps()
    except OSError:
        return {}


def _mask_of(source: Path, video: bool, key: FrameKey) -> str:
    """The mask file name of a frame of `source`."""
    return mask_name(source, key) if video else mask_name(source / key)


def _stamp(value) -> FileStamp:
    if not isinstance(value, list) or len(value) != 3 or \
            not all(isinstance(part, int) and not isinstance(part, bool) for part in value):
        return None
    return tuple(value)


def _fraction(value) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"not a fraction: {value!r}")
    return number
