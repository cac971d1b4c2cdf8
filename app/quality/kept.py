"""The estimates of the frames open, kept on disk between sessions
(`segnet_core.kept_estimates`): a video or folder opened again with the same model shows every
frame's estimate, the strip and Next suggested frame at once, without Segment all.

The quality controller says which frames' values changed (`changed`); they are written on this
feature's own thread at most every `SAVE_EVERY_MS`, before another model replaces them, and on
closing. As frames open, and when a model is loaded, what is kept of their sources for that
model is read on the same thread and handed back (`restored`); the controller takes only
what it has not computed meanwhile. Coming back to the window (`refresh`), a source whose
file another program wrote since (`segnet-studio rank`) is read again, so its estimates show
without opening the frames again. A store that cannot be written is said once, in
Problems: the estimates are then computed again next time, nothing else is lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, NamedTuple

from PySide6.QtCore import QObject, QTimer, Signal

from segnet_core.atomic import FileStamp, file_stamp
from segnet_core.kept_estimates import (  # noqa: F401 - CACHE_ENV, estimates_folder: here too
    CACHE_ENV, EstimateStore, FrameKey, SourceEstimates, estimates_folder, frame_source,
    model_key)

from app.frames import FrameRef
from app.workers.task import Task, WorkerThread

SAVE_EVERY_MS = 10_000
SHUTDOWN_WAIT_S = 10.0

#: A source of frames: (a video file, True) or (a folder of images, False)
Source = tuple[Path, bool]
Values = dict[FrameRef, float]


class _Read(NamedTuple):
    """What this feature's thread read of a source for a model."""

    model: str
    source: Source
    kept: SourceEstimates


class _Written(NamedTuple):
    """A source's file this feature's thread wrote for a model, and its stamp then."""

    model: str
    source: Source
    stamp: FileStamp


def source_of(ref: FrameRef) -> tuple[Source, FrameKey]:
    """The source a frame is kept under, and its key there."""
    source, video, key = frame_source(ref.path, ref.index if ref.is_video_frame else None)
    return (source, video), key


def ref_of(source: Source, key: FrameKey) -> FrameRef:
    path, video = source
    return FrameRef(path, key) if video else FrameRef(path / key)


