"""Runs `propagate_sequence` on a thread of its own: the frames are read there (a FrameReader
of its own), each propagated frame is handed to the GUI thread as soon as it is done."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

from segnet_core.editing.propagate import propagate_sequence
from segnet_core.errors import SegNetError

from app.frames import FrameReader, FrameRef
from app.workers.task import Task, WorkerThread


@dataclass(frozen=True)
class PropagationJob:
    """Carry `mask` (the labels of `refs[0]`) to `refs[1]`, `refs[2]`, ... in turn.
    `fallbacks`: the model's labels of some of those frames, by their index in `refs`,
    filled in where the flow is not trusted (void elsewhere)."""

    refs: list[FrameRef]
    mask: np.ndarray
    void_index: int
    fallbacks: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return len(self.refs) - 1


@dataclass(frozen=True)
class PropagationEnd:
    """How a job ended: frames done of those asked, cancelled, or the error that stopped it."""

    done: int
    total: int
    cancelled: bool
    error: str = ""


class _Frames:
    """The job's frames as `propagate_sequence` reads them: by index, one at a time."""

    def __init__(self, refs: list[FrameRef], reader: FrameReader) -> None:
        self._refs, self._reader = refs, reader

    def __len__(self) -> int:
        return len(self._refs)

    def __getitem__(self, index: int) -> np.ndarray:
        return self._reader.read(self._refs[index])


class PropagationWorker(QObject):
    """`run(job)` from the GUI thread (one job at a time). Emits `frameReady(ref, mask,
    unreliable_share, filled_by_model)` per frame, `progress(done, total)`, then
    `ended(PropagationEnd)`."""

    frameReady = Signal(object, object, float, bool)
    progress = Signal(int, int)
    ended = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = WorkerThread("propagation", self)
        self.tasks.start()

    def run(self, job: PropagationJob) -> Task:
        """Start `job`; its task (to cancel it)."""
        return self.tasks.submit(self._run, job)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        return self.tasks.shutdown(timeout_ms)

    def _run(self, task: Task, job: PropagationJob) -> None:
        reader = FrameReader()
        done, error = 0, ""
        try:
            steps = propagate_sequence(
                _Frames(job.refs, reader), 0, job.mask, job.steps, void_index=job.void_index,
                fallback=lambda index, _image: job.fallbacks.get(index), cancel=task.token,
                progress=lambda finished, total: self.progress.emit(finished, total))
            for step in steps:
                done += 1
                self.frameReady.emit(job.refs[step.index], step.mask, step.unreliable_share,
                                     step.index in job.fallbacks)
        except SegNetError as failure:  # a frame unreadable: its error names it
            error = str(failure)
        except ValueError as failure:  # of another size than the frame before
            error = f"at {job.refs[min(done + 1, len(job.refs) - 1)].name}: {failure}"
        finally:
            reader.close()
        self.ended.emit(PropagationEnd(done, job.steps, task.cancelled, error))
