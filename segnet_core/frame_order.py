"""Which frames to correct first, by coverage of the video in time and in what it shows.

`plan_picks` (Next suggested frame and `rank`, through `next_plan_pick` and
`plan_priorities`) finds the k frames that, with the corrected ones, leave the least expected
error uncovered: the sum over all frames of (1 - estimated accuracy) times the distance in
place to the nearest corrected or picked frame (weighted k-median in one dimension, solved
exactly by dynamic programming). With even estimates that is evenly spaced frames; frames the
model is unsure of pull the picks toward them. It plans a round of `PLAN_ROUND` corrected
frames at a time, so the suggestions follow one plan rather than a greedy order that must
also be good for every smaller count (and so leaves wider gaps somewhere). Fine-tuned on its
ten picks of a held-out CamVid drive it ties with evenly spaced frames (docs/training.md: it
sits inside the 1.8-2.7 mIoU spread between evenly spaced picks moved by a few frames).

`cover_priorities` is the greedy rule before it: each pick, given the picks before it, is the
frame that most lowers the same expected error left uncovered, with distance joined, when
class shares are given, with what the model sees there (the Hellinger distance between the
frames' predicted class shares). Fine-tuned on its first ten picks of a held-out CamVid drive
(docs/training.md), in time alone it lifted the rest of 0006R0 by +19.00 mIoU and of 0001TP
by +12.73, against +19.62 and +11.86 for evenly spaced frames (four seeds, the same frames
scored): a tie. With class shares it lifted 0.9 and 2.6 less (one seed). `priorities`, the
rule before that, covers the sequence in time alone: the widest stretch first, its hardest
frame.

The plan's exact solver is `segnet_core.k_median`; rules measured against the plan and not
used by the window, and the simulation of Next suggested frame one correction at a time, are
in `segnet_core.frame_order_trials`.
"""

from __future__ import annotations

import heapq
from typing import Sequence

import numpy as np

from segnet_core.k_median import k_median_1d

#: At most this many frames are picked by coverage; the rest follow by `priorities` (the
#: widest stretch left first). Nobody corrects more in one go, and it bounds the cost.
COVER_PICKS = 64
#: Longer sequences are summarised in this many runs of neighbouring frames (each offering its
#: most typical frame as a candidate), which bounds the cost of the picks (two picks of
#: 10,000 frames: 34 ms; the order of the rest by `priorities` grows with the length).
MAX_GROUPS = 256
#: `next_plan_pick` plans the frames to correct in rounds of this many (a fine-tune round).
PLAN_ROUND = 10


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
    picks = cover_picks(accuracy, shares, positions=pos, corrected=corrected)
    return _priorities_after(picks, accuracy, pos, corrected)


def plan_priorities(estimated_accuracy: Sequence[float], *,
                    positions: Sequence[float] | None = None,
                    corrected: Sequence[int] = (), flagged: Sequence[int] = ()) -> list[int]:
    """Each frame's priority, 1 = correct this first (corrected frames come last), as Next
    suggested frame offers them: the uncorrected `flagged` frames (the user's), the lowest
    estimate first, then the plan for this round (`next_plan_pick`), most valuable first,
    then the next round's planned with it, up to `COVER_PICKS` frames; the rest by
    `priorities`."""
    accuracy, pos, corrected = _inputs(estimated_accuracy, positions, corrected)
    picks = _flagged_first(accuracy, flagged, corrected)
    while len(picks) < COVER_PICKS:
        done = corrected + picks
        left = PLAN_ROUND - len(done) % PLAN_ROUND
        more = plan_picks(accuracy, positions=pos, corrected=done,
                          count=min(left, COVER_PICKS - len(picks)))
        if not more:
            break
        picks += more
    return _priorities_after(picks, accuracy, pos, corrected)


def _priorities_after(picks: list[int], accuracy: np.ndarray, pos: np.ndarray,
                      corrected: list[int]) -> list[int]:
    """Priorities with `picks` first (in order), the other uncorrected frames after them by
    `priorities`, corrected frames last."""
    n = len(accuracy)
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
    candidates = np.array(_typical_free(groups, free, features, centres), dtype=np.int64)
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


