"""A one-place mailbox between threads: a newer request replaces one not yet taken."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestRequest(Generic[T]):
    """`put` from one thread, `take` from another; only the newest value waits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: T | None = None

    def put(self, value: T) -> None:
        with self._lock:
            self._value = value

    def take(self) -> T | None:
        """The waiting value (emptying the slot), or None."""
        with self._lock:
            value, self._value = self._value, None
        return value

    @property
    def waiting(self) -> bool:
        """Whether a value waits to be taken."""
        with self._lock:
            return self._value is not None

    def clear(self) -> None:
        self.put(None)
