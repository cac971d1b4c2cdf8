"""Lists of frames kept in the labels folders (`segnet_core.masks.labels_folder.NameList`: the
flagged frames, the frames with propagated labels not accepted yet), one file per folder, in
step with what the window holds.

Each folder's file is read here when first asked for (it is small) and written off the GUI
thread after each change (one write at a time, in order); a file that cannot be read or
written goes to View > Problems, naming it. A file whose text cannot be read (not UTF-8) is
moved aside to `<file>.broken` (or `.broken-2`, ... when that is taken) before the folder's
list is next written, so nothing in it is lost; one that cannot be got at (no permission, a
folder in the way) is left alone and the write fails, to be retried.

The file may change behind our back (edited by hand, or by a second window). Its modification
time, size and inode are noted whenever we read or write it (a write's from the file it wrote,
so a change right after is not taken for ours); `refresh()` looks at each known folder's file
(one stat) and reads it again if it changed. A change made in place within the file system's
timestamp tick of our look (a few ms; 2 s on FAT) that keeps the size leaves the stamp as it
was, so while the stamp noted is that recent the names are compared too (the file is small),
as git does for its "racily clean" index entries. Merge rule: the file on disk wins,
except for the names the window set or cleared since that folder's last successful write;
those are applied on top of the file as it is then, by `names()` and by each write (which reads
the file first, so a hand edit made meanwhile is kept). A write's outcome taken in after the
file changed again (a hand edit between the write and its news reaching the GUI) does not
stand for the file: the file is read again.

Closing the window waits for the queued writes (`confirm_close`, `CLOSE_WAIT_S` at most);
when one failed or hangs, the window's close question names each file and why, and offers to
retry (after the user fixed what is in the way), close anyway or cancel, so nothing is lost
silently. A mask a list describes is written only once the list is (`write_first`: the mask
writer waits for it, and fails the save when it cannot be written).
"""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import CancelledError, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtCore import QObject, Signal

from segnet_core.errors import DataError, SegNetError
from segnet_core.atomic import FileStamp
from segnet_core.masks.labels_folder import LabelsFolder, NameList

from app.context import FeatureContext, MessageTime
from app.editing.saving import CLOSE_WAIT_S, STILL_WRITING, CloseAnswer
from app.workers.serial_executor import SerialExecutor

BROKEN_SUFFIX = ".broken"  # a file that cannot be read is kept under its name + this
# a file modified this close to when we looked at it may change again with the same stamp
# (timestamp granularity: a few ms on ext4 or tmpfs, 2 s on FAT), so its names are compared
SAME_TICK_NS = 3_000_000_000


@dataclass(frozen=True)
class _Written:
    """A write's outcome (the writing thread's answer): the folder's names as written and
    the file's stamp then, or why it failed."""

    folder: LabelsFolder
    upto: int  # it saved the window's changes numbered up to this
    names: frozenset[str] = frozenset()
    stamp: FileStamp = None
    stamped_at: int = 0  # time.time_ns() just before the stamp was taken
    error: str = ""


def applied(names: Iterable[str], changes: dict[str, bool]) -> set[str]:
    """`names` with the window's changes (mask name -> listed) applied: the merge rule."""
    return ({name for name in names if changes.get(name, True)}
            | {name for name, listed in changes.items() if listed})


def unreadable_text(error: DataError) -> bool:
    """Whether a list failed to read on the file's content (not UTF-8), rather than on
    getting at it (permissions, a folder in the way, a disk error)."""
    return isinstance(error.__cause__, UnicodeDecodeError)


def move_aside(path: Path) -> Path:
    """Rename `path` to the first of `<name>.broken`, `<name>.broken-2`, ... not taken, so a
    file moved aside before is kept too; the new path."""
    for number in itertools.count(1):
        target = path.with_name(path.name + BROKEN_SUFFIX + (f"-{number}" if number > 1 else ""))
        if not target.exists():
            try:
                os.replace(path, target)
            except FileNotFoundError:
                pass  # gone meanwhile
            return target
    raise AssertionError("unreachable")


