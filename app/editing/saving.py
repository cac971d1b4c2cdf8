"""When labels are saved, and what the user is told about it.

* leaving a frame saves it (with autosave on, the default);
* every N seconds (settings, default 30) frames changed since their last autosave are written
  to the autosave folder, and autosaves of frames that are clean again are removed;
* Ctrl+S saves the frame shown;
* closing with unsaved frames asks Save / Discard / Cancel (`ask_unsaved`, replaceable for
  tests); the same question, asked with the files another feature could not write (the
  flagged frames: `app.quality.flags`), names each file and why and offers Retry / Close
  anyway / Cancel;
* closing waits for the writes on their way, `CLOSE_WAIT_S` at most before it asks, naming
  them, whether to wait again, close without them (a hung disk: the process then ends without
  them) or cancel;
* opening frames whose autosave is newer than their mask offers it back, without a modal box.

It also keeps the window's `*` in step (the frame statuses: `corrections`).
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from app.context import FeatureContext
from app.editing.editor import Editor
from app.editing.frame_labels import FrameLabels
from app.editing.store import location
from app.frames import FrameRef
from app.widgets.recovery_bar import RecoveryBar
from app.wording import some_names

#: how long closing waits for writes on their way (small files: only a slow or hung disk
#: takes this long) before it asks about them, naming them
CLOSE_WAIT_S = 10.0
#: why such a file is named in the close question
STILL_WRITING = "not saved yet: still being written (a slow or hung disk?)"
#: why a frame edited and not saved is named beside them: nothing can be written meanwhile
LOST_IF_CLOSED = "edited, not saved: lost if you close now (nothing can be written meanwhile)"


class CloseAnswer(enum.StrEnum):
    """What to do with unsaved work when the window closes."""

    SAVE = "save"  # save it (retry, for files whose writing failed)
    DISCARD = "discard"  # close without it
    CANCEL = "cancel"  # keep the window open


class SavingController(QObject):
    """Emits `recoveryOffered(list of FrameRef)` when autosaves are offered back and
    `message(text)` for the status bar."""

    recoveryOffered = Signal(list)
    message = Signal(str)

    def __init__(self, context: FeatureContext, editor: Editor,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.store = store = context.labels
        self.editor = editor
        settings = context.settings
        self.recovery_bar = RecoveryBar()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(settings.autosave_seconds * 1000)
        #: the close question: gets the number of unsaved frames, or 0 and the files that
        #: could not be written with why ([(path, reason), ...]); answers a CloseAnswer
        self.ask_unsaved: Callable[..., CloseAnswer] = self._ask_unsaved
        self._recoveries: list = []
        self._told_busy: set[Path] = set()  # labels folders said to be another window's too
        #: Ctrl+S saves on their way: mask path -> what to say once written (a user's check:
        #: "Saved ..." was said as the save was queued, also when it then failed)
        self._said_when_written: dict[Path, str] = {}
        store.stateChanged.connect(self._on_state)
        store.problem.connect(context.problems.add)
        store.problem.connect(self._on_problem)
        store.written.connect(lambda ref, _mask, _previous: self._on_written(ref))
        self.autosave_timer.timeout.connect(store.autosave)
        self.recovery_bar.restoreClicked.connect(self.restore_autosaves)
        self.recovery_bar.discardClicked.connect(self.discard_autosaves)
        store.start()
        self.autosave_timer.start()

    def shutdown(self) -> None:
        self.autosave_timer.stop()
        self.store.shutdown()

    # ------------------------------------------------------------ saving

    def leave(self, labels: FrameLabels) -> None:
        """The frame of `labels` is no longer shown: save it when autosave is on."""
        if self.context.settings.autosave:
            self.store.save(labels)

    def save_current(self) -> bool:
        """Ctrl+S: write the shown frame's labels now."""
        if self.context.said_nothing_open():
            return False
        self.editor.finish()
        labels = self.editor.labels
        if labels is None or not (labels.started or labels.dirty):
            self.message.emit("Nothing to save: paint, or accept the prediction first")
            return False
        removing = labels.undone_to_nothing
        path = _mask_path(labels.key)
        if not self.store.save(labels):
            # Ctrl+S again before the write is done: that write's news is still to come
            on_its_way = path in self._said_when_written
            self.message.emit(labels.locked or (f"Saving {path}..." if on_its_way
                                                else "Labels already saved"))
            return False
        # the write's news comes back queued from the writer thread: said then
        self._said_when_written[path] = (
            f"Removed {path}: every edit of this frame is undone, so it shows the model's "
            "prediction again" if removing else f"Saved {_as_named(labels.key, path)}")
        self.message.emit(f"Removing {path}..." if removing else f"Saving {path}...")
        return True

    def _on_written(self, ref) -> None:
        said = self._said_when_written.pop(_mask_path(ref), None)
        if said is not None:
            self.message.emit(said)

    def _on_problem(self, path, reason: str) -> None:
        if self._said_when_written.pop(path, None) is not None:
            self.message.emit(f"{path} {reason} (View > Problems)")

    def confirm_close(self) -> bool:
        """Whether the window may close: asks what to do with unsaved frames."""
        self.editor.finish()
        # first the writes on their way: while a hung disk holds them, none that follows
        # could land either (a review: a hung save froze the close for 90 s, then Qt aborted)
        if not self._writes_landed():
            return False
        if self.store.writes_abandoned:
            return True
        self.store.discard_stale_autosaves()  # edits undone since their autosave
        dirty = self.store.dirty()
        if not dirty:
            return True
        answer = self.ask_unsaved(len(dirty))
        if answer == CloseAnswer.CANCEL:
            return False
        if answer == CloseAnswer.DISCARD:
            for labels in dirty:
                self.store.discard_autosave(labels)
            return True
        while True:  # a save that fails is asked about, naming the file (a user's check:
            # the window stayed open with "not saved" in Problems, naming nothing)
            failed = [(labels, reason) for labels in dirty
                      if (reason := self.store.save_now(labels))]
            if not failed:
                return True
            files = [(_mask_path(labels.key), reason) for labels, reason in failed]
            for path, reason in files:
                self.context.problems.add(path, f"not saved: {reason}")
            answer = self.ask_unsaved(0, files)
            if answer == CloseAnswer.CANCEL:
                return False
            if answer == CloseAnswer.DISCARD:  # kept in their autosaves, brought up to
                self.store.autosave()  # date first (a review: up to 30 s of edits were
                return True  # left out), to be offered back next time
            dirty = [labels for labels, _reason in failed]

    def end_for_system(self) -> None:
        """The system ends the program: the edits go to their autosaves (offered back next
        time, as after a crash), waited for `CLOSE_WAIT_S` at most; a hung disk's writes are
        then left behind, as the user's Close leaves them (a review: closed by SIGTERM, a
        hung save held the process 90 s)."""
        self.editor.finish()
        self.store.autosave()
        if not self.store.finish_writes(CLOSE_WAIT_S):
            self.store.abandon_writes()

    def _writes_landed(self) -> bool:
        """Whether the window may close as far as the writes on their way go: they landed,
        or the user chose to close without them (`LabelStore.abandon_writes`); each wait is
        `CLOSE_WAIT_S` at most, then the question names them, and the frames with edits
        that could not be saved then either."""
        while not self.store.finish_writes(CLOSE_WAIT_S):
            files = [(path, STILL_WRITING) for path in self.store.writer.on_their_way()]
            if not files:  # landed just after the wait
                continue
            files += [(_mask_path(labels.key), LOST_IF_CLOSED) for labels in self.store.dirty()]
            answer = self.ask_unsaved(0, files)
            if answer == CloseAnswer.CANCEL:
                return False
            if answer == CloseAnswer.DISCARD:
                self.store.abandon_writes()
                return True
        return True

    def _ask_unsaved(self, count: int,
                     failed: Sequence[tuple[Path, str]] = ()) -> CloseAnswer:
        buttons = QMessageBox.StandardButton
        if failed:
            files = "\n".join(f"{path}: {reason}" for path, reason in failed)
            answer = QMessageBox.warning(
                self.context.host.widget, "Not saved",
                f"Could not save:\n{files}\n\nRetry (after fixing what is in the way), or "
                "close without it?", buttons.Retry | buttons.Close | buttons.Cancel,
                buttons.Retry)
            return {buttons.Retry: CloseAnswer.SAVE,
                    buttons.Close: CloseAnswer.DISCARD}.get(answer, CloseAnswer.CANCEL)
        rows = self.context.frames.row_of
        dirty = sorted(self.store.dirty(), key=lambda labels: (rows(labels.key) is None,
                                                               rows(labels.key) or 0))
        unaccepted = sum(1 for labels in dirty if self.store.unaccepted(labels.key))
        text = (f"{count} frame(s) have label edits that are not saved: "
                f"{some_names([labels.key.name for labels in dirty])}.")
        if unaccepted:
            text += (f" {unaccepted} of them hold{'s' if unaccepted == 1 else ''} propagated "
                     "labels you have not accepted yet: saved, they stay marked "
                     "\"propagated\" for you to look over.")
        answer = QMessageBox.question(
            self.context.host.widget, "Unsaved labels", text + " Save them?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        return {buttons.Save: CloseAnswer.SAVE,
                buttons.Discard: CloseAnswer.DISCARD}.get(answer, CloseAnswer.CANCEL)

    def _on_state(self, _ref: FrameRef) -> None:
        self.context.host.set_modified(len(self.store.dirty()))

    # ------------------------------------------------------------ opening and recovery

    def frames_opened(self) -> None:
        """Offer back autosaves newer than their masks, but for those in a labels folder
        another window works in: they are its unsaved edits, not a crash's (told so once)."""
        frames = self.context.frames
        offered = {ref for ref, _ in self._recoveries}
        others = self.context.live.others_in(location(ref)[0].root for ref in frames)
        busy = {root: sessions for root, sessions in others.items() if sessions}
        for root, sessions in busy.items():
            if root not in self._told_busy:  # in View > Problems, which shows itself: a
                self._told_busy.add(root)  # status-bar message is replaced at once on start
                self.context.problems.add(
                    root, f"open in {sessions[0].describe()} too: its unsaved edits here "
                    "are not offered back in this window, and a frame saved in both windows "
                    "keeps the later save")
        new = [(ref, r) for ref, r in self.store.recoveries(frames) if ref not in offered
               and location(ref)[0].root not in busy]
        if new:
            self._recoveries += new
            self.recovery_bar.offer([ref.name for ref, _ in self._recoveries])
            self.recoveryOffered.emit([ref for ref, _ in self._recoveries])

    def restore_autosaves(self) -> int:
        """Bring the offered autosaves back as unsaved edits; how many were restored."""
        offered, self._recoveries = self._recoveries, []
        recoveries, left = self._nobody_elses(offered)
        if offered and not recoveries:
            self.message.emit(left)
            return 0
        done = [(ref, recovery) for ref, recovery in recoveries
                if self.store.restore(ref, recovery)]
        then = f". {left}" if left else ""  # one message: a second would replace it at once
        if not done:
            self.message.emit("Nothing to restore: the autosaves held what is saved already"
                              + then)
            return 0
        propagated = sum(recovery.propagated for _, recovery in done)
        # an autosave holding what the saved mask holds brings back the mark only
        unsaved = sum(self.store.get(ref).dirty for ref, _ in done)
        self.message.emit(f"Restored the autosaved edits of {len(done)} frame(s)"
                          + (f" ({propagated} with propagated labels not accepted yet)"
                             if propagated else "")
                          + ("; they are not saved yet" if unsaved == len(done) else
                             f"; {unsaved} not saved yet, {len(done) - unsaved} saved already "
                             "and marked propagated again") + then)
        return len(done)

    def discard_autosaves(self) -> None:
        recoveries, left = self._nobody_elses(self._recoveries)
        self._recoveries = []
        for ref, _ in recoveries:
            self.store.discard_recovery(ref)
        if left:
            self.message.emit(left)

    def _nobody_elses(self, recoveries: list) -> tuple[list, str]:
        """The offered autosaves in labels folders no other window works in now, and what
        to say of the others, left as they are ("" for none; a review: a window opened after
        the offer autosaved the same frame there, and Discard here deleted its only copy)."""
        busy = self.context.live.others_in(location(ref)[0].root for ref, _ in recoveries)
        left = [ref for ref, _recovery in recoveries if busy[location(ref)[0].root]]
        said = ""
        if left:
            root = location(left[0])[0].root
            said = (f"{len(left)} autosave(s) left as they are: {busy[root][0].describe()} "
                    f"works in {root.parent} now, and they may be its edits (offered again "
                    "when the folder is opened with no other window on it)")
        return [(ref, r) for ref, r in recoveries if not busy[location(ref)[0].root]], said


def _mask_path(ref) -> Path:
    folder, name = location(ref)
    return folder.mask_path(name)


def _as_named(ref, path: Path) -> str:
    """A saved mask's path, with the frame it is of where the names differ: a video's frames
    count from 1 in the window and from 0 in mask names (a user's check read "Saved
    clip_000003.png" for frame 4 as the wrong frame)."""
    return f"{ref.name} as {path}" if ref.is_video_frame else str(path)
