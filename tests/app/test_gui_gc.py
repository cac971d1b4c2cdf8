"""Garbage is collected on the GUI thread while the window lives."""

import gc
import threading


class Cyclic:
    collected_on: list = []

    def __init__(self):
        self.me = self

    def __del__(self):
        Cyclic.collected_on.append(threading.get_ident())


def test_cycles_are_collected_on_the_gui_thread_and_collection_comes_back(qtbot, make_window):
    window = make_window()
    assert not gc.isenabled()  # no automatic collection in whatever thread allocates
    Cyclic.collected_on.clear()
    Cyclic()  # unreachable at once, but only a collection frees it
    qtbot.waitUntil(lambda: bool(Cyclic.collected_on), timeout=5000)
    assert Cyclic.collected_on == [threading.main_thread().ident]
    window.close()
    assert gc.isenabled()
