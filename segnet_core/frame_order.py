"""Which frames to correct first, by coverage of the video in time and in what it shows.

`cover_priorities` orders frames so that the first corrected ones stand for the rest: each
pick (greedily, given the picks before it) is the frame that most lowers the expected error left
uncovered, the sum over all frames of (1 - estimated accuracy) times the distance to the
nearest corrected or picked frame (greedy weighted k-median). Distance is the place in the
sequence, joined, when class shares are given, with what the model sees there (the Hellinger
distance between the frames' predicted class shares), so that a short stretch of another
kind of street gets its own frame. A frame the model is unsure of weighs more, but a pick
goes to the frame in the middle of such frames, not to an outlier among them. `priorities`, the rule
before it, covers the sequence in time alone: the widest stretch first, its hardest frame.

Next suggested frame and `rank` cover in time alone (no `shares`): fine-tuned on the first
ten picks of a held-out CamVid drive (docs/training.md), that lifted the rest of 0006R0 by
+19.00 mIoU and of 0001TP by +12.73, against +19.62 and +11.86 for evenly spaced frames (four
seeds, the same frames scored): a tie. With class shares it lifted 0.9 and 2.6 less (one
seed), and lost to even spacing over three (0006R0 +17.6 against +19.9).
"""

from __future__ import annotations

import heapq
from typing import Callable, Sequence

import numpy as np

from segnet_core.quality import levelling

#: At most this many frames are picked by coverage; the rest follow by `priorities` (the
#: widest stretch left first). Nobody corrects more in one go, and it bounds the cost.
COVER_PICKS = 64
#: Longer sequences are summarised in this many runs of neighbouring frames (each offering its
#: most typical frame as a candidate), which bounds the cost of the picks (two picks of
#: 10,000 frames: 34 ms; the order of the rest by `priorities` grows with the length).
MAX_GROUPS = 256


def cover_priorities(estimated_accuracy: Sequence[float],
                     shares: Sequence[Sequence[float]] | np.ndarray | None = None, *,
                     positions: Sequence[float] | None = None,
                     corrected: Sequence[int] = ()) -> list[int]:
    """Each frame's priority, 1 = correct this first (corrected frames come last): the first
    `COVER_PICKS` by `cover_picks`, the rest by `priorities`.

    `shares`: each frame's predicted class shares (`quality.class_shares`), or None to
    cover the sequence in time alone. `positions`: frame numbers (default 0, 1, 2, ...).
    """
    accuracy, pos, corrected = _inputs(estimated_accuracy, positions, corrected)
    n = len(accuracy)
    picks = cover_picks(accuracy, shares, positions=pos, corrected=corrected)
    rest = priorities(accuracy, positions=pos, corrected=corrected + picks)
    priority = [0] * n
    for rank, index in enumerate(picks, start=1):
        priority[index] = rank
    for index in set(range(n)) - set(picks) - set(corrected):
        priority[index] = rest[index] + len(picks)
    for rank, index in enumerate(corrected, start=n - len(corrected) + 1):
        priority[index] = rank
    return priority


def cover_picks(estimated_accuracy: Sequence[float],
                shares: Sequence[Sequence[float]] | np.ndarray | None = None, *,
                positions: Sequence[float] | None = None, corrected: Sequence[int] = (),
                count: int = COVER_PICKS) -> list[int]:
    """The first `count` frames to correct (indices, first first), as `cover_priorities`
    orders them, without ordering the rest (what Next suggested frame needs)."""
    accuracy, pos, corrected = _inputs(estimated_accuracy, positions, corrected)
    n = len(accuracy)
    if n == 0:
        return []
    features = _features(pos, None if shares is None else np.asarray(shares, np.float64), n)
    weight = np.clip(1.0 - accuracy, 0.01, 1.0)
    groups = _groups(pos, n)
    centres = np.stack([features[g].mean(axis=0) for g in groups])
    group_weight = np.array([weight[g].sum() for g in groups])
    free = np.ones(n, dtype=bool)
    free[corrected] = False
    # The candidates: in each group, the uncorrected frame nearest its centre (every frame
    # while groups are single frames).
    candidates = np.array([g[free[g]][np.argmin(_distances(features[g[free[g]]],
                                                           centres[i:i + 1])[:, 0])]
                           for i, g in enumerate(groups) if free[g].any()], dtype=np.int64)
    distance = _distances(features[candidates], centres)  # candidate -> group it covers
    uncovered = np.full(len(groups), 2.0 * float(distance.max(initial=0.0)) + 1.0)
    if corrected:
        uncovered = np.minimum(uncovered,
                               _distances(features[corrected], centres).min(axis=0))
    open_ = np.ones(len(candidates), dtype=bool)
    picks: list[int] = []
    while len(picks) < min(count, len(candidates)):
        gain = (group_weight * np.maximum(uncovered - distance, 0.0)).sum(axis=1)
        gain[~open_] = -np.inf
        best = int(np.argmax(gain))  # ties: the first frame
        open_[best] = False
        picks.append(int(candidates[best]))
        uncovered = np.minimum(uncovered, distance[best])
    return picks


