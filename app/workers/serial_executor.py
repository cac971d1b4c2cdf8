"""One background thread running the calls given to it in order, each with a
`concurrent.futures.Future`, for small file jobs off the GUI thread (the lists beside the
masks, reading a mask to measure it).

Unlike `ThreadPoolExecutor`, whose threads Python joins at exit, its thread is a daemon: a
call a hung disk holds (a network share that stopped answering), which the user chose to
close the window without, does not keep the process alive after the window has gone (a
review: the process stayed until killed). `shutdown` waits as long as it is told to.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable


class SerialExecutor:
    """`submit(fn, *args)` -> Future; the calls run one at a time, first in, first out, on a
    daemon thread started by the first call."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name}: cannot take a call after shutdown")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            future: Future = Future()
            self._queue.put((future, fn, args, kwargs))
        return future

    def shutdown(self, timeout_s: float | None = None, cancel_futures: bool = False) -> bool:
        """Take no more calls; with `cancel_futures`, cancel those not started. Wait for the
        thread to finish the rest, `timeout_s` at most (None: for good); whether it did. A
        call still running after that is left behind: it ends with the process."""
        with self._lock:
            self._closed = True
            if cancel_futures:
                while True:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is not None:  # a shutdown's before
                        job[0].cancel()
            self._queue.put(None)
            thread = self._thread
        if thread is None:
            return True
        thread.join(timeout_s)
        return not thread.is_alive()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:  # handed to whoever waits on the future
                future.set_exception(error)
            else:
                future.set_result(result)
