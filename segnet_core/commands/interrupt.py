"""Ctrl-C during long work: the first press asks the work to stop at its next step, the
second aborts at once."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

from segnet_core.events import CancelToken


@contextmanager
def cancel_on_ctrl_c(message: str) -> Iterator[CancelToken]:
    """A CancelToken that the first Ctrl-C sets, printing `message` (what happens next);
    a second Ctrl-C raises KeyboardInterrupt. Off the main thread, where signals cannot be
    caught, the token is only handed out."""
    cancel = CancelToken()

    def on_interrupt(signum, frame):
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()
        print(f"\n{message} (Ctrl-C again to abort now)", file=sys.stderr)

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_interrupt) if main_thread else None
    try:
        yield cancel
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous)
