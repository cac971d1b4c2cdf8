"""Decodes a video's frames ahead of playback on a thread of its own.

Plain Python threading (no Qt): the GUI's playback timer pulls frames with `take(index)`;
the thread keeps at most `ahead` decoded frames waiting, so memory stays bounded and a seek
costs only the frames in flight. The first frame that does not decode ends the stream and is
reported as an `End` with the reason (a truncated file, a broken frame).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from segnet_core.errors import SegNetError
from segnet_core.io.video import VideoFrames


@dataclass(frozen=True)
class End:
    """The stream ended before frame `index`: `reason` is '' at the expected end."""

    index: int
    reason: str = ""


@dataclass(frozen=True)
class Decoded:
    index: int
    image: np.ndarray
    extra: object = None  # what the companion gave for the frame (its saved mask)


class FrameDecoder:
    """Reads frames `first`, `first+1`, ... of `path` until `stop` index (exclusive).

    `companion(index)` runs on the decoder thread for each frame (it must be thread-safe).
    """

    def __init__(self, path: str | Path, first: int, stop: int, *, ahead: int = 3,
                 companion: Callable[[int], object] | None = None) -> None:
        self.path = Path(path)
        self._next = int(first)
        self._stop = int(stop)
        self._ahead = max(1, int(ahead))
        self._companion = companion
        self._buffer: dict[int, Decoded] = {}
        self._end: End | None = None
        self._closed = False
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="playback decoder", daemon=True)
        self._thread.start()

    def take(self, index: int) -> Decoded | End | None:
        """The newest decoded frame at or before `index` (older ones are dropped: a display
        that runs ahead of the decoder skips frames rather than falling behind), the End
        when the stream ended at or before `index` with nothing left to show, None when no
        frame up to `index` is decoded yet."""
        with self._lock:
            ready = [i for i in self._buffer if i <= index]
            found = None
            if ready:
                newest = max(ready)
                found = self._buffer.pop(newest)
                for old in ready:
                    self._buffer.pop(old, None)
            self._lock.notify_all()
            if found is not None:
                return found
            if self._end is not None and self._end.index <= index:
                return self._end
            return None

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            self._buffer.clear()
            self._lock.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            video = VideoFrames(self.path)
        except SegNetError as error:
            self._finish(End(self._next, error.reason))
            return
        try:
            index = self._next
            while index < self._stop:
                with self._lock:
                    while not self._closed and len(self._buffer) >= self._ahead:
                        self._lock.wait(0.5)
                    if self._closed:
                        return
                try:
                    image = video.read(index)
                except SegNetError as error:
                    self._finish(End(index, error.reason))
                    return
                extra = None if self._companion is None else self._companion(index)
                with self._lock:
                    self._buffer[index] = Decoded(index, image, extra)
                    self._lock.notify_all()
                index += 1
            self._finish(End(index))
        finally:
            video.close()

    def _finish(self, end: End) -> None:
        with self._lock:
            self._end = end
            self._lock.notify_all()
