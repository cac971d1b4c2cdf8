"""The GUI-thread watch fails when it should: a model run on the GUI thread, a long stall,
or nothing watched at all."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from tests.app.ticks import STALL_LIMIT_S, GuiThreadWatch


def _forward() -> None:
    torch.nn.Conv2d(3, 2, 3)(torch.zeros(1, 3, 8, 8))


def _watch_while(qtbot, work) -> GuiThreadWatch:
    with GuiThreadWatch() as watch:
        watch.wait_for_ticks(qtbot, 3)
        work()
        watch.wait_for_ticks(qtbot, 3)
    return watch


def test_a_model_on_a_worker_thread_passes(qtbot):
    worker = threading.Thread(target=_forward, name="worker")
    watch = _watch_while(qtbot, lambda: (worker.start(), worker.join()))
    assert watch.model_threads == {"worker"}
    watch.assert_gui_thread_kept_ticking(min_ticks=4)


def test_a_model_on_the_gui_thread_fails(qtbot):
    watch = _watch_while(qtbot, _forward)
    with pytest.raises(AssertionError, match="GUI thread"):
        watch.assert_gui_thread_kept_ticking(min_ticks=4)


def test_a_stall_over_the_limit_fails_and_no_model_checks_nothing(qtbot):
    worker = threading.Thread(target=_forward)
    watch = _watch_while(qtbot, lambda: (worker.start(), worker.join(),
                                         time.sleep(STALL_LIMIT_S + 0.05)))
    with pytest.raises(AssertionError, match="stalled"):
        watch.assert_gui_thread_kept_ticking(min_ticks=4)
    idle = _watch_while(qtbot, lambda: None)
    with pytest.raises(AssertionError, match="nothing was checked"):
        idle.assert_gui_thread_kept_ticking(min_ticks=0)
