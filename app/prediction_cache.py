"""Predictions per frame, least recently used first out, bounded by the bytes they hold."""

from __future__ import annotations

from collections import OrderedDict
from typing import Hashable

from segnet_core.inference import Prediction

# 256 MiB: 92 results of 720p video (uint8 labels + float16 confidence), 490 of CamVid's
# 360x480; a result pushed out is segmented again when its frame comes back.
DEFAULT_BUDGET = 256 * 1024 * 1024


def prediction_bytes(prediction: Prediction) -> int:
    return int(prediction.labels.nbytes + prediction.confidence.nbytes)


class PredictionCache:
    """Maps frame keys to Predictions, holding at most `max_bytes` of arrays.

    A prediction larger than the whole budget is not kept. A frame can be marked as still
    wanting its estimated accuracy (the worker skipped it while a video played, or Segment
    all's estimates were cancelled): the mark outlives its prediction's eviction, so Segment
    all still takes the frame; a new prediction for it, or `clear`, drops the mark. Used from
    the GUI thread only.
    """

    def __init__(self, max_bytes: int = DEFAULT_BUDGET) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, Prediction] = OrderedDict()
        self._bytes = 0
        self._unestimated: set[Hashable] = set()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def peek(self, key: Hashable) -> Prediction | None:
        """The prediction, without making it the most recently used."""
        return self._items.get(key)

    def get(self, key: Hashable) -> Prediction | None:
        prediction = self._items.get(key)
        if prediction is not None:
            self._items.move_to_end(key)
        return prediction

    def put(self, key: Hashable, prediction: Prediction) -> None:
        self.discard(key)
        size = prediction_bytes(prediction)
        if size > self.max_bytes:
            return
        self._items[key] = prediction
        self._bytes += size
        while self._bytes > self.max_bytes:
            self._evict(next(iter(self._items)))

    def discard(self, key: Hashable) -> None:
        """Forget `key`'s prediction and its mark."""
        self._evict(key)
        self._unestimated.discard(key)

    def _evict(self, key: Hashable) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= prediction_bytes(old)

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0
        self._unestimated.clear()

    def mark_unestimated(self, key: Hashable, unestimated: bool = True) -> None:
        """Mark `key` as still wanting its estimate (or no longer)."""
        if unestimated:
            self._unestimated.add(key)
        else:
            self._unestimated.discard(key)

    def is_unestimated(self, key: Hashable) -> bool:
        return key in self._unestimated

    def unestimated(self) -> list[Hashable]:
        """The keys still wanting their estimate (their predictions kept or not)."""
        return list(self._unestimated)
