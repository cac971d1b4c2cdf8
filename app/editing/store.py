"""The label masks of the open frames: read from the labels folder beside the images, kept
with their undo histories for the session, and written through the MaskWriter thread.

A save hands the writer a copy of the mask and marks the frame clean at once (the copy is
exactly what was clean); a failed write marks it unsaved again and reports the file. A frame
opened without a mask whose every edit is undone after a save is saved by removing that mask
(it shows the model's prediction again), never by writing an all-void one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal

from segnet_core.atomic import FileStamp
from segnet_core.errors import SegNetError
from segnet_core.labels import LabelSet
from segnet_core.masks.edits import replace_mask
from segnet_core.masks.labels_folder import LabelsFolder, Recovery, mask_name

from app.editing.frame_labels import FrameLabels
from app.frames import FrameRef
from app.workers.mask_writer import MaskWriter, WriteFirst, WriteJob, WriteKind, run_job


@dataclass(frozen=True)
class MaskFile:
    """What is saved for a frame: its mask, nothing (None), or why it cannot be read."""

    mask: np.ndarray | None = None
    error: str = ""


def location(ref: FrameRef) -> tuple[LabelsFolder, str]:
    """The labels folder and mask file name of a frame."""
    return LabelsFolder.beside(ref.path), mask_name(ref.path, ref.index)


class LabelStore(QObject):
    """Emits `stateChanged(ref)` when a frame's labels become dirty, clean or saved or switch
    between the mask and the prediction (`FrameLabels.started`), and
    `problem(path, reason)` for files that cannot be read or written."""

    stateChanged = Signal(object)
    #: a frame's mask was written, or removed (every edit undone), by Save, autosave on
    #: leaving, or close
    saved = Signal(object)
    #: the same, with the mask written (None: removed), for whoever must know what was
    #: written rather than what the labels hold now (they may have changed since), and the
    #: saved mask it replaced (None: none, not known, or not asked for: `keeps_previous`)
    written = Signal(object, object, object)
    problem = Signal(object, str)
    #: an autosave came back as an edit (`restore`): the frame, whether it held propagated
    #: labels not accepted yet, and whether those were carried from the model's prediction
    restored = Signal(object, bool, bool)
    #: an autosave marked "propagated" held what the frame's saved mask holds (an accept of
    #: saved labels undone just before a crash): those saved labels are not accepted after all
    unacceptedOnDisk = Signal(object)
    forgotten = Signal(object)  # a frame's labels (and undo history) were let go (`forget`)
    #: the user discarded a frame's autosave offered back (`discard_recovery`)
    recoveryDiscarded = Signal(object)
    #: a save (or removal) of a frame's mask queued on the writer is done, written or failed
    writeDone = Signal(object)
    #: a save (or removal) of a frame's mask failed, queued or on this thread (`save_now`)
    saveFailed = Signal(object)

    def __init__(self, label_set: LabelSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.label_set = label_set
        self.writer = MaskWriter()
        self.writer.done.connect(self._on_written)
        self.writer.failed.connect(self._on_write_failed)
        self._labels: dict[FrameRef, FrameLabels] = {}
        self._in_flight: dict[FrameRef, int] = {}  # saves queued or being written
        self.writes_abandoned = False  # `abandon_writes`
        #: the stamp of the mask file this store wrote (None: it removed the file)
        self._written: dict[FrameRef, FileStamp] = {}
        #: whether a frame's labels are propagated and not accepted yet (set by the marks),
        #: written down with its autosave so a crash does not lose the mark
        self.unaccepted: Callable[[FrameRef], bool] = lambda ref: False
        #: whether a frame's labels rest on labels carried from the model's own prediction,
        #: accepted or not (set by the marks), written down too: restored, they stay its guess
        self.guessed: Callable[[FrameRef], bool] = lambda ref: False
        #: whether a save of the frame should carry the saved mask it replaces (`written`'s
        #: third value; set by `app.editing.as_predicted` for the frames it lists)
        self.keeps_previous: Callable[[FrameRef], bool] = lambda ref: False
        #: each asked just before a frame's mask is queued or written: a write that must
        #: land first (`mask_writer.WriteFirst`; None: none). The propagation's lists put a
        #: propagated frame's lines in before its mask, so a crash between the two never
        #: leaves carried labels saved and unlisted, where they would count as a person's;
        #: the mask is not written (the save fails) when they cannot be
        self.before_save: list[Callable[[FrameRef], WriteFirst | None]] = []
        #: each asked just before a frame's autosave is queued, to queue the lines it
        #: describes (`propagated_from.txt`'s: restored after a crash, its labels are
        #: carried ones); not waited for
        self.before_autosave: list[Callable[[FrameRef], object]] = []

    def start(self) -> None:
        self.writer.start()

    def shutdown(self) -> None:
        """Finish the writes queued; those the user closed without are left behind."""
        self.writer.shutdown(0 if self.writes_abandoned else 30000)

    def abandon_writes(self) -> None:
        """The user closes the window without the writes a hung disk holds: none is waited
        for any more."""
        self.writes_abandoned = True

    def finish_writes(self, timeout_s: float = 30.0) -> bool:
        """Wait for the writes queued, and take in their news now (not when the event loop
        next runs: the window may be closing); False when the writer did not finish (at
        once once they were abandoned)."""
        if self.writes_abandoned or not self.writer.wait_idle(timeout_s):
            return False
        QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        return True

    def get(self, ref: FrameRef) -> FrameLabels | None:
        return self._labels.get(ref)

    def dirty(self) -> list[FrameLabels]:
        return [labels for labels in self._labels.values() if labels.dirty]

    # ------------------------------------------------------------ reading

    def read_file(self, ref: FrameRef) -> MaskFile:
        """The frame's saved mask; safe to call from the loader thread."""
        folder, name = location(ref)
        try:
            return MaskFile(folder.read(name, self.label_set))
        except SegNetError as error:
            return MaskFile(error=str(error))

    def open(self, ref: FrameRef, shape: tuple[int, int],
             found: MaskFile | None = None) -> FrameLabels:
        """The frame's labels: those in memory, else the saved mask (`found`, or read now),
        else all void. A mask that cannot be used gives labels locked against edits, so a
        file that is merely unreadable here is never overwritten."""
        labels = self._labels.get(ref)
        if labels is not None and found is not None and labels.untouched and not labels.locked:
            self.forget(ref)  # nothing of it is the user's: the file read just now decides
            labels = None
        if labels is not None:
            if labels.shape == tuple(shape):
                return labels
            return self._locked(ref, shape, f"{ref.name} changed size since it was edited; "
                                            "its unsaved labels are kept aside")
        found = self.read_file(ref) if found is None else found
        folder, name = location(ref)
        if found.error:
            self.problem.emit(folder.mask_path(name), found.error)
            return self._locked(ref, shape, f"Not editable: {found.error}")
        if found.mask is not None and found.mask.shape != tuple(shape):
            reason = (f"mask is {found.mask.shape[1]}x{found.mask.shape[0]}, the frame "
                      f"{shape[1]}x{shape[0]}")
            self.problem.emit(folder.mask_path(name), reason)
            return self._locked(ref, shape, f"Not editable: {name}: {reason}")
        if found.mask is None:
            labels = FrameLabels(ref, self._void(shape), from_file=False, parent=self)
        else:
            labels = FrameLabels(ref, found.mask, from_file=True, parent=self)
        return self._keep(labels)

    def open_for_edit(self, ref: FrameRef, shape: tuple[int, int] | None) -> FrameLabels | None:
        """Labels to edit a frame that may not be on screen: `shape` is its size when known
        (None: take it from the saved mask; no mask, no labels)."""
        labels = self._labels.get(ref)
        if labels is not None:
            return None if labels.locked else labels
        found = self.read_file(ref)
        if shape is None and found.mask is not None:
            shape = found.mask.shape
        if shape is None:
            return None
        labels = self.open(ref, shape, found)
        return None if labels.locked else labels

    def forget(self, ref: FrameRef) -> bool:
        """Let go of a frame's labels when they hold nothing unsaved (its undo history goes
        with them); the next `open` reads its mask file again. False when it has unsaved
        edits or an edit in progress (kept)."""
        labels = self._labels.get(ref)
        if labels is None or labels.dirty or labels.editing:
            return labels is None
        del self._labels[ref]
        labels.deleteLater()
        self.forgotten.emit(ref)
        return True

    # ------------------------------------------------------------ the files

    def mask_exists(self, ref: FrameRef) -> bool:
        folder, name = location(ref)
        return folder.has_mask(name)

    def saving(self, ref: FrameRef) -> bool:
        """Whether a save of the frame's mask is on its way to the file."""
        return self._in_flight.get(ref, 0) > 0

    def wrote(self, ref: FrameRef, stamp: FileStamp) -> bool:
        """Whether the frame's mask file with this stamp is one this store wrote, or (None)
        its absence one this store made (else another program did it)."""
        return ref in self._written and self._written[ref] == stamp

    def disown(self, ref: FrameRef) -> None:
        """Another program changed the frame's mask file: what this store wrote (or removed)
        there is history, so a later change is never taken for its own."""
        self._written.pop(ref, None)

    def _note_written(self, job: WriteJob) -> None:
        """Note the mask file a SAVE or REMOVE `job` left (from the writer, not a look at the
        file now, which may show another program's change made since)."""
        if job.kind == WriteKind.REMOVE:
            self._written[job.key] = None
        elif job.written is not None:
            self._written[job.key] = job.written
        else:  # not known: none of the files there is taken for ours
            self._written.pop(job.key, None)

    def _void(self, shape) -> np.ndarray:
        return np.full(tuple(shape), self.label_set.void_index, np.uint8)

    def _locked(self, ref: FrameRef, shape, reason: str) -> FrameLabels:
        return FrameLabels(ref, self._void(shape), from_file=False, locked=reason, parent=self)

    def _keep(self, labels: FrameLabels) -> FrameLabels:
        self._labels[labels.key] = labels
        labels.dirtyChanged.connect(lambda _dirty, key=labels.key: self.stateChanged.emit(key))
        labels.dirtyChanged.connect(lambda dirty, l=labels: dirty or self._clean_again(l))
        labels.startedChanged.connect(
            lambda _started, key=labels.key: self.stateChanged.emit(key))
        return labels

    def _clean_again(self, labels: FrameLabels) -> None:
        """Undone or redone back to what is saved: its autosave holds nothing to keep, and
        a crash must not bring it back (an accept redone would come back undone)."""
        if labels.autosaved_revision is not None and not self.saving(labels.key):
            self.discard_autosave(labels)

    # ------------------------------------------------------------ saving

    def save(self, labels: FrameLabels) -> bool:
        """Write the frame's mask (in the background) if it has unsaved changes; with every
        edit of a frame opened without a mask undone, remove the mask saved since."""
        if not labels.dirty or labels.locked:
            return False
        job = self._save_job(labels)  # before the labels turn clean
        if job.after:  # the save may wait (up to 10 s): killed meanwhile, its autosave is
            self.writer.put(self._autosave_job(labels))  # kept (a kill -9 check: 36 lost)
        self._in_flight[labels.key] = self._in_flight.get(labels.key, 0) + 1
        labels.mark_saved()
        self.writer.put(job)
        return True

    def save_now(self, labels: FrameLabels) -> str:
        """Write the mask on this thread, after the writer's queue; '' or why it failed."""
        if not labels.dirty or labels.locked:
            return ""
        if not self.finish_writes():  # never write beside the writer thread; its news first
            return "earlier writes are still going on (a slow or hung disk?); try again"
        job = self._save_job(labels)
        try:
            if job.after:  # the save may wait: its autosave first, as `save` does
                run_job(self._autosave_job(labels))
            job = run_job(job)
        except (SegNetError, OSError, ValueError) as error:
            self.saveFailed.emit(labels.key)
            return str(error)
        self._note_written(job)
        labels.mark_saved()
        labels.from_file = job.kind == WriteKind.SAVE
        self.stateChanged.emit(labels.key)
        self.saved.emit(labels.key)
        self.written.emit(labels.key, job.mask, job.previous)
        return ""

    def autosave(self) -> int:
        """Write the autosave of every frame changed since its last one, and remove those of
        frames that are clean again; how many were written."""
        written = 0
        self.discard_stale_autosaves()
        for labels in self._labels.values():
            if not labels.dirty or labels.undone_to_nothing:
                continue
            marks = (self.unaccepted(labels.key), self.guessed(labels.key))
            if labels.revision != labels.autosaved_revision or \
                    marks != labels.autosaved_propagated:
                self.writer.put(self._autosave_job(labels))
                written += 1
        return written

    def _autosave_job(self, labels: FrameLabels) -> WriteJob:
        """An autosave of the labels as they are, noted as written. Never held back by a
        list it describes (`before_autosave` queues their lines first, not waited for): it
        may be all that is left of the edits (a kill -9 check)."""
        ref = labels.key
        marks = (self.unaccepted(ref), self.guessed(ref))
        labels.autosaved_revision = labels.revision
        labels.autosaved_propagated = marks
        for hook in self.before_autosave:
            hook(ref)
        return replace(self._job(WriteKind.AUTOSAVE, labels), propagated=marks[0],
                       guess=marks[1])

    def discard_stale_autosaves(self) -> None:
        """Remove the autosaves of frames with nothing left to keep: clean again (every edit
        since the last save undone), or back to no mask. The window does it on close too,
        so that an edit undone after its autosave is not offered back next time."""
        for labels in self._labels.values():
            if labels.autosaved_revision is not None and (labels.undone_to_nothing
                                                          or not labels.dirty):
                self.discard_autosave(labels)

    def discard_autosave(self, labels: FrameLabels) -> None:
        labels.autosaved_revision = None
        labels.autosaved_propagated = (False, False)
        folder, name = location(labels.key)
        self.writer.put(WriteJob(WriteKind.DISCARD_AUTOSAVE, labels.key, folder, name))

    def _save_job(self, labels: FrameLabels) -> WriteJob:
        """The SAVE (or REMOVE) of the labels as they are; a SAVE with the writes it must
        follow (`before_save`)."""
        job = self._job(self._save_kind(labels), labels)
        if job.kind != WriteKind.SAVE:
            return job
        return replace(job, after=tuple(write for hook in self.before_save
                                        if (write := hook(labels.key)) is not None))

    @staticmethod
    def _save_kind(labels: FrameLabels) -> WriteKind:
        """SAVE, or REMOVE for a frame opened without a mask with every edit undone."""
        return WriteKind.REMOVE if labels.undone_to_nothing else WriteKind.SAVE

    def _job(self, kind: WriteKind, labels: FrameLabels) -> WriteJob:
        folder, name = location(labels.key)
        mask = None if kind == WriteKind.REMOVE else labels.mask.copy()
        # the saved mask this one replaces, for whoever asked (`keeps_previous`); unknown
        # while an earlier save is on its way (it may yet fail)
        previous = (labels.saved_mask() if kind == WriteKind.SAVE and not self.saving(labels.key)
                    and self.keeps_previous(labels.key) else None)
        return WriteJob(kind, labels.key, folder, name, mask, self.label_set, labels.revision,
                        previous=previous)

    def _on_written(self, job: WriteJob) -> None:
        if job.kind not in (WriteKind.SAVE, WriteKind.REMOVE):
            return
        labels = self._labels.get(job.key)
        self._note_written(job)
        self._saved(job.key)
        if labels is not None:
            labels.from_file = job.kind == WriteKind.SAVE
            self.stateChanged.emit(job.key)
        self.saved.emit(job.key)
        self.written.emit(job.key, job.mask if job.kind == WriteKind.SAVE else None,
                          job.previous)
        self.writeDone.emit(job.key)

    def _saved(self, ref: FrameRef) -> None:
        left = self._in_flight.pop(ref, 0) - 1
        if left > 0:
            self._in_flight[ref] = left

    def _on_write_failed(self, job: WriteJob, reason: str) -> None:
        labels = self._labels.get(job.key)
        saving = job.kind in (WriteKind.SAVE, WriteKind.REMOVE)
        if saving:
            self._saved(job.key)
        if saving and labels is not None:
            labels.mark_unsaved()
            self.stateChanged.emit(job.key)
        if job.kind == WriteKind.AUTOSAVE and labels is not None and \
                labels.autosaved_revision == job.revision:
            labels.autosaved_revision = None  # tried again at the next autosave (a review)
        what = {WriteKind.SAVE: "not saved",
                WriteKind.REMOVE: "not removed"}.get(job.kind, f"{job.kind} failed")
        self.problem.emit(job.folder.mask_path(job.name), f"{what}: {reason}")
        if saving:
            self.saveFailed.emit(job.key)
            self.writeDone.emit(job.key)

    # ------------------------------------------------------------ recovery

    def recoveries(self, refs) -> list[tuple[FrameRef, Recovery]]:
        """Frames among `refs` whose autosave is newer than their saved mask."""
        by_folder: dict[LabelsFolder, dict[str, FrameRef]] = {}
        for ref in refs:
            folder, name = location(ref)
            by_folder.setdefault(folder, {})[name] = ref
        found = []
        for folder, names in by_folder.items():
            for recovery in folder.newer_autosaves():
                ref = names.get(recovery.name)
                if ref is not None and ref not in self._labels:
                    found.append((ref, recovery))
        return found

    def restore(self, ref: FrameRef, recovery: Recovery) -> bool:
        """Bring an autosave back as an undoable edit of the frame (unsaved until saved), or,
        when it holds the saved mask's labels marked propagated, that mark; False when nothing
        came back."""
        folder, name = location(ref)
        try:
            mask = folder.read_autosave(name, self.label_set)
        except SegNetError as error:
            self.problem.emit(recovery.autosave, str(error))
            return False
        if mask is None:
            return False
        labels = self.open_for_edit(ref, mask.shape)
        if labels is None:
            return False
        if not labels.apply(replace_mask(labels.mask, mask), "Restore autosave"):
            self.discard_autosave(labels)  # the saved mask holds it already...
            if recovery.propagated and labels.from_file:  # ...but not accepted
                self.unacceptedOnDisk.emit(ref)
                return True
            return False
        self.restored.emit(ref, recovery.propagated, recovery.guess)
        return True

    def discard_recovery(self, ref: FrameRef) -> None:
        folder, name = location(ref)
        self.writer.put(WriteJob(WriteKind.DISCARD_AUTOSAVE, ref, folder, name))
        self.recoveryDiscarded.emit(ref)
