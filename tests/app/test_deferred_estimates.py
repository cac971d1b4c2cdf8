"""The frames Segment all keeps waiting for their estimates (`app.workers.deferred_estimates`):
labels kept compressed and given back exactly, first in first out, within a byte budget."""

from __future__ import annotations

import numpy as np

from app.workers.deferred_estimates import DeferredEstimates


def label_map(seed: int, shape=(90, 120)) -> np.ndarray:
    """Blocky labels, as a segmentation's are (classes 0..10 and void 11)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 12, size=(shape[0] // 10, shape[1] // 10), dtype=np.uint8)
    return np.kron(small, np.ones((10, 10), np.uint8))


def test_labels_come_back_exactly_first_in_first_out():
    waiting = DeferredEstimates()
    maps = {key: label_map(i) for i, key in enumerate(["a", "b", "c"])}
    for i, (key, labels) in enumerate(maps.items()):
        waiting.add(key, labels, 0.5 + i / 10)
    assert len(waiting) == 3 and waiting.keys() == ["a", "b", "c"]
    assert 0 < waiting.bytes_used < sum(m.nbytes for m in maps.values()) / 4  # compressed
    for i, key in enumerate(["a", "b", "c"]):
        frame = waiting.pop()
        assert frame.key == key and frame.summary == 0.5 + i / 10
        labels = frame.labels()
        assert labels.dtype == np.uint8 and np.array_equal(labels, maps[key])
    assert waiting.pop() is None and len(waiting) == 0 and waiting.bytes_used == 0


def test_a_frame_estimated_meanwhile_waits_no_longer_and_one_added_again_moves_last():
    waiting = DeferredEstimates()
    for i, key in enumerate("abc"):
        waiting.add(key, label_map(i), 0.5)
    waiting.discard("b")
    waiting.discard("not waiting")
    waiting.add("a", label_map(7), 0.9)  # segmented again: its newer labels, at the back
    assert waiting.keys() == ["c", "a"] and "b" not in waiting
    assert waiting.pop().key == "c"
    frame = waiting.pop()
    assert frame.summary == 0.9 and np.array_equal(frame.labels(), label_map(7))
    assert waiting.bytes_used == 0


def test_past_the_budget_labels_are_not_kept_but_the_frame_still_waits():
    one = DeferredEstimates()
    one.add("a", label_map(0), 0.5)
    size = one.bytes_used
    waiting = DeferredEstimates(max_bytes=size + size // 2)  # room for one frame's labels
    for i, key in enumerate("abc"):
        waiting.add(key, label_map(i), 0.5)
    assert waiting.keys() == ["a", "b", "c"] and waiting.bytes_used <= waiting.max_bytes
    first, second, third = waiting.pop(), waiting.pop(), waiting.pop()
    assert np.array_equal(first.labels(), label_map(0))
    assert second.labels() is None and third.labels() is None  # segmented again for it
    assert second.summary == 0.5
    none = DeferredEstimates(max_bytes=0)
    none.add("a", label_map(0), 0.5)
    assert none.pop().labels() is None and none.bytes_used == 0
