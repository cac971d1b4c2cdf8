"""Writes label masks on its own thread, in the order asked.

A 360x480 index PNG takes 3-16 ms to write and fsync here, a 4000x3000 one about 90 ms: too
long for the GUI thread, which hands over a copy of the mask and goes on. Jobs run first in,
first out, so a later save of a mask always lands after an earlier one (and after its
autosave, which the save removes).
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Hashable

import numpy as np
from PySide6.QtCore import QObject, Signal

from segnet_core.atomic import FileStamp
from segnet_core.errors import SegNetError
from segnet_core.labels import LabelSet
from segnet_core.masks.labels_folder import LabelsFolder

from app.workers.task import Task, WorkerThread

#: how long a job waits for the writes it must follow (`WriteJob.after`): small list files,
#: so only a hung disk takes this long; then the job fails (the frame stays unsaved, its
#: edits in their autosave), rather than write a mask its lists do not describe
AFTER_WAIT_S = 10.0

#: waits (up to the seconds given) for a write on another thread that must land first:
#: "" once it has, else why not
WriteFirst = Callable[[float], str]


class WriteKind(enum.StrEnum):
    SAVE = "save"
    AUTOSAVE = "autosave"
    DISCARD_AUTOSAVE = "discard autosave"
    REMOVE = "remove"  # the frame's mask and autosave: every edit of it undone


@dataclass(frozen=True)
class WriteJob:
    """Write mask `name` of `folder` (DISCARD_AUTOSAVE: remove its autosave; REMOVE: the mask
    and its autosave; neither needs `mask`). `key` and `revision` travel back with the
    result so the GUI knows what was written."""

    kind: WriteKind
    key: Hashable
    folder: LabelsFolder
    name: str
    mask: np.ndarray | None = None
    label_set: LabelSet | None = None
    revision: int = 0
    propagated: bool = False  # an autosave of propagated labels not accepted yet
    guess: bool = False  # ... carried from the model's own prediction
    #: SAVE: the saved mask this one replaces, where the frame's edit history reaches it
    previous: np.ndarray | None = None
    #: SAVE, once done: the stamp of the mask file written (`segnet_core.atomic.FileStamp`)
    written: FileStamp = None
    #: writes on other threads that must land first: a propagated frame's lines in the
    #: labels folder's lists go before its mask (`LabelStore.before_save`)
    after: tuple[WriteFirst, ...] = ()


def run_job(job: WriteJob) -> WriteJob:
    """Do `job` on the calling thread (raises SegNetError or OSError); the job as done (a
    SAVE's with `written`, the stamp of the file it wrote)."""
    for write_first in job.after:
        why = write_first(AFTER_WAIT_S)
        if why:
            raise SegNetError(f"it waits for {why}, so that the two stay in step")
    if job.kind == WriteKind.SAVE:
        return replace(job, written=job.folder.save(job.name, job.mask, job.label_set))
    elif job.kind == WriteKind.AUTOSAVE:
        job.folder.autosave(job.name, job.mask, job.label_set, job.propagated, job.guess)
    elif job.kind == WriteKind.DISCARD_AUTOSAVE:
        job.folder.discard_autosave(job.name)
    elif job.kind == WriteKind.REMOVE:
        job.folder.remove(job.name)
    else:
        raise ValueError(f"unknown write job {job.kind!r}")
    return job


class MaskWriter(QObject):
    """`put(job)` from the GUI thread; `done(job)` or `failed(job, reason)` comes back."""

    done = Signal(object)
    failed = Signal(object, str)

    def __init__(self) -> None:
        super().__init__()
        self.tasks = WorkerThread("mask writer", self)
        #: called on the writer thread with the labels folder a save or autosave is about
        #: to write into (the window marks it as its own: `LiveSessions.claim`)
        self.before_write: Callable[[LabelsFolder], None] = lambda _folder: None
        self._queued: list[WriteJob] = []  # asked for and not done yet, in order
        self._lock = threading.Lock()

    def start(self) -> None:
        self.tasks.start()

    def put(self, job: WriteJob) -> None:
        with self._lock:
            self._queued.append(job)
        self.tasks.submit(self._write, job)

    def on_their_way(self) -> list[Path]:
        """The files of the jobs asked for and not done yet (a mask, or an autosave), in
        the order asked."""
        with self._lock:
            jobs = list(self._queued)
        paths = [job.folder.autosave_path(job.name)
                 if job.kind in (WriteKind.AUTOSAVE, WriteKind.DISCARD_AUTOSAVE)
                 else job.folder.mask_path(job.name) for job in jobs]
        return list(dict.fromkeys(paths))

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until every job asked for so far is done; False on timeout."""
        return self.tasks.wait_idle(timeout_s)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Finish the jobs asked for, then stop the thread (`timeout_ms` for each, at most;
        a job a hung disk holds is left behind: `task.left_running`)."""
        self.wait_idle(timeout_ms / 1000)
        return self.tasks.shutdown(timeout_ms)

    def _write(self, _task: Task, job: WriteJob) -> None:  # writer thread
        try:
            if job.kind in (WriteKind.SAVE, WriteKind.AUTOSAVE):
                self.before_write(job.folder)
            done = run_job(job)
        except (SegNetError, OSError, ValueError) as error:
            self.failed.emit(job, str(error))
        else:
            self.done.emit(done)
        finally:
            with self._lock:
                self._queued.remove(job)
