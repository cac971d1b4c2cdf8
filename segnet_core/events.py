"""What long work in the core hands its caller: a cancel token, and the shape of its
progress reports.

The core never draws progress: it reports through callbacks and stops through a
`CancelToken`. The CLI draws a text bar (`segnet_core.commands.progress_bar`) and the app its
widgets from the same reports.
"""

from __future__ import annotations

import threading
from typing import Callable

#: A count report, `progress(done, total)`: `done` items of `total` are finished (from 1).
CountProgress = Callable[[int, int], None]


class CancelToken:
    """Set from any thread (a signal handler, the GUI); long work checks it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def format_duration(seconds: float) -> str:
    """A time left or taken as `m:ss`, or `h:mm:ss` from an hour on."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