def picks_in_turn(estimated_accuracy: Sequence[float], real_accuracy: Callable[[int], float],
                  count: int, *, corrected: Sequence[int] = ()) -> list[int]:
    """The frames Next suggested frame offers one after another when the user corrects and
    saves each before asking for the next (frames in sequence order, places 0, 1, 2, ...):
    after each pick `real_accuracy(index)` is the model's real accuracy there (what the saved
    correction shows), and the next pick is made on the estimates levelled by every frame
    measured so far, near ones moving most (`quality.levelling` with places), as the window
    does. `corrected`: frames already corrected (not measured, not offered)."""
    estimates = np.nan_to_num(np.asarray(estimated_accuracy, dtype=np.float64), nan=1.0)
    n = len(estimates)
    done = sorted(set(int(i) for i in corrected))
    picks: list[int] = []
    real: list[float] = []
    levelled = estimates
    while len(picks) < min(count, n - len(done)):
        pick = cover_picks(levelled, corrected=done + picks, count=1)[0]
        picks.append(pick)
        real.append(float(real_accuracy(pick)))
        level = levelling(estimates[picks], real, positions=picks, length=n)
        levelled = level.apply_all(estimates, np.arange(n))
    return picks


def priorities(estimated_accuracy: Sequence[float], *,
               positions: Sequence[float] | None = None,
               corrected: Sequence[int] = ()) -> list[int]:
    """Each frame's priority, 1 = correct this first (corrected frames come last): coverage
    first, difficulty within it.

    Each pick goes into the widest gap left between corrected (or already picked) frames, in
    `positions` (frame numbers; default 0, 1, 2, ...); a gap at either end of the sequence
    counts twice its length, as evenly spaced frames leave half a spacing there. Within the
    middle half of that gap (the half of an end gap nearer the end) it takes the frame of
    lowest estimated accuracy. k picks are then about as spread as k evenly spaced frames,
    each the hardest of its stretch. It was Next suggested frame's rule until, with the
    shipped SegNet-Basic-LCN base, it lost to evenly spaced frames on 0006R0 (docs/
    training.md); it now orders the frames left after `cover_priorities`' picks.
    """
    accuracy, pos, corrected = _inputs(estimated_accuracy, positions, corrected)
    n = len(accuracy)
    priority = [0] * n
    if n == 0:
        return priority
    order = np.argsort(pos, kind="stable")  # the frames by position: a gap is a slice
    by_pos, accuracy = pos[order], accuracy[order]
    done = np.zeros(n, dtype=bool)
    done[np.argsort(order)[corrected]] = True
    gaps = _Gaps(float(by_pos[0]), float(by_pos[-1]))
    anchors = np.unique(by_pos[done])
    if anchors.size == 0:
        gaps.push(_ALL, gaps.first, gaps.last)
    else:
        gaps.push(_START, gaps.first, float(anchors[0]))
        gaps.push(_END, float(anchors[-1]), gaps.last)
        for a, b in zip(anchors[:-1], anchors[1:]):
            gaps.push(_MIDDLE, float(a), float(b))
    rank = 0
    while gaps:
        kind, a, b, window = gaps.pop()
        pick = None
        for lo, hi in (window, (a, b)):  # the window, else the whole gap
            start = np.searchsorted(by_pos, lo, side="left")
            stop = np.searchsorted(by_pos, hi, side="right")
            inside = start + np.flatnonzero(~done[start:stop])
            if inside.size:  # ties go to the frame nearest the window's middle, then the first
                off_centre = np.abs(by_pos[inside] - (lo + hi) / 2) / max(hi - lo, 1e-9)
                score = accuracy[inside] + 1e-9 * off_centre
                pick = int(inside[np.lexsort((order[inside], score))[0]])
                break
        if pick is None:
            continue  # nothing left in this gap (every frame lies in one, ends included)
        rank += 1
        priority[int(order[pick])] = rank
        done[pick] = True
        gaps.split(kind, a, b, float(by_pos[pick]))
    for rank, index in enumerate(corrected, start=rank + 1):
        priority[index] = rank
    return priority