def plan_picks(estimated_accuracy: Sequence[float], *,
               positions: Sequence[float] | None = None, corrected: Sequence[int] = (),
               count: int = 10) -> list[int]:
    """The `count` frames that, with the corrected ones, best cover the sequence in time: the
    set (not a greedy order) that minimises the expected error left uncovered, the sum over
    all frames of (1 - estimated accuracy) times the distance in place to the nearest
    corrected or picked frame (weighted k-median in one dimension, solved exactly by dynamic
    programming). With even estimates and nothing corrected these are evenly spaced frames;
    frames the model is unsure of pull the picks toward them. First first: the pick whose
    loss would cost the plan most. Sequences past `MAX_GROUPS` frames are summarised in runs
    of neighbours as `cover_picks` does (each run offers its most typical frame)."""
    accuracy, pos, corrected = _inputs(estimated_accuracy, positions, corrected)
    n = len(accuracy)
    if n == 0 or count <= 0:
        return []
    weight = np.clip(1.0 - accuracy, 0.01, 1.0)
    groups = _groups(pos, n)
    # demand: each run of neighbours at its centre; sites: a free frame per run, corrected ones
    centre = np.array([pos[g].mean() for g in groups])
    demand_order = np.argsort(centre, kind="stable")
    demand_pos = centre[demand_order]
    demand_weight = np.array([weight[g].sum() for g in groups])[demand_order]
    free = np.ones(n, dtype=bool)
    free[corrected] = False
    site_frames = _typical_free(groups, free, pos[:, None], centre[:, None])
    sites = np.array(site_frames + _nearest_corrected(pos, corrected, demand_pos),
                     dtype=np.int64)
    fixed = np.arange(len(sites)) >= len(site_frames)
    order = np.lexsort((~fixed, pos[sites]))  # by place; a corrected frame before a free one
    sites, fixed = sites[order], fixed[order]
    chosen = k_median_1d(pos[sites], fixed, demand_pos, demand_weight,
                         min(count, int((~fixed).sum())))
    return [int(sites[i]) for i in chosen]


def _nearest_corrected(pos: np.ndarray, corrected: list[int],
                       demand_pos: np.ndarray) -> list[int]:
    """The corrected frames nearest some demand point on its left or right: the others are
    never any point's nearest and change no plan (many corrected frames cost time)."""
    if not corrected:
        return []
    by_place = sorted(corrected, key=lambda i: pos[i])
    places = pos[by_place]
    right = np.searchsorted(places, demand_pos, side="left")
    keep = np.unique(np.concatenate([right[right < len(places)], right[right > 0] - 1]))
    return [by_place[i] for i in keep]


def next_plan_pick(estimated_accuracy: Sequence[float], *,
                   positions: Sequence[float] | None = None, corrected: Sequence[int] = (),
                   round_size: int = PLAN_ROUND, skip: Sequence[int] = (),
                   flagged: Sequence[int] = ()) -> int | None:
    """The frame to correct next by the plan for this round: `plan_picks` for the frames
    still to correct before the corrected count reaches the next multiple of `round_size`
    (ten corrected: the next ten are planned with them), the most valuable first, other than
    the frames in `skip` (e.g. the one shown). None when no frame is left.

    `flagged`: frames the user flagged as showing something the model must learn (a rare
    object it misses): the uncorrected ones come first, the lowest estimate first, and the
    plan goes around them, offered and passed over or not (they are to be corrected), as
    `plan_priorities` orders it; once corrected they count like any corrected frame."""
    skip = set(skip)
    accuracy, _, done_list = _inputs(estimated_accuracy, None, corrected)
    flagged_left = _flagged_first(accuracy, flagged, done_list)
    waiting = [i for i in flagged_left if i not in skip]
    if waiting:
        return waiting[0]
    fixed = done_list + flagged_left
    left = round_size - len(fixed) % round_size
    picks = [i for i in plan_picks(estimated_accuracy, positions=positions,
                                   corrected=fixed, count=left) if i not in skip]
    if not picks and left == 1:  # the one frame the round still asks for is skipped
        picks = [i for i in plan_picks(estimated_accuracy, positions=positions,
                                       corrected=fixed, count=2) if i not in skip]
    return picks[0] if picks else None


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

def _flagged_first(accuracy: np.ndarray, flagged: Sequence[int],
                   corrected: Sequence[int]) -> list[int]:
    """The uncorrected `flagged` frames in the order they are offered: the lowest estimate
    first (ties: sequence order)."""
    return sorted({int(i) for i in flagged} - set(corrected), key=lambda i: (accuracy[i], i))


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


def _typical_free(groups: list[np.ndarray], free: np.ndarray, points: np.ndarray,
                  centres: np.ndarray) -> list[int]:
    """In each group with an uncorrected (`free`) frame, the free frame whose point (a row of
    `points`) lies nearest the group's centre (the same row of `centres`)."""
    return [int(g[free[g]][np.argmin(_distances(points[g[free[g]]], centres[i:i + 1])[:, 0])])
            for i, g in enumerate(groups) if free[g].any()]


def _groups(pos: np.ndarray, n: int) -> list[np.ndarray]:
    """The frames in runs of neighbours by position: one run per frame up to MAX_GROUPS."""
    order = np.argsort(pos, kind="stable")
    return [chunk for chunk in np.array_split(order, min(n, MAX_GROUPS)) if chunk.size]


__all__ = ["COVER_PICKS", "MAX_GROUPS", "cover_picks", "cover_priorities", "next_plan_pick",
           "plan_picks", "plan_priorities", "PLAN_ROUND", "priorities"]
