"""Go > Flag frame to correct first: the user marks frames that show something the model must
learn (a cyclist, a road sign it misses); Next suggested frame offers the flagged frames it
has not seen corrected before its plan (`segnet_core.frame_order.next_plan_pick`). A flagged
frame says "flagged" in the frame list and is marked at the top of its video's timeline.

Why: the model cannot point at what it has not learnt to see. Fine-tuned on ten frames of a
drive it had never seen, which frames showed the rare objects decided more than any rule
built on the model's own estimates (docs/training.md); only the user knows where those are.

Flags live in the labels folder beside the frames (`labels/flagged.txt`, one mask name per
line), so they outlast the session and `segnet-studio rank` reads them too. They are read
when frames are opened and written off the GUI thread after each change (one write at a
time, in order); a file that cannot be read or written goes to View > Problems, naming it.
A file whose text cannot be read (not UTF-8) is moved aside to `flagged.txt.broken` (or
`.broken-2`, ... when that is taken) before the folder's flags are next written, so nothing in
it is lost; one that cannot be got at (no permission, a folder in the way) is left alone and
the write fails, to be retried. The flag key acts on the frame asked for (shown
or still loading, or unreadable), as Next suggested frame does.

The file may change behind our back (edited by hand, or by a second window). Its modification
time and size are noted whenever we read or write it; when frames are opened, when the window
becomes active again (the user is back from the editor or the other window) and before Next
suggested frame uses the flags, each known folder's file is looked at (one stat) and read
again if it changed: the frame list and the timeline then show the file's flags. Merge rule:
the file on disk wins, except for the frames the user flagged or unflagged in this session
since that folder's last successful write; those are applied on top of the file as it is
then, by the GUI (what it shows) and by each write (which reads the file first, so a hand
edit made meanwhile is kept). A write's outcome taken in after the file changed again (a hand
edit between the write and its news reaching the GUI) does not stand for the file: the file
is read again.

Closing the window waits for the queued writes (small files); when one failed, the window's
close question (`SavingController.ask_unsaved`) names each file and why, and offers to retry
(after the user fixed what is in the way), close anyway or cancel, so no flag is lost silently.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtCore import QObject, Signal

from segnet_core.errors import DataError, SegNetError
from segnet_core.masks.labels_folder import FLAGS_FILE, FlagsStamp, LabelsFolder

from app.context import FeatureContext, MessageTime
from app.editing.saving import CloseAnswer
from app.editing.store import location
from app.frames import FrameRef
from app.menus import Place
from app.navigation import NavigationController
from app.quality.controller import NOT_OFFERED
from app.widgets.timeline import Timeline

NOTE = "flag"  # this feature's note in the frame list
FLAGGED_NOTE = "flagged"
BROKEN_SUFFIX = ".broken"  # a flags file that cannot be read is kept under its name + this


@dataclass(frozen=True)
class _Written:
    """A write's outcome (the writing thread's answer): the folder's flags as written and
    the file's stamp then, or why it failed."""

    folder: LabelsFolder
    upto: int  # it saved the user's changes numbered up to this
    names: frozenset[str] = frozenset()
    stamp: FlagsStamp = None
    error: str = ""


def _unreadable_text(error: DataError) -> bool:
    """Whether `read_flags` failed on the file's content (not UTF-8), rather than on
    getting at it (permissions, a folder in the way, a disk error)."""
    return isinstance(error.__cause__, UnicodeDecodeError)


def _move_aside(path: Path) -> Path:
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


def _applied(names: Iterable[str], changes: dict[str, bool]) -> set[str]:
    """`names` with the user's changes (mask name -> flagged) applied: the merge rule."""
    return ({name for name in names if changes.get(name, True)}
            | {name for name, flagged in changes.items() if flagged})