_ALL, _START, _END, _MIDDLE = range(4)  # kinds of gap, in the order ties are taken


class _Gaps:
    """The stretches between corrected (or picked) frames, widest first: a gap at either end
    counts twice its length; ties go to the whole sequence, the start, the end, then by
    position."""

    def __init__(self, first: float, last: float) -> None:
        self.first, self.last = first, last
        self._heap: list[tuple] = []

    def __bool__(self) -> bool:
        return bool(self._heap)

    def push(self, kind: int, a: float, b: float) -> None:
        if kind == _START:
            width, window = 2 * (b - a), (a, a + (b - a) / 2)
        elif kind == _END:
            width, window = 2 * (b - a), (b - (b - a) / 2, b)
        else:  # the whole sequence, or between two anchors: its middle half
            width, window = b - a, (a + (b - a) / 4, b - (b - a) / 4)
        heapq.heappush(self._heap, (-width, kind, a, b, window))

    def pop(self) -> tuple[int, float, float, tuple[float, float]]:
        _, kind, a, b, window = heapq.heappop(self._heap)
        return kind, a, b, window

    def split(self, kind: int, a: float, b: float, at: float) -> None:
        """Replace the gap (a, b) by the two it becomes with a pick at `at`."""
        self.push(_START if kind in (_ALL, _START) else _MIDDLE, a, at)
        self.push(_END if kind in (_ALL, _END) else _MIDDLE, at, b)

def _inputs(estimated_accuracy, positions, corrected):
    """The estimates as floats (NaN: 1, never first), the positions (default 0, 1, 2, ...),
    the corrected frames sorted once each; raises ValueError on a count mismatch."""
    accuracy = np.nan_to_num(np.asarray(estimated_accuracy, dtype=np.float64), nan=1.0)
    n = len(accuracy)
    pos = np.arange(n, dtype=np.float64) if positions is None else np.asarray(positions, float)
    if len(pos) != n:
        raise ValueError(f"{len(pos)} positions for {n} frames")
    return accuracy, pos, sorted(set(int(i) for i in corrected))


def _distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Euclidean distance of every point (row) to every centre (column)."""
    squared = ((points ** 2).sum(axis=1)[:, None] + (centres ** 2).sum(axis=1)[None, :]
               - 2.0 * points @ centres.T)
    return np.sqrt(np.clip(squared, 0.0, None))


def _features(pos: np.ndarray, shares: np.ndarray | None, n: int) -> np.ndarray:
    """Each frame's point: its place (0..1 over the sequence), then its class shares' square
    roots scaled so that the typical change between frames a tenth of the sequence apart
    weighs as much as that tenth."""
    span = float(pos.max() - pos.min()) or 1.0
    place = ((pos - pos.min()) / span)[:, None]
    if shares is None or n < 3:
        return place
    if shares.shape[0] != n:
        raise ValueError(f"{shares.shape[0]} class shares for {n} frames")
    roots = np.sqrt(np.clip(shares, 0.0, None))
    order = np.argsort(pos, kind="stable")
    step = max(1, n // 10)
    apart = np.sqrt(((roots[order[step:]] - roots[order[:-step]]) ** 2).sum(axis=1))
    place_apart = np.median(np.abs(place[order[step:], 0] - place[order[:-step], 0]))
    typical = float(np.median(apart))
    if typical <= 0.0:
        return place
    return np.hstack([place, roots * (place_apart / typical)])


def _groups(pos: np.ndarray, n: int) -> list[np.ndarray]:
    """The frames in runs of neighbours by position: one run per frame up to MAX_GROUPS."""
    order = np.argsort(pos, kind="stable")
    return [chunk for chunk in np.array_split(order, min(n, MAX_GROUPS)) if chunk.size]


__all__ = ["COVER_PICKS", "MAX_GROUPS", "cover_picks", "cover_priorities", "picks_in_turn",
           "priorities"]
