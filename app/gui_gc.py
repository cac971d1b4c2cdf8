"""Python's garbage collector on the GUI thread only.

The collector runs in whichever thread happens to allocate past its threshold. When that is
a worker thread (the inference worker building a model, say) and the garbage holds a Qt
object in a reference cycle (a closed dialog, a disconnected controller), the object is
deleted off the GUI thread, which can crash the process. While the window lives, automatic
collection is off and this object collects on the GUI thread from a timer instead: the
youngest generation every second, the middle one every 10 s, everything every minute.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000):
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._ticks = 0
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._collect)
        self._timer.start(interval_ms)

    def _collect(self) -> None:
        self._ticks += 1
        gc.collect(2 if self._ticks % 60 == 0 else 1 if self._ticks % 10 == 0 else 0)

    def stop(self) -> None:
        """Collect once more here and give collection back to Python (the window closed and
        its workers have stopped)."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
