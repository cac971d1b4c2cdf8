"""One generic worker thread: the set-up every worker of the window shares.

A `WorkerThread` is a named QThread that runs the calls submitted to it one at a time, in
the order they were submitted (as napari's `thread_worker` runs a function off the GUI
thread, and as Qt's `QtConcurrent::run` hands the function its `QPromise`). The function is
called as `fn(task, *args, **kwargs)`: it reads `task.cancelled` between steps (or hands
`task.token` to the core, which takes a CancelToken) and reports with `task.report(value)`.
A feature's worker keeps its own typed signals and emits them from the function; the
thread's signals say when a task started, reported, returned, raised and finished.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

from PySide6.QtCore import QMetaMethod, QObject, QThread, Qt, Signal, Slot

from segnet_core.events import CancelToken


#: the names of the worker threads a shutdown left running (a task a hung disk holds)
_left_running: list[str] = []


def left_running() -> list[str]:
    """The names of the worker threads still running after their shutdown gave up waiting:
    the process must end without waiting for them (`app.main_window.run`), as Qt aborts it
    when such a thread's object is deleted."""
    return list(_left_running)


class Task:
    """One submitted call. `cancel()` may be called from any thread; the function decides
    where it stops."""

    def __init__(self, thread: "WorkerThread", fn: Callable[..., Any], args: tuple,
                 kwargs: dict) -> None:
        self.token = CancelToken()
        self._thread = thread
        self._call = (fn, args, kwargs)

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def report(self, value: object) -> None:
        """From the function: emit the thread's `progress(task, value)`."""
        self._thread.progress.emit(self, value)

    def run(self) -> None:
        """Call the function on the calling thread and emit what became of it."""
        fn, args, kwargs = self._call
        thread = self._thread
        thread.started.emit(self)
        try:
            result = fn(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - reported; the thread serves the next task
            thread.report_error(self, error)
        else:
            thread.returned.emit(self, result)
        finally:
            thread.finished.emit(self)


class _Runner(QObject):
    """Lives on the worker thread: runs each task that arrives through its queued signal."""

    submitted = Signal(object)

    def __init__(self, done: Callable[[], None]) -> None:
        super().__init__()
        self._done = done
        self.submitted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, task: Task) -> None:
        try:
            task.run()
        finally:
            self._done()


class WorkerThread(QObject):
    """Runs submitted calls on one QThread named `name`, first in, first out.

    Signals (emitted on the worker thread, delivered queued to GUI-thread receivers):
    `started(task)`, `progress(task, value)`, `returned(task, result)`,
    `errored(task, exception)` and, after either of those two, `finished(task)`. An
    exception nobody listens for on `errored` goes to `sys.excepthook`, as one raised in a
    slot would."""

    started = Signal(object)
    progress = Signal(object, object)
    returned = Signal(object, object)
    errored = Signal(object, object)
    finished = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._idle = threading.Condition()
        self._outstanding = 0
        self._completed = 0
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._runner = _Runner(self._task_done)
        self._runner.moveToThread(self._thread)

    def start(self) -> None:
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Queue `fn(task, *args, **kwargs)`; the task (to cancel it, or to know it by)."""
        task = Task(self, fn, args, kwargs)
        with self._idle:
            self._outstanding += 1
        self._runner.submitted.emit(task)
        return task

    def report_error(self, task: Task, error: Exception) -> None:
        if self.isSignalConnected(QMetaMethod.fromSignal(self.errored)):
            self.errored.emit(task, error)
        else:
            sys.excepthook(type(error), error, error.__traceback__)

    @property
    def completed(self) -> int:
        """How many tasks have run so far."""
        with self._idle:
            return self._completed

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until every task submitted so far has run; False on timeout. What they
        emitted is then queued for the receivers' threads (process events to get it)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout_s)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Stop after the task running now (tasks still queued do not run); True when the
        thread has stopped."""
        self._thread.quit()
        if self._thread.wait(timeout_ms):
            return True
        _left_running.append(self._thread.objectName())
        return False

    def _task_done(self) -> None:
        with self._idle:
            self._outstanding -= 1
            self._completed += 1
            self._idle.notify_all()
