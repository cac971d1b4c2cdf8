"""Watching the GUI thread while a worker runs: the ticks of a 10 ms timer (their largest
gap is the longest time the event loop was held up) and the threads that ran a model.

The tests hold two guarantees: no model runs on the GUI thread (checked exactly, through a
forward hook on every torch module), and the event loop keeps ticking (checked with a
generous `STALL_LIMIT_S`, so a busy machine does not fail it). The tight figure, no stall
over 100 ms, is measured by benchmarks/soak.py.
"""

from __future__ import annotations

import threading
import time

import torch
from PySide6.QtCore import QTimer

STALL_LIMIT_S = 1.0
TICK_MS = 10


class GuiThreadWatch:
    """`with GuiThreadWatch() as watch:` ... then `watch.gaps`, `watch.longest_gap`,
    `watch.model_threads` (the names of the threads that ran a module's forward)."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.model_threads: set[str] = set()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self._hook = None

    def __enter__(self) -> "GuiThreadWatch":
        self._hook = torch.nn.modules.module.register_module_forward_hook(self._on_forward)
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.stop()
        self._hook.remove()

    def _on_forward(self, _module, _inputs, _output) -> None:
        self.model_threads.add(threading.current_thread().name)

    @property
    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.ticks, self.ticks[1:])]

    @property
    def longest_gap(self) -> float:
        return max(self.gaps, default=0.0)

    def wait_for_ticks(self, qtbot, count: int, timeout_ms: int = 10000) -> None:
        """Let the event loop run until `count` more ticks arrived."""
        target = len(self.ticks) + count
        qtbot.waitUntil(lambda: len(self.ticks) >= target, timeout=timeout_ms)

    def assert_gui_thread_kept_ticking(self, min_ticks: int) -> None:
        """No model ran on the GUI thread, a model did run (the watch saw it), and the
        event loop never stalled for STALL_LIMIT_S."""
        gui = threading.main_thread().name
        assert self.model_threads, "no model ran while watched: nothing was checked"
        assert gui not in self.model_threads, f"a model ran on the GUI thread {gui!r}"
        assert len(self.gaps) > min_ticks, f"only {len(self.gaps)} ticks"
        print(f"longest GUI gap {self.longest_gap * 1000:.1f} ms over {len(self.gaps)} ticks; "
              f"models ran on {sorted(self.model_threads)}")
        assert self.longest_gap < STALL_LIMIT_S, \
            f"the event loop stalled {self.longest_gap * 1000:.0f} ms"
