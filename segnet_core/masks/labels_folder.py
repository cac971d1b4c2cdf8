"""Where corrected masks live: a `labels/` folder beside the images, one index PNG per
image named by the image's stem (`street.jpg` -> `labels/street.png`; frame 12 of
`clip.mp4` -> `labels/clip_000012.png`), with the label set beside them
(`labels/label_colors.txt`, or `labels/labels.json` when the .txt form cannot hold it).

Lists of frames kept beside the masks, one mask name per line (`NameList`): the frames the
user flagged to correct first (`labels/flagged.txt`: Next suggested frame and `rank` offer
them before the plan), and those holding propagated labels the user has not accepted yet
(`labels/propagated.txt`), and where propagated labels came from (`labels/propagated_from.txt`,
one "<mask> <- <mask it was carried from>" per line, from the moment they are carried and for
good: accepted, edited or undone).

Autosaves (crash insurance for edits not saved yet) go to `labels/.autosave/<name>.png`;
saving a mask removes its autosave, and `newer_autosaves()` lists those newer than their
mask, to offer back on start. An autosave holding propagated labels not accepted yet has a
marker beside it (`labels/.autosave/<name>.propagated`, empty), so it comes back marked as
such; labels carried from the model's own prediction have one too, which reads "model's
guess" (accepted or not: then "model's guess, accepted"), so they come back as its guess,
not as evidence. One small file per frame, so noting or clearing a mark never rewrites a
shared list.
Every mask, autosave and list is written atomically (temporary file beside it,
flush, fsync, rename): a kill at any moment leaves the old file or the new one under the
final name. Temporary files a kill left behind (`.<name>.<pid>.*.tmp`) match no mask
name, so readers never see them, and the next process to save into the folder removes them
(`segnet_core.atomic`).
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterable

import numpy as np

from segnet_core.atomic import (NAME_MAX, FileStamp, atomic_write_bytes, file_stamp,
                                fitted_name, stamp_of)
from segnet_core.errors import DataError, LabelSetError
from segnet_core.labels import LabelSet
from segnet_core.io.masks import read_mask, write_index_mask

LABELS_FOLDER = "labels"
AUTOSAVE_FOLDER = ".autosave"
PROPAGATED_MARKER = ".propagated"  # beside an autosave: it holds propagated labels
#: the marker's text: (propagated, carried from the model's own prediction) -> bytes
MARKER_TEXT = {(True, False): b"", (True, True): b"model's guess\n",
               (False, True): b"model's guess, accepted\n"}
LABEL_SET_TXT = "label_colors.txt"
LABEL_SET_JSON = "labels.json"
MASK_SUFFIX = ".png"


@dataclass(frozen=True)
class NameList:
    """A list of frames kept in the labels folder: `file`, one mask name per line (or what
    `per_line` says) after a `#` comment saying what it is; `what` names the list in
    messages."""

    file: str
    what: str
    comment: str
    per_line: str = "one mask name per line, as in this folder"


FLAGGED = NameList("flagged.txt", "the flagged frames", "Frames flagged to correct first")
PROPAGATED = NameList("propagated.txt", "the frames with propagated labels",
                      "Frames whose labels were propagated and not accepted yet")
AS_PREDICTED = NameList("as_predicted.txt", "the frames saved as predicted",
                        "Frames whose saved labels are a model's prediction taken as it is "
                        "(no evidence of how right a model is)")
#: which frames' labels were carried from which (`segnet_core.finetune.links`)
PROPAGATED_FROM = NameList("propagated_from.txt", "where propagated labels came from",
                           "Frames whose labels were propagated from another frame, even if "
                           "accepted, edited or undone since",
                           "one '<mask> <- <mask it was carried from>' per line")
LINK = " <- "  # between the two names of a `PROPAGATED_FROM` line


def link_line(name: str, source: str) -> str:
    """The list's line saying that mask `name`'s labels were carried from mask `source`."""
    return f"{name}{LINK}{source}"


def parse_link(line: str) -> tuple[str, str] | None:
    """(mask, the mask it was carried from) of a list's line; None for a line that is not
    one (a hand edit)."""
    name, found, source = line.partition(LINK)
    name, source = name.strip(), source.strip()
    return (name, source) if found and name and source and name != source else None


def carried_names(lines: Collection[str]) -> set[str]:
    """The masks a list's lines name as carried to: labels a propagation moved there from
    another frame, which where the flow was not trusted are the model's prediction (often
    most of the frame). Accepted or edited since, such a frame is no evidence of how right
    the model is: it does not level the estimates and does not score a model."""
    return set(carried_sources(lines))


def carried_sources(lines: Collection[str]) -> dict[str, tuple[str, ...]]:
    """Each mask a list's lines name as carried to, with the masks it was carried from
    (sorted; usually one)."""
    sources: dict[str, set[str]] = {}
    for link in map(parse_link, lines):
        if link is not None:
            sources.setdefault(link[0], set()).add(link[1])
    return {name: tuple(sorted(found)) for name, found in sources.items()}


def mask_name(image_path: str | Path, frame: int | None = None) -> str:
    """The mask file name of an image (`frame` None) or of a video's frame."""
    stem = Path(image_path).stem
    return f"{stem}{MASK_SUFFIX}" if frame is None else f"{stem}_{frame:06d}{MASK_SUFFIX}"


