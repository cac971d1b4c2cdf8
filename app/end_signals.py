"""The system asks the program to end: SIGTERM (`kill`, a service manager, a shutdown) or
SIGHUP (the terminal or the session goes). The window then closes without asking anything:
the unsaved labels go to their autosaves, which the next session offers back, and a
propagation's links stay as after a crash (a user's check: `kill -TERM` lost every edit of
the last 30 seconds).

Python runs a signal handler only between bytecodes, and Qt's event loop runs none while it
waits: a timer wakes the interpreter a few times a second so the handler is not held back.
"""

from __future__ import annotations

import signal
from typing import Callable

from PySide6.QtCore import QObject, QTimer

#: How often the interpreter is woken to run a signal handler (ms)
WAKE_MS = 250


def end_on_signals(owner: QObject, end: Callable[[str], None]) -> Callable[[], None]:
    """Call `end(signal name)` on the GUI thread when SIGTERM or SIGHUP comes (those the
    platform has); returns what puts the earlier handlers back."""
    earlier = {}
    waker = QTimer(owner)
    waker.setInterval(WAKE_MS)
    waker.timeout.connect(lambda: None)

    def handler(number: int, _frame) -> None:
        name = signal.Signals(number).name
        QTimer.singleShot(0, owner, lambda: end(name))

    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            earlier[number] = signal.signal(number, handler)
    waker.start()

    def restore() -> None:
        waker.stop()
        for number, previous in earlier.items():
            signal.signal(number, previous)

    return restore
