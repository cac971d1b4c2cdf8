"""The generic worker thread: calls run off the GUI thread in order, report, return, raise,
cancel, and wait_idle knows when all are done."""

from __future__ import annotations

import sys
import threading

from app.workers.task import WorkerThread


def test_tasks_run_in_order_off_the_gui_thread_and_say_what_became_of_them(qtbot):
    worker = WorkerThread("test")
    worker.start()
    seen, returned, finished, progress = [], [], [], []
    worker.returned.connect(lambda task, result: returned.append(result))
    worker.finished.connect(finished.append)
    worker.progress.connect(lambda task, value: progress.append(value))

    def job(task, n):
        seen.append((n, threading.current_thread() is threading.main_thread()))
        task.report(n * 10)
        return n * n

    tasks = []
    with qtbot.waitSignal(worker.finished, check_params_cb=lambda t: t is tasks[-1]):
        tasks += [worker.submit(job, n) for n in range(5)]
    assert seen == [(n, False) for n in range(5)]
    assert returned == [0, 1, 4, 9, 16] and progress == [0, 10, 20, 30, 40]
    # a task counts as completed just after it emits finished, on the worker's thread
    assert worker.wait_idle(10)
    assert finished == tasks and worker.completed == 5
    assert worker.shutdown()


def test_cancel_errors_and_wait_idle(qtbot, monkeypatch):
    worker = WorkerThread("test")
    gate = threading.Event()
    stopped_at = []

    def long_job(task):
        gate.wait(10)
        for step in range(1000):
            if task.cancelled:
                stopped_at.append(step)
                return "cancelled"
        return "done"

    def failing(_task):
        raise ValueError("broken")

    hooked = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: hooked.append(info[1]))
    worker.start()
    task = worker.submit(long_job)
    worker.submit(failing)  # nobody listens on errored: the excepthook hears of it
    assert not worker.wait_idle(0.05)
    task.cancel()
    gate.set()
    assert worker.wait_idle(10)
    assert stopped_at == [0] and task.cancelled
    assert len(hooked) == 1 and str(hooked[0]) == "broken"

    errors = []
    worker.errored.connect(lambda task, error: errors.append(str(error)))
    with qtbot.waitSignal(worker.errored):
        worker.submit(failing)
    assert errors == ["broken"] and len(hooked) == 1
    assert worker.shutdown()
