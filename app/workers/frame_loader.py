"""Reads the frame to show on its own thread, so a large image or a video seek never holds
up the GUI. Only the newest request is kept: holding D through a folder reads the frames the
loader gets to, not every one. A companion reader (the frame's saved label mask) runs on the
same thread right after the image, and its result travels with it."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal

from segnet_core.errors import SegNetError

from app.frames import FrameReader, FrameRef
from app.workers.latest import LatestRequest
from app.workers.task import Task, WorkerThread


class FrameLoader(QObject):
    """`request(ref)` from the GUI thread; `loaded(ref, rgb array, companion result)` or
    `failed(ref, reason)` comes back. `companion(ref)` must be thread-safe and not raise."""

    loaded = Signal(object, object, object)
    failed = Signal(object, str)

    def __init__(self, companion: Callable[[FrameRef], object] | None = None) -> None:
        super().__init__()
        self.companion = companion
        self._pending: LatestRequest[FrameRef] = LatestRequest()
        self._reader = FrameReader()  # used on the loader thread only
        self.tasks = WorkerThread("frame loader", self)

    def start(self) -> None:
        self.tasks.start()

    def request(self, ref: FrameRef) -> None:
        self._pending.put(ref)
        self.tasks.submit(self._load_pending)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        self._pending.clear()
        stopped = self.tasks.shutdown(timeout_ms)
        if stopped:
            self._reader.close()
        return stopped

    def _load_pending(self, _task: Task) -> None:  # loader thread
        ref = self._pending.take()
        if ref is None:
            return
        try:
            image = self._reader.read(ref)
        except SegNetError as error:
            self.failed.emit(ref, error.reason)
        else:
            extra = None if self.companion is None else self.companion(ref)
            self.loaded.emit(ref, image, extra)
