"""Producing the items of an iterator in a background thread, a few ahead of the consumer."""

from __future__ import annotations

import queue
import threading
from enum import Enum
from typing import Callable, Iterator, TypeVar

Item = TypeVar("Item")


class _Slot(Enum):
    """What the producing thread hands over with each value."""

    ITEM = "item"
    END = "end"
    ERROR = "error"


def prefetched(items: Iterator[Item], depth: int = 1, name: str = "segnet-prefetch",
               on_stop: Callable[[], None] | None = None) -> Iterator[Item]:
    """`items`, produced in a background thread named `name` up to `depth` items ahead
    (plus the one it is working on), in the same order; an exception in the thread is
    raised here at the point it happened. Closing this generator stops the thread and
    closes `items`; it first calls `on_stop()`, which may tell `items` to end now (the
    thread stops only once `items` hands it its next item)."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                slots.put((_Slot.ITEM, item))
                if stop.is_set():
                    return
            slots.put((_Slot.END, None))
        except BaseException as error:  # handed to the consumer, raised there
            slots.put((_Slot.ERROR, error))

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind is _Slot.END:
                return
            if kind is _Slot.ERROR:
                raise value
            yield value
    finally:
        stop.set()
        if on_stop is not None:
            on_stop()
        # Take what the producer still puts so it is never stuck on a full queue; it stops
        # after its current item (it may be waiting on the caller's iterator until then).
        while thread.is_alive():
            try:
                slots.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()
        close = getattr(items, "close", None)
        if close is not None:
            close()