class NameListFiles(QObject):
    """`kind`'s list of every labels folder asked for. Emits `changed(folders)` when what
    `names()` gives for those folders changed because of the file (a write's outcome found it
    changed meanwhile); `refresh()` returns the folders it read again instead."""

    changed = Signal(list)
    written = Signal(object)  # a folder's list landed on disk (`on_disk` says what it holds)
    _writeDone = Signal(object)  # from the writing thread: the write's Future

    def __init__(self, kind: NameList, context: FeatureContext,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.context = context
        self._disk: dict[LabelsFolder, set[str]] = {}  # as last read from or written to disk
        self._stamps: dict[LabelsFolder, FileStamp] = {}  # the file's stamp then
        self._stamped_at: dict[LabelsFolder, int] = {}  # time.time_ns() just before it
        # the window's changes not saved yet, by folder: mask name -> (listed, change number)
        self._changes: dict[LabelsFolder, dict[str, tuple[bool, int]]] = {}
        self._changed = 0  # number of the latest change
        self._failed: dict[LabelsFolder, str] = {}  # why the folder's last write failed
        #: `names` as last worked out, by folder, until the list or the changes change (it
        #: is asked once per frame in some passes: a long video's list each time is slow)
        self._memo: dict[LabelsFolder, frozenset[str]] = {}
        self._jobs: set[Future] = set()  # writes whose outcome is not taken in yet
        self._latest: dict[LabelsFolder, Future] = {}  # each folder's write queued last
        self._timed_out: set[Future] = set()  # writes a save gave up waiting for
        self._folder_of: dict[Future, LabelsFolder] = {}  # each write queued, its folder
        self._abandoned = False  # closed without writes a hung disk held
        self._writer = SerialExecutor(f"{Path(kind.file).stem} writer")
        self._writeDone.connect(self._on_written)

    def path(self, folder: LabelsFolder) -> Path:
        return folder.root / self.kind.file

    def on_disk(self, folder: LabelsFolder) -> frozenset[str]:
        """The folder's list as last read from or written to its file."""
        return frozenset(self._disk.get(folder, ()))

    def names(self, folder: LabelsFolder) -> frozenset[str]:
        """The folder's list: as on disk (read now the first time), with the window's changes
        not saved yet."""
        if folder not in self._disk:
            self._read(folder)
        if folder not in self._memo:
            self._memo[folder] = frozenset(applied(self._disk[folder], self._pending(folder)))
        return self._memo[folder]

    def set(self, folder: LabelsFolder, name: str, listed: bool) -> None:
        """List `name` in the folder's file, or take it off, and save the file."""
        self.set_all(folder, [name], listed)

    def set_all(self, folder: LabelsFolder, names: Iterable[str], listed: bool) -> None:
        """List `names` in the folder's file, or take them off, and save the file once."""
        names = list(names)
        if not names:
            return
        self._changed += 1
        changes = self._changes.setdefault(folder, {})
        for name in names:
            changes[name] = (listed, self._changed)
        self._memo.pop(folder, None)
        self._submit(folder)

    def write_first(self, folder: LabelsFolder):
        """For a write that must follow the folder's list on disk (a mask it describes): a
        wait, up to the seconds given, that says "" once every change to the list queued so
        far is written, else why not (`mask_writer.WriteFirst`); None when nothing is left
        to write. A list whose last write failed is written again first. Safe to call the
        wait from another thread; a write one wait gave up on is not waited for again (a
        hung disk would hold each frame's save on closing)."""
        if folder in self._failed:
            self._submit(folder)
        future = self._latest.get(folder)
        if future is None or (future.done() and not future.cancelled()
                              and not future.result().error):
            return None
        path = self.path(folder)

        def wait(timeout_s: float) -> str:
            stuck = any(not earlier.done() for earlier in list(self._timed_out))
            try:  # writes run in order: behind one given up on, this one waits too
                done = future.result(0 if stuck else timeout_s)
            except TimeoutError:
                self._timed_out.add(future)
                return f"{path} (still being written: a slow or hung disk?)"
            except CancelledError:
                return f"{path} (not written: the window closed without it)"
            return f"{path} ({done.error})" if done.error else ""
        return wait

    def refresh(self) -> list[LabelsFolder]:
        """Read again the known folders' files changed on disk since we last read or wrote
        them (a stat each); the folders read again."""
        changed = [folder for folder in self._disk if self._changed_on_disk(folder)]
        for folder in changed:
            self._read(folder)
        return changed

    def confirm_close(self, ask: Callable[..., CloseAnswer]) -> bool:
        """Whether the window may close: waits for the queued writes (`CLOSE_WAIT_S` at
        most: a hung disk counts as a failed write); while some failed, asks `ask` (the
        window's close question: `ask(0, [(path, why), ...])`) whether to retry them, close
        anyway or cancel. Once the user chose to close without the masks a hung disk holds
        (`LabelStore.writes_abandoned`), none is waited for, and those hung are left behind
        unasked (a review: each list asked again after 10 s more)."""
        while True:
            given_up = self.context.labels.writes_abandoned
            done, hung = wait(self._jobs, timeout=0 if given_up else CLOSE_WAIT_S)
            if given_up:
                self._abandoned = self._abandoned or bool(hung)
                hung = set()
            hung_folders = {self._folder_of[future] for future in hung}
            for future in sorted(done, key=lambda job: job.result().upto):
                self._on_written(future)  # in the order written, as the signals would come
            failed = dict(self._failed)
            failed.update({folder: STILL_WRITING for folder in hung_folders})
            if not failed:
                return True
            answer = ask(0, [(self.path(folder), why) for folder, why in failed.items()])
            if answer == CloseAnswer.CANCEL:
                return False
            if answer == CloseAnswer.DISCARD:
                self._abandoned = bool(hung)
                return True
            for folder in list(self._failed):
                self._submit(folder)

    def shutdown(self) -> None:
        """Finish the writes queued (small files), `CLOSE_WAIT_S` at most; those of a hung
        disk are left behind (they end with the process): at once when the user chose to
        close without them (a review: closed by the system, a hung write held the process
        for good)."""
        given_up = self._abandoned or self.context.labels.writes_abandoned
        self._writer.shutdown(0 if given_up else CLOSE_WAIT_S, cancel_futures=given_up)

    # ------------------------------------------------------------ inside

    def _pending(self, folder: LabelsFolder) -> dict[str, bool]:
        """The window's changes to the folder's list not saved yet (mask name -> listed)."""
        return {name: listed for name, (listed, _n) in self._changes.get(folder, {}).items()}

    def _changed_on_disk(self, folder: LabelsFolder) -> bool:
        """Whether the folder's file changed since we last read or wrote it: its stamp
        differs, or, while the stamp noted was taken within a timestamp tick of the file's
        modification, its names differ from ours."""
        at = time.time_ns()
        stamp = folder.stamp(self.kind)
        if stamp != self._stamps.get(folder):
            return True
        if stamp is None or self._stamped_at.get(folder, 0) - stamp[0] >= SAME_TICK_NS:
            return False  # any change since would carry a later modification time
        try:
            if folder.read_names(self.kind) != self._disk.get(folder):
                return True
        except DataError:  # no sign of a change (its stamp is as noted): what we hold
            return False  # stands, as when the stamp is old (a share lost, say)
        self._stamped_at[folder] = at  # the same names, looked at now
        return False

    def _read(self, folder: LabelsFolder) -> None:
        """Read the folder's file here (it is small) and note its stamp."""
        self._stamped_at[folder] = time.time_ns()
        self._stamps[folder] = folder.stamp(self.kind)  # before reading: a change then is seen
        self._memo.pop(folder, None)
        try:
            self._disk[folder] = folder.read_names(self.kind)
        except DataError as error:
            then = (f"a change moves the file aside to {error.path.name}{BROKEN_SUFFIX}"
                    if unreadable_text(error) else "a change tries to write it again")
            self.context.problems.add(
                error.path, f"{error.reason} (none of its frames counts as listed; {then})")
            self._disk[folder] = set()

    def _submit(self, folder: LabelsFolder) -> None:
        """Queue a write of the folder's list: the window's changes not saved yet, applied to
        the file as it is when written."""
        future = self._writer.submit(self._claim_and_write, self.kind, folder,
                                     self._pending(folder), self._changed)
        self._jobs.add(future)
        self._latest[folder] = future
        self._folder_of[future] = folder
        future.add_done_callback(self._writeDone.emit)

    def _claim_and_write(self, kind: NameList, folder: LabelsFolder, changes: dict[str, bool],
                         upto: int) -> _Written:  # writing thread
        self.context.live.claim(folder.root)  # this window's mark first (it may make the
        return self._write(kind, folder, changes, upto)  # folder: other windows see it)

    @staticmethod
    def _write(kind: NameList, folder: LabelsFolder, changes: dict[str, bool],
               upto: int) -> _Written:  # writing thread
        path = folder.root / kind.file
        try:
            try:
                names = folder.read_names(kind)
            except DataError as error:
                if not unreadable_text(error):
                    raise  # a folder in the way, no permission: not ours to move
                move_aside(path)
                names = set()
            names = applied(names, changes)
            at = time.time_ns()
            return _Written(folder, upto, frozenset(names), folder.write_names(kind, names), at)
        except SegNetError as error:
            return _Written(folder, upto, error=f"not saved: {error.reason}")
        except OSError as error:
            return _Written(folder, upto, error=f"not saved: {error}")

    def _on_written(self, future: Future) -> None:
        if future not in self._jobs:
            return  # taken in already (closing waits for the writes)
        self._jobs.discard(future)
        self._folder_of.pop(future, None)
        if future.cancelled():
            return  # left behind on closing (a hung disk)
        done: _Written = future.result()
        folder = done.folder
        if done.error:
            if self._failed.get(folder) != done.error:  # said once, not at every change
                self.context.problems.add(self.path(folder), done.error)
                self.context.host.show_message(f"Could not save {self.kind.what}: "
                                               f"{self.path(folder)}", MessageTime.LONG)
            self._failed[folder] = done.error
            return
        self._failed.pop(folder, None)
        before = self.names(folder)
        self._disk[folder], self._stamps[folder] = set(done.names), done.stamp
        self._stamped_at[folder] = done.stamped_at
        changes = self._changes.get(folder, {})
        for name in [name for name, (_l, number) in changes.items() if number <= done.upto]:
            del changes[name]
        if not changes:
            self._changes.pop(folder, None)
        self._memo.pop(folder, None)
        if self._changed_on_disk(folder):  # changed since (by hand, say): that wins
            self._read(folder)
        if self.names(folder) != before:  # the file had changed meanwhile
            self.changed.emit([folder])
        self.written.emit(folder)
