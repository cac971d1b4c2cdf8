"""Estimates that wait: Segment all shows every frame's labels first and runs the estimates'
extra passes after, when the model's calibration needs them (scale agreement: on this 2-core
CPU the shipped model's estimate costs about 2.4 times its segmentation, so every frame's
labels now come 3.3 times sooner: `benchmarks/segment_all_order.py`, docs/training.md).

A frame waiting for its estimate keeps what the estimate needs from its segmentation: the
summary of its confidence map (a number) and its labels, PNG-compressed (a CamVid frame's
label map, 173 KB as it is, takes about 6 KB). Past `max_bytes` the labels are not kept and
the frame is segmented again for its estimate, so a long video costs time, not memory.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Hashable

import cv2
import numpy as np

#: At most this many bytes of compressed label maps wait (about 10,000 CamVid frames).
DEFAULT_BUDGET = 64 * 1024 * 1024


@dataclass(frozen=True)
class WaitingFrame:
    """A segmented frame waiting for its estimate."""

    key: Hashable
    summary: float  # `AccuracyCalibration.summary_of` its confidence map
    png: bytes | None  # its labels, or None when they were not kept (segment it again)

    def labels(self) -> np.ndarray | None:
        if self.png is None:
            return None
        return cv2.imdecode(np.frombuffer(self.png, np.uint8), cv2.IMREAD_UNCHANGED)


class DeferredEstimates:
    """The frames waiting for their estimates, first in first out. Used from one thread."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = int(DEFAULT_BUDGET if max_bytes is None else max_bytes)
        self._waiting: OrderedDict[Hashable, WaitingFrame] = OrderedDict()
        self._bytes = 0
        self.added = 0  # frames that came to wait (once each while waiting)

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._waiting

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def add(self, key: Hashable, labels: np.ndarray, summary: float) -> None:
        """`key` waits for its estimate, with its labels (HxW uint8) kept if they fit."""
        if key not in self._waiting:
            self.added += 1
        self.discard(key)
        png = None
        if self._bytes < self.max_bytes:
            ok, encoded = cv2.imencode(".png", np.ascontiguousarray(labels, dtype=np.uint8))
            if ok and self._bytes + encoded.nbytes <= self.max_bytes:
                png = encoded.tobytes()
                self._bytes += len(png)
        self._waiting[key] = WaitingFrame(key, float(summary), png)

    def discard(self, key: Hashable) -> None:
        """`key` waits no longer (estimated meanwhile)."""
        frame = self._waiting.pop(key, None)
        if frame is not None and frame.png is not None:
            self._bytes -= len(frame.png)

    def pop(self) -> WaitingFrame | None:
        """The frame that has waited longest, no longer waiting; None when none waits."""
        if not self._waiting:
            return None
        key = next(iter(self._waiting))
        frame = self._waiting[key]
        self.discard(key)
        return frame

    def keys(self) -> list[Hashable]:
        return list(self._waiting)
