"""The commands' text progress bar."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from segnet_core.events import format_duration


class ProgressBar:
    """`label [#####.....] done/total extra  elapsed<left` on one line (redrawn on a TTY,
    printed at most every `interval` seconds otherwise). `finish(done)` ends it at what
    there was when the total was only an estimate."""

    def __init__(self, total: int, label: str = "", stream: TextIO | None = None,
                 width: int = 24, interval: float = 5.0):
        self.total = max(1, int(total))
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.interval = interval
        self.start = time.monotonic()
        self._last_print = 0.0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._drawn_final = False  # the line of done == total was drawn
        self._line_open = False  # a TTY line drawn without its newline

    def update(self, done: int, extra: str = "", left_seconds: float | None = None) -> None:
        now = time.monotonic()
        final = done >= self.total
        if not self._tty and not final and now - self._last_print < self.interval:
            return
        self._last_print = now
        elapsed = now - self.start
        if left_seconds is None and done > 0:
            left_seconds = elapsed / done * (self.total - done)
        filled = int(self.width * min(done, self.total) / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        left = format_duration(left_seconds) if left_seconds is not None else "?"
        line = (f"{self.label} [{bar}] {done}/{self.total} {extra} "
                f"{format_duration(elapsed)}<{left}").rstrip()
        if self._tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
            self._line_open = not final
        else:
            self.stream.write(line + "\n")
        self._drawn_final = final
        self.stream.flush()

    def finish(self, done: int, extra: str = "") -> None:
        """End the bar at `done` when the total was more than there was (inputs skipped, a
        video shorter than its container said): the total shrinks to `done`, so the last line
        reads done/done rather than stopping short. Nothing is drawn when nothing was done
        (the command says why)."""
        if done > 0 and not (self._drawn_final and done == self.total):
            self.total = int(done)
            self.update(done, extra, left_seconds=0.0)
        self.close()

    def rate(self, done: int) -> float:
        """Items per second since the bar was made."""
        return done / max(1e-9, time.monotonic() - self.start)

    def close(self) -> None:
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False