class KeptEstimates(QObject):
    """Emits `restored(estimates, measured)`, each {FrameRef: value}, with what was kept for
    the model in use of the sources asked for (`load`)."""

    restored = Signal(object, object)

    def __init__(self, store: EstimateStore | None,
                 snapshot: Callable[[], tuple[Values, Values]],
                 report: Callable[[Path | None, str], None],
                 parent: QObject | None = None) -> None:
        """`snapshot()` gives the estimates (before levelling) and real accuracies now held;
        `report(path, reason)` says a failure to write (once a session)."""
        super().__init__(parent)
        self.store = store
        self._snapshot = snapshot
        self._report = report
        self._model: str | None = None
        #: the frames of each source read (or being read) for this model
        self._asked: dict[Source, set[FrameKey]] = {}
        #: the frames whose values changed since they were written, by source, each with the
        #: stamp its image (or video) file had then: only these are written, with those
        #: stamps, so a value is never stamped anew later, when its file may have changed
        #: (images are not watched)
        self._changed: dict[Source, dict[FrameKey, FileStamp]] = {}
        self._reported = False
        #: the stamp each source's file had when last read or written here (a file written
        #: by another program since is read again: `refresh`)
        self._stamps: dict[Source, FileStamp] = {}
        self._reads: set[Task] = set()  # reads not handed back yet
        self._after_reads: list[Callable[[], None]] = []  # `after_reads`' calls waiting
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_EVERY_MS)
        self._timer.timeout.connect(self.save)
        self.tasks = WorkerThread("kept estimates", self)
        self.tasks.returned.connect(self._on_returned)
        self.tasks.errored.connect(self._on_errored)
        self.tasks.start()

    def set_model(self, path: str | Path) -> None:
        """The model in use is now the file `path`. Call it while the previous model's
        values are still held: they are saved first."""
        self.save()
        self._model = None if self.store is None else model_key(path)
        self._asked = {}
        self._changed = {}
        self._stamps = {}

    def load(self, refs: Iterable[FrameRef]) -> None:
        """Read what is kept of the sources of `refs` that have frames not read yet for this
        model (a folder whose single image was opened first is read again with the rest)."""
        if self._model is None:
            return
        new: dict[Source, set[FrameKey]] = {}
        for ref in refs:
            source, key = source_of(ref)
            if key not in self._asked.get(source, ()):
                new.setdefault(source, set()).add(key)
        for source, keys in new.items():
            self._asked.setdefault(source, set()).update(keys)
            self._submit_read(source)

    def refresh(self) -> int:
        """Read again the sources whose file changed since it was last read or written here
        (another program wrote it: `rank`); a stat each. How many are read."""
        if self._model is None:
            return 0
        now = {source: self._stamp_now(source) for source in self._asked}
        changed = [source for source, stamp in now.items()
                   if stamp is not None and stamp != self._stamps.get(source)]
        for source in changed:
            self._submit_read(source)
        return len(changed)

    def _stamp_now(self, source: Source) -> FileStamp:
        return file_stamp(self.store.path_of(self._model, source[0]))

    def _submit_read(self, source: Source) -> None:
        self._stamps[source] = self._stamp_now(source)  # before the read: a write meanwhile
        self._reads.add(self.tasks.submit(self._read, self.store, self._model, source))

    def after_reads(self, then: Callable[[], None]) -> None:
        """Call `then` once the reads asked for so far have been handed back (`restored`):
        at once when none is under way."""
        if self._reads:
            self._after_reads.append(then)
        else:
            then()

    def changed(self, ref: FrameRef) -> None:
        """A frame's estimate or real accuracy changed: write it soon."""
        if self._model is None:
            return
        source, key = source_of(ref)
        self._changed.setdefault(source, {})[key] = file_stamp(ref.path)  # a stat: ~10 us
        if not self._timer.isActive():
            self._timer.start()

    def save(self) -> None:
        """Write the values of the frames changed since the last save (on this feature's
        thread; the values are taken now; a frame that has none now loses its entry)."""
        self._timer.stop()
        if self._model is None or not self._changed:
            return
        estimates, measured = self._snapshot()
        for source, frames in self._changed.items():
            kept = SourceEstimates()
            for key in frames:
                ref = ref_of(source, key)
                if ref in estimates:
                    kept.estimates[key] = estimates[ref]
                if ref in measured:
                    kept.measured[key] = measured[ref]
            self.tasks.submit(self._write, self.store, self._model, source, frames, kept)
        self._changed = {}

    def same_model(self, path: str | Path, copy: str | Path) -> None:
        """The file `copy` holds the same model as the file `path` (a fine-tune round saved
        the model in use as the project's original version): what is kept for `path`, its
        latest values included, is kept for `copy` too, so going back to that version later
        brings them back at once."""
        if self.store is None:
            return
        self.save()  # first (this thread runs its tasks in turn)
        model, twin = model_key(path), model_key(copy)
        if model is not None and twin is not None and model != twin:
            self.tasks.submit(self._copy, self.store, model, twin)

    def shutdown(self) -> None:
        """Write what is not written yet, wait for it (a few small files), stop the thread."""
        self.save()
        self.tasks.wait_idle(SHUTDOWN_WAIT_S)
        self.tasks.shutdown()

    # --------------------------------------------------------- this feature's thread

    @staticmethod
    def _read(_task: Task, store: EstimateStore, model: str, source: Source) -> _Read:
        return _Read(model, source, store.load(model, *source))

    @staticmethod
    def _write(_task: Task, store: EstimateStore, model: str, source: Source,
               frames: dict[FrameKey, FileStamp], kept: SourceEstimates) -> _Written:
        _path, stamp = store.save_stamped(model, source[0], source[1], set(frames), kept,
                                          image_stamps=frames)
        return _Written(model, source, stamp)

    @staticmethod
    def _copy(_task: Task, store: EstimateStore, model: str, twin: str) -> None:
        store.copy_model(model, twin)

    # --------------------------------------------------------- back on the GUI thread

    def _on_returned(self, task: Task, result) -> None:
        if isinstance(result, _Written) and result.model == self._model:
            self._stamps[result.source] = result.stamp  # our own write: not read again
        elif isinstance(result, _Read) and result.model == self._model:  # not replaced since
            source, kept = result.source, result.kept
            self.restored.emit(
                {ref_of(source, key): value for key, value in kept.estimates.items()},
                {ref_of(source, key): value for key, value in kept.measured.items()})
        self._read_done(task)

    def _read_done(self, task: Task) -> None:
        self._reads.discard(task)
        if not self._reads:
            waiting, self._after_reads = self._after_reads, []
            for then in waiting:
                then()

    def _on_errored(self, task: Task, error: Exception) -> None:
        self._read_done(task)
        if self._reported:
            return
        self._reported = True  # once a session: it would say the same each time
        why = getattr(error, "strerror", None) or error
        self._report(None, f"Cannot keep the estimates for the next session in "
                           f"{self.store.root} ({why}); they will be computed again")