class FrameFlags(QObject):
    """The flagged frames of the open folders and videos."""

    _writeDone = Signal(object)  # from the writing thread: the write's Future

    def __init__(self, context: FeatureContext, navigation: NavigationController,
                 timeline: Timeline, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.navigation = navigation
        self.timeline = timeline
        self._flagged: set[FrameRef] = set()
        self._disk: dict[LabelsFolder, set[str]] = {}  # as last read from or written to disk
        self._stamps: dict[LabelsFolder, FlagsStamp] = {}  # the file's stamp then
        # the user's changes not saved yet, by folder: mask name -> (flagged, change number)
        self._changes: dict[LabelsFolder, dict[str, tuple[bool, int]]] = {}
        self._changed = 0  # number of the user's latest change
        self._failed: dict[LabelsFolder, str] = {}  # why the folder's last write failed
        self._jobs: set[Future] = set()  # writes whose outcome is not taken in yet
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flags")
        self.action = context.host.action(
            "&Flag frame to correct first", "Ctrl+B", checkable=True,
            tip="Mark this frame as showing something the model must learn (a rare object "
                "it misses): Next suggested frame offers flagged frames first. Saved in the "
                "labels folder (flagged.txt)")
        context.menus.add(Place.GO_SUGGEST, self.action)
        self.action.triggered.connect(self._on_triggered)
        context.display.documentShown.connect(lambda _document: self._sync_view())
        self._writeDone.connect(self._on_written)

    # ------------------------------------------------------------ what others use

    def refs(self) -> set[FrameRef]:
        """The flagged frames, after reading again the flags files changed on disk."""
        self.refresh()
        return set(self._flagged)

    def set_flagged(self, ref: FrameRef, flagged: bool) -> None:
        """Flag or unflag `ref`, show it in the list and save the folder's flags."""
        if not self._mark(ref, flagged):
            return
        self._sync_view()
        folder, name = location(ref)
        self._changed += 1
        self._changes.setdefault(folder, {})[name] = (flagged, self._changed)
        self._submit(folder)

    def frames_opened(self) -> None:
        """Read the flags of the labels folders of frames newly opened, and again those
        changed on disk."""
        self.refresh()
        folders = set()
        for ref in self.context.frames:
            folder, _name = location(ref)
            if folder not in self._disk:
                self._read(folder)
            folders.add(folder)
        self._show(folders)

    def refresh(self) -> None:
        """Read again the flags files changed on disk since we last read or wrote them (a
        stat per folder; the merge rule is in the module's docstring)."""
        changed = [folder for folder in self._disk
                   if folder.flags_stamp() != self._stamps.get(folder)]
        for folder in changed:
            self._read(folder)
        if changed and self._show(changed):
            self.context.host.show_message(
                f"Flagged frames read again: {changed[0].root / FLAGS_FILE} changed on disk",
                MessageTime.NORMAL)

    def confirm_close(self, ask: Callable[..., CloseAnswer]) -> bool:
        """Whether the window may close: waits for the queued writes; while some failed,
        asks `ask` (the window's close question: `ask(0, [(path, why), ...])`) whether to
        retry them, close anyway or cancel."""
        while True:
            for future in sorted(self._jobs, key=lambda job: job.result().upto):
                self._on_written(future)  # in the order written, as the signals would come
            if not self._failed:
                return True
            answer = ask(0, [(folder.root / FLAGS_FILE, why)
                             for folder, why in self._failed.items()])
            if answer == CloseAnswer.CANCEL:
                return False
            if answer == CloseAnswer.DISCARD:
                return True
            for folder in list(self._failed):
                self._submit(folder)

    def shutdown(self) -> None:
        """Finish the writes queued (small files)."""
        self._writer.shutdown(wait=True)

    # ------------------------------------------------------------ inside

    def _target(self) -> FrameRef | None:
        """The frame the flag key acts on: the one asked for (shown, loading or unreadable)."""
        ref = self.navigation.wanted
        return ref if ref is not None else self.context.display.current_key

    def _on_triggered(self, checked: bool) -> None:
        ref = self._target()
        if ref is None:
            self.action.setChecked(False)
            self.context.host.show_message("No frame to flag: open images or a video first",
                                           MessageTime.NORMAL)
            return
        self.set_flagged(ref, checked)
        status = self.context.frames.status(ref)
        if not checked:
            text = f"{ref.name} is not flagged any more"
        elif status in NOT_OFFERED:
            text = (f"Flagged {ref.name}; it is {status.value}, so Next suggested frame "
                    "does not offer it")
        else:
            text = f"Flagged {ref.name}: Next suggested frame (N) offers it first"
        self.context.host.show_message(text, MessageTime.NORMAL)

    def _sync_view(self) -> None:
        """The action's check for the frame asked for; the marks on its video's timeline."""
        ref = self._target()
        self.action.setChecked(ref is not None and ref in self._flagged)
        video = ref.path if ref is not None and ref.is_video_frame else None
        self.timeline.slider.set_flags([] if video is None else
                                       [f.index for f in self._flagged if f.path == video])

    def _mark(self, ref: FrameRef, flagged: bool) -> bool:
        """Flag or unflag `ref` in the list; whether that changed anything."""
        if (ref in self._flagged) == flagged:
            return False
        (self._flagged.add if flagged else self._flagged.discard)(ref)
        self.context.frames_model.set_note(ref, NOTE, FLAGGED_NOTE if flagged else "")
        return True

    def _names(self, folder: LabelsFolder) -> set[str]:
        """The folder's flags: as on disk, with the user's changes not saved yet."""
        return _applied(self._disk.get(folder, ()), self._pending(folder))

    def _pending(self, folder: LabelsFolder) -> dict[str, bool]:
        """The user's changes to the folder's flags not saved yet (mask name -> flagged)."""
        return {name: flagged for name, (flagged, _n) in self._changes.get(folder, {}).items()}

    def _show(self, folders: Iterable[LabelsFolder]) -> bool:
        """Flag the open frames of `folders` as the folders' flags say; whether any changed."""
        names = {folder: self._names(folder) for folder in folders}
        changed = False
        for ref in self.context.frames:
            folder, name = location(ref)
            if folder in names:
                changed |= self._mark(ref, name in names[folder])
        if changed:
            self._sync_view()
        return changed

    def _read(self, folder: LabelsFolder) -> None:
        """Read the folder's flags file here (it is small) and note its stamp."""
        self._stamps[folder] = folder.flags_stamp()  # before reading: a change then is seen
        try:
            self._disk[folder] = folder.read_flags()
        except DataError as error:
            then = (f"flagging one moves the file aside to {error.path.name}{BROKEN_SUFFIX}"
                    if _unreadable_text(error) else "flagging one tries to write it again")
            self.context.problems.add(
                error.path, f"{error.reason} (no frame there counts as flagged; {then})")
            self._disk[folder] = set()

    def _submit(self, folder: LabelsFolder) -> None:
        """Queue a write of the folder's flags: the user's changes not saved yet, applied to
        the file as it is when written."""
        future = self._writer.submit(self._write, folder, self._pending(folder), self._changed)
        self._jobs.add(future)
        future.add_done_callback(self._writeDone.emit)

    @staticmethod
    def _write(folder: LabelsFolder, changes: dict[str, bool],
               upto: int) -> _Written:  # writing thread
        path = folder.root / FLAGS_FILE
        try:
            try:
                names = folder.read_flags()
            except DataError as error:
                if not _unreadable_text(error):
                    raise  # a folder in the way, no permission: not ours to move
                _move_aside(path)
                names = set()
            names = _applied(names, changes)
            folder.write_flags(names)
            return _Written(folder, upto, frozenset(names), folder.flags_stamp())
        except SegNetError as error:
            return _Written(folder, upto, error=f"flags not saved: {error.reason}")
        except OSError as error:
            return _Written(folder, upto, error=f"flags not saved: {error}")

    def _on_written(self, future: Future) -> None:
        if future not in self._jobs:
            return  # taken in already (closing waits for the writes)
        self._jobs.discard(future)
        done: _Written = future.result()
        folder = done.folder
        if done.error:
            self._failed[folder] = done.error
            path = folder.root / FLAGS_FILE
            self.context.problems.add(path, done.error)
            self.context.host.show_message(f"Could not save the flagged frames: {path}",
                                           MessageTime.LONG)
            return
        self._failed.pop(folder, None)
        before = self._names(folder)
        self._disk[folder], self._stamps[folder] = set(done.names), done.stamp
        changes = self._changes.get(folder, {})
        for name in [name for name, (_f, number) in changes.items() if number <= done.upto]:
            del changes[name]
        if not changes:
            self._changes.pop(folder, None)
        if folder.flags_stamp() != done.stamp:  # changed since (by hand, say): that wins
            self._read(folder)
        if self._names(folder) != before:  # the file had changed meanwhile
            self._show([folder])
