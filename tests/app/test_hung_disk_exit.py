"""A window closed without the writes a hung disk holds (the user chose "Close" in the close
question) leaves a process that ends: neither Python's wait for its threads nor Qt's abort on
a running thread's object keeps it up or kills it. Run in fresh processes, as a hung thread
cannot be left in this one."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import CancelledError

import pytest

from app.workers.serial_executor import SerialExecutor
from tests.app.conftest import scene_image, write_png

WINDOW = """
import os, signal, sys, threading
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from app import main_window, name_lists
from app.editing import saving
from segnet_core.masks import labels_folder
from tests.app.editing_helpers import drag, key

forever = threading.Event()
if sys.argv[2] == "mask":
    labels_folder.write_index_mask = lambda *args, **kwargs: forever.wait()
else:  # the flags' list
    labels_folder.LabelsFolder.write_names = lambda *args, **kwargs: forever.wait()
saving.CLOSE_WAIT_S = name_lists.CLOSE_WAIT_S = 0.3
saving.SavingController._ask_unsaved = (
    lambda self, count, failed=(): print("asked", count, [str(p) for p, _ in failed],
                                         flush=True) or saving.CloseAnswer.DISCARD)
app = QApplication(sys.argv[:1])


def act():
    windows = [w for w in app.topLevelWidgets() if isinstance(w, main_window.MainWindow)]
    document = windows[0].display.document if windows else None
    if document is None or document.prediction is None:  # an edit waits for the model's
        QTimer.singleShot(100, act)  # labels
        return
    window = windows[0]
    window.activateWindow()
    if sys.argv[2] == "mask":
        drag(window, [(5, 5), (20, 5)])
        key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    else:
        key(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    if sys.argv[4] == "close":  # the user closes the window
        QTimer.singleShot(300, window.close)
    else:  # the system ends the program
        QTimer.singleShot(300, lambda: os.kill(os.getpid(), signal.SIGTERM))


QTimer.singleShot(0, act)
code = main_window.run([sys.argv[1], "--model", sys.argv[3]])
print("left run", flush=True)
sys.exit(code)
"""


@pytest.mark.parametrize("end", ["close", "term"])
@pytest.mark.parametrize("hangs, thread", [("mask", "mask writer"), ("list", None)])
def test_closing_without_a_hung_write_ends_the_process(tmp_path, tiny_checkpoint, hangs,
                                                       thread, end):
    """Closed by the user (Close in the question), or by SIGTERM (nothing asked: a review
    found a hung list write held the process for good, and a hung save for 90 s)."""
    folder = tmp_path / "street"
    folder.mkdir()
    write_png(folder / "a.png", scene_image(0))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               SEGNET_STUDIO_CACHE=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-c", WINDOW, str(folder), hangs,
                           str(tiny_checkpoint), end], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    asked = [line for line in done.stdout.splitlines() if line.startswith("asked")]
    file = "labels/a.png" if hangs == "mask" else "labels/flagged.txt"
    if end == "close":
        assert len(asked) == 1 and file in asked[0], done.stdout
    else:
        assert asked == []
        assert time.monotonic() - began < 60  # not three waits of 30 s
    if thread:  # Qt's thread: ended at once, past Python's exit
        assert f"closed without the writes a hung disk holds ({thread})" in done.stderr
        assert "left run" not in done.stdout
    else:  # a daemon thread: Python's exit does not wait for it
        assert "left run" in done.stdout


def test_the_serial_executor_runs_calls_in_order_and_hands_back_results_and_errors():
    executor = SerialExecutor("test")
    order = []
    futures = [executor.submit(lambda n=n: order.append(n) or n * n) for n in range(5)]
    failing = executor.submit(lambda: 1 / 0)
    assert [future.result(timeout=5) for future in futures] == [0, 1, 4, 9, 16]
    assert order == [0, 1, 2, 3, 4]
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)
    assert executor.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(print)


def test_the_serial_executor_can_leave_a_hung_call_and_cancel_the_rest():
    executor = SerialExecutor("test")
    release = threading.Event()
    started = threading.Event()
    hung = executor.submit(lambda: started.set() or release.wait())
    queued = executor.submit(lambda: "never")
    assert started.wait(5)
    began = time.monotonic()
    assert not executor.shutdown(0.2, cancel_futures=True)  # left behind
    assert time.monotonic() - began < 5
    with pytest.raises(CancelledError):
        queued.result(timeout=0)
    release.set()
    assert hung.result(timeout=5) is True
    assert executor.shutdown(5)  # its thread ended once the call did
    idle = SerialExecutor("idle")  # never given a call: the first shutdown's mark stays
    assert idle.shutdown() and idle.shutdown(0, cancel_futures=True)  # twice (a review)