def frame_name(source: str | Path, frame: int | None) -> str:
    """What people call a frame: `street.png` for an image file, `clip.mp4 · frame 13` for
    the video frame of index 12 (mask `clip_000012.png`), counted from 1, as the window's
    list names it (a user's check: `rank` said frame 49 of the frame the window called frame
    50). `rank --json` and the export manifest give it as "frame", the index as "index"."""
    name = Path(source).name
    return name if frame is None else f"{name} · frame {frame + 1}"


def ignores_case(path: str | Path) -> bool | None:
    """Whether the file system holding the file `path` finds it under its name in another
    case too (macOS and Windows do, by default), where `good.png` and `Good.png` are one
    file; None when its name has no letter to tell by."""
    path = Path(path)
    other = path.with_name(path.name.swapcase())
    if other.name == path.name:
        return None
    try:
        return os.path.samefile(path, other)
    except OSError:  # no such file: the case counts
        return False


class MaskOwners:
    """Which frame each mask file belongs to. Two frames whose labels would go to one file
    (`good.jpg` and `good.png`; a still `clip_000000.png` beside `clip.avi`; `Good.jpg` and
    `good.png` where the file system ignores case) must not both be labelled: each save would
    overwrite the other's corrections (a user's check)."""

    def __init__(self) -> None:
        self._owners: dict[tuple[Path, str], tuple[str, str]] = {}  # -> (owner, mask name)
        self._case_ignored: dict[Path, bool] = {}  # by folder, once told

    def clash(self, image_path: str | Path, frames: Iterable[int | None] = (None,)) -> str:
        """Why the frames of `image_path` (None: the image file) cannot be labelled beside
        those claimed already; "" when they can."""
        for frame in frames:
            owner = self._owners.get(self._key(image_path, frame))
            if owner is not None:
                whose = "its" if frame is None else "a frame's"
                name, (owner, theirs) = mask_name(image_path, frame), owner
                same = (f"{LABELS_FOLDER}/{name}, the mask file of {owner}" if name == theirs
                        else f"{LABELS_FOLDER}/{name}, one file with {owner}'s "
                             f"{LABELS_FOLDER}/{theirs} on this file system (it ignores case)")
                return f"{whose} labels would be saved as {same}; rename one of them"
        return ""

    def claim(self, image_path: str | Path, frame: int | None, owner: str) -> None:
        self._owners[self._key(image_path, frame)] = (owner, mask_name(image_path, frame))

    def _key(self, image_path: str | Path, frame: int | None) -> tuple[Path, str]:
        folder, name = Path(image_path).parent, mask_name(image_path, frame)
        if folder not in self._case_ignored:
            told = ignores_case(image_path)
            if told is None:
                told = ignores_case(folder)
            if told is None:
                return folder, name  # not told yet: the next file will
            self._case_ignored[folder] = told
        return folder, (name.casefold() if self._case_ignored[folder] else name)


@dataclass(frozen=True)
class Recovery:
    """An autosave newer than its mask (or whose mask was never saved)."""

    name: str
    autosave: Path
    mask: Path
    propagated: bool = False  # it holds propagated labels the user had not accepted yet
    guess: bool = False  # and those labels were carried from the model's own prediction


