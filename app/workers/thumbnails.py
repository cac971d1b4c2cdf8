"""Small thumbnails of frames, made on a pool thread.

Requests pile up as the user scrolls; the newest are made first and only the last
`MAX_QUEUED` are kept, so a fast scroll through a long video does not leave a backlog.
The result is a small RGB array; the GUI turns it into a pixmap.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Callable

import cv2
import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from segnet_core.errors import SegNetError

from app.frames import FrameReader, FrameRef

THUMB_WIDTH, THUMB_HEIGHT = 64, 48
MAX_QUEUED = 64


def make_thumbnail(image: np.ndarray, width: int = THUMB_WIDTH,
                   height: int = THUMB_HEIGHT) -> np.ndarray:
    """`image` shrunk (never enlarged) to fit width x height, aspect kept."""
    h, w = image.shape[:2]
    scale = min(width / w, height / h, 1.0)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))


class _Drain(QRunnable):
    def __init__(self, drain: Callable[[], None]) -> None:
        super().__init__()
        self._drain = drain

    def run(self) -> None:
        self._drain()


class ThumbnailLoader(QObject):
    """`request(ref)` from the GUI thread; `thumbnailReady(ref, rgb array)` comes back."""

    thumbnailReady = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._lock = threading.Lock()
        self._queue: deque[FrameRef] = deque()
        self._seen: set[FrameRef] = set()  # requested once: done, queued or failed
        self._running = False
        self._stopped = False
        self._reader = FrameReader()  # used by the one pool thread only

    def request(self, ref: FrameRef) -> None:
        with self._lock:
            if self._stopped or ref in self._seen:
                return
            self._seen.add(ref)
            self._queue.append(ref)
            while len(self._queue) > MAX_QUEUED:
                self._seen.discard(self._queue.popleft())  # may be asked for again
            if self._running:
                return
            self._running = True
        self._pool.start(_Drain(self._drain))

    def forget(self, ref: FrameRef) -> None:
        """Allow `ref` to be made again (its file changed)."""
        with self._lock:
            self._seen.discard(ref)

    def shutdown(self) -> None:
        with self._lock:
            self._stopped = True
            self._queue.clear()
        self._pool.waitForDone()
        self._reader.close()

    def _drain(self) -> None:  # pool thread
        while True:
            with self._lock:
                if self._stopped or not self._queue:
                    self._running = False
                    return
                ref = self._queue.pop()  # newest first
            try:
                thumbnail = make_thumbnail(self._reader.read(ref))
            except SegNetError:
                continue  # the window reports unreadable frames when they are shown
            self.thumbnailReady.emit(ref, thumbnail)