class LabelsFolder:
    """The masks of the images in one folder. Files are addressed by `mask_name`s."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.autosave_root = self.root / AUTOSAVE_FOLDER

    @classmethod
    def beside(cls, image_path: str | Path) -> "LabelsFolder":
        """The labels folder of the folder holding `image_path`."""
        return cls(Path(image_path).parent / LABELS_FOLDER)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelsFolder) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def mask_path(self, name: str) -> Path:
        return self.root / name

    def autosave_path(self, name: str) -> Path:
        return self.autosave_root / name

    # ------------------------------------------------------------ reading

    def mask_names(self) -> set[str]:
        """Names of the saved masks (temporary files and hidden files left out)."""
        return {entry.name for entry in _pngs(self.root)}

    def mask_stamps(self) -> dict[str, FileStamp]:
        """The saved masks' names and stamps (`segnet_core.atomic.FileStamp`), to notice
        masks that appear, change or go."""
        stamps = {}
        for entry in _pngs(self.root):
            try:
                stamps[entry.name] = stamp_of(entry.stat())
            except FileNotFoundError:  # removed meanwhile
                continue
        return stamps

    def has_mask(self, name: str) -> bool:
        """Whether mask `name` is saved (never for a name too long for the file system)."""
        return _is_file(self.mask_path(name))

    def has_autosave(self, name: str) -> bool:
        return _is_file(self.autosave_path(name))

    def read(self, name: str, label_set: LabelSet) -> np.ndarray | None:
        """The saved mask `name`, or None when there is none; DataError when it is broken."""
        path = self.mask_path(name)
        return read_mask(path, label_set) if _is_file(path) else None

    def read_autosave(self, name: str, label_set: LabelSet) -> np.ndarray | None:
        path = self.autosave_path(name)
        return read_mask(path, label_set) if _is_file(path) else None

    def read_label_set(self) -> LabelSet | None:
        """The label set saved beside the masks, or None; LabelSetError when it is broken."""
        for file in (LABEL_SET_JSON, LABEL_SET_TXT):
            if (self.root / file).is_file():
                return LabelSet.read(self.root / file)
        return None

    def read_names(self, kind: NameList) -> set[str]:
        """The mask names listed in `kind`'s file (empty when there is none); DataError
        naming the file when it cannot be read. A byte-order mark (editors that save "UTF-8
        with BOM") is not part of the first name."""
        path = self.root / kind.file
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            return set()
        except (OSError, UnicodeDecodeError) as error:
            why = getattr(error, "strerror", None) or error  # the path is DataError's own
            raise DataError(path, f"cannot read {kind.what}: {why}") from error
        names = {line.strip() for line in text.splitlines()}
        return {name for name in names if name and not name.startswith("#")}

    def stamp(self, kind: NameList) -> FileStamp:
        """`kind`'s file's modification time (ns), size and inode, to notice that it changed
        since it was read or written (by hand, say); None when there is none or it cannot be
        looked at."""
        return file_stamp(self.root / kind.file)

    def newer_autosaves(self) -> list[Recovery]:
        """Autosaves newer than their saved mask, or without one, sorted by name."""
        found = []
        for name in sorted(entry.name for entry in _pngs(self.autosave_root)):
            autosave, mask = self.autosave_path(name), self.mask_path(name)
            try:
                newer = (not mask.exists()
                         or autosave.stat().st_mtime_ns > mask.stat().st_mtime_ns)
            except FileNotFoundError:  # removed meanwhile
                continue
            if newer:
                found.append(Recovery(name, autosave, mask, *self._read_marker(name)))
        return found

    def _read_marker(self, name: str) -> tuple[bool, bool]:
        """(propagated, the model's guess) as the autosave's marker says: none, neither; a
        marker that cannot be read, or reads otherwise, propagated (to be looked over)."""
        try:
            text = self._marker(name).read_bytes()
        except FileNotFoundError:
            return False, False
        except OSError:  # a marker's name too long too: it could not be written
            return True, False
        found = [state for state, said in MARKER_TEXT.items() if said == text]
        return found[0] if found else (True, False)

    # ------------------------------------------------------------ writing

    def save(self, name: str, mask: np.ndarray, label_set: LabelSet) -> FileStamp:
        """Write mask `name` as an index PNG (atomically), the label set beside it when it is
        missing or differs, and remove the mask's autosave. The stamp of the mask written
        (`write_index_mask`)."""
        self.write_label_set(label_set)
        stamp = write_index_mask(self.mask_path(name), mask, label_set)
        self.discard_autosave(name)
        return stamp

    def autosave(self, name: str, mask: np.ndarray, label_set: LabelSet,
                 propagated: bool = False, guess: bool = False) -> Path:
        """Write the autosave of mask `name` (atomically), marked as holding propagated labels
        not accepted yet when `propagated`, and labels carried from the model's own
        prediction when `guess`; its path. The marker claims before the mask is written
        whatever the old or the new one does, and just the new one's after, so a crash in
        between leaves labels marked for review or as the guess, never unmarked."""
        path = self.autosave_path(name)
        old = self._read_marker(name)
        both = (old[0] or propagated, old[1] or guess)
        self._mark_autosave(name, *both)
        write_index_mask(path, mask, label_set)
        if both != (propagated, guess):
            self._mark_autosave(name, propagated, guess)
        return path

    def write_names(self, kind: NameList, names) -> FileStamp:
        """List `names` (mask names) in `kind`'s file (atomically); with none, the file is
        removed. The stamp of the file written (None: removed), taken from the written file
        itself, so a change another program makes right after is not taken for ours."""
        path = self.root / kind.file
        if not names:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            return None
        text = (f"# {kind.comment} (SegNet Studio): {kind.per_line}.\n"
                + "".join(f"{name}\n" for name in sorted(names)))
        return atomic_write_bytes(path, text.encode("utf-8"))

    def remove(self, name: str) -> Path:
        """Remove mask `name` and its autosave (a frame back to no mask); its path. Nothing
        to remove is not an error."""
        path = self.mask_path(name)
        _remove_if_there(path)
        self.discard_autosave(name)
        return path

    def discard_autosave(self, name: str) -> None:
        _remove_if_there(self.autosave_path(name))
        self._mark_autosave(name, False)

    def _marker(self, name: str) -> Path:
        """The marker's file: `<name>.propagated`, or where that is longer than a file name
        may be (a mask name near the limit), the end of `name` gives way to a hash of it (a
        review: such autosaves all came back marked propagated)."""
        room = NAME_MAX - len(PROPAGATED_MARKER)
        return self.autosave_root / (fitted_name(name, room) + PROPAGATED_MARKER)

    def _mark_autosave(self, name: str, propagated: bool, guess: bool = False) -> None:
        """Put (atomically) or take away the marker of autosave `name`. Best effort: the
        marker only says how to show labels that come back, so a marker that cannot be
        written or removed never fails the save or autosave it goes with; without it a
        restored frame is simply not marked (and a stale one marks a restored frame that the
        user then accepts again)."""
        marker = self._marker(name)
        try:
            if propagated or guess:
                marker.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(marker, MARKER_TEXT[propagated, guess])
            else:
                marker.unlink()
        except OSError:  # not there to remove, or the folder cannot be written
            pass

    def write_label_set(self, label_set: LabelSet) -> Path:
        """Save `label_set` beside the masks unless the same one is there already: as
        label_colors.txt when that form holds it, else as labels.json."""
        try:
            if self.read_label_set() == label_set:
                return self._label_set_path()
        except LabelSetError:
            pass  # a broken file is replaced
        try:
            path = self.root / LABEL_SET_TXT
            label_set.write(path)
            stale = self.root / LABEL_SET_JSON
        except LabelSetError:
            path = self.root / LABEL_SET_JSON
            label_set.write(path)
            stale = self.root / LABEL_SET_TXT
        if stale.exists():
            stale.unlink()
        return path

    def _label_set_path(self) -> Path:
        json_path = self.root / LABEL_SET_JSON
        return json_path if json_path.is_file() else self.root / LABEL_SET_TXT


def _absent(error: OSError) -> bool:
    """Whether `error` says there is no such file: none by that name, or a name too long for
    the file system, which no file can have (a tester's video of a 248-character name: its
    frames' masks, one name each, crashed the frame loader)."""
    return isinstance(error, FileNotFoundError) or error.errno == errno.ENAMETOOLONG


def _is_file(path: Path) -> bool:
    """`path.is_file()`, False for a name too long (for which Python's raises)."""
    try:
        return path.is_file()
    except OSError as error:
        if _absent(error):
            return False
        raise


def _remove_if_there(path: Path) -> None:
    try:
        path.unlink()
    except OSError as error:
        if not _absent(error):
            raise


def _pngs(folder: Path) -> list[os.DirEntry]:
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [e for e in entries
            if e.name.endswith(MASK_SUFFIX) and not e.name.startswith(".") and e.is_file()]
