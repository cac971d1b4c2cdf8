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

`class_plan_picks` is the plan with the rare predicted classes made sure of: a class the
model predicts least that none of the plan's picks shows gets the frame showing most of it
(`benchmarks/finetune_loop.py --choose plan-classes`; the window does not use it: on 0016E5
and 0006R0 it picked the plan's own frames, since the plan's picks already showed every rare
class the model predicts, while the real rare objects were elsewhere; docs/training.md).
"""

from __future__ import annotations

import heapq
from typing import Callable, Sequence

import numpy as np

from segnet_core.quality import LevellingPriors, levelling

#: At most this many frames are picked by coverage; the rest follow by `priorities` (the
#: widest stretch left first). Nobody corrects more in one go, and it bounds the cost.
COVER_PICKS = 64
#: Longer sequences are summarised in this many runs of neighbouring frames (each offering its
#: most typical frame as a candidate), which bounds the cost of the picks (two picks of
#: 10,000 frames: 34 ms; the order of the rest by `priorities` grows with the length).
MAX_GROUPS = 256
#: `next_plan_pick` plans the frames to correct in rounds of this many (a fine-tune round).
PLAN_ROUND = 10
#: `rare_class_seeds`: a frame shows a class when this share of its pixels is predicted as it.
SHOWN_SHARE = 0.005
_TIE = 1e-3  # `plan_picks`' tie-break: the weight of squared distance (per sequence length)


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
    chosen = _k_median_1d(pos[sites], fixed, demand_pos, demand_weight,
                          min(count, int((~fixed).sum())))
    return [int(sites[i]) for i in chosen]


def unshown_rare_classes(shares: Sequence[Sequence[float]] | np.ndarray,
                         frames: Sequence[int], *, shown_share: float = SHOWN_SHARE) -> list[int]:
    """The classes the model predicts least that some frame shows but none of `frames` does,
    rarest first. Rare: a mean predicted share over the sequence below the median predicted
    class's (classes never predicted are left out). Shown: at least `shown_share` of a frame's
    pixels predicted as the class. `shares`: each frame's predicted class shares
    (`quality.class_shares`)."""
    shares = np.asarray(shares, dtype=np.float64)
    if shares.ndim != 2 or len(shares) == 0:
        return []
    mean = shares.mean(axis=0)
    predicted = np.flatnonzero(mean > 0)
    if len(predicted) == 0:
        return []
    median = np.median(mean[predicted])
    shown = shares >= shown_share
    chosen = shown[sorted(set(int(i) for i in frames))].any(axis=0)
    return [int(c) for c in predicted[np.argsort(mean[predicted], kind="stable")]
            if mean[c] < median and shown[:, c].any() and not chosen[c]]


def class_plan_picks(estimated_accuracy: Sequence[float],
                     shares: Sequence[Sequence[float]] | np.ndarray, *,
                     positions: Sequence[float] | None = None, corrected: Sequence[int] = (),
                     count: int = PLAN_ROUND) -> list[int]:
    """`count` frames by `plan_picks`, except that while a rare predicted class is shown by
    none of them nor by a corrected frame (`unshown_rare_classes`, rarest first), the frame
    showing most of it becomes a seed and the plan is re-made around the seeds; at most
    `count // 2` seeds, so that coverage in time keeps the larger part. Seeds first."""
    shares = np.asarray(shares, dtype=np.float64)
    corrected = [int(i) for i in corrected]
    seeds: list[int] = []
    while True:
        picks = plan_picks(estimated_accuracy, positions=positions,
                           corrected=corrected + seeds, count=count - len(seeds))
        missing = unshown_rare_classes(shares, corrected + seeds + picks)
        if not missing or len(seeds) >= count // 2:
            return seeds + picks
        taken = set(corrected + seeds)
        most = [int(i) for i in np.argsort(-shares[:, missing[0]], kind="stable")
                if int(i) not in taken]
        if not most:
            return seeds + picks
        seeds.append(most[0])


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


def _k_median_1d(site_pos: np.ndarray, fixed: np.ndarray, demand_pos: np.ndarray,
                 demand_weight: np.ndarray, k: int) -> list[int]:
    """Exactly `k` of the free sites (indices into `site_pos`, sorted by place) that with
    every `fixed` site minimise the weighted distance of each demand point to its nearest
    site; most valuable first (the one whose removal would raise the cost most)."""
    m = len(site_pos)
    if k <= 0:
        return []
    # distance d costs d + TIE * d^2 / span: among sets of equal cost (even estimates leave
    # many) the one with each pick nearest the middle of the frames it serves
    tie = _TIE / max(float(np.ptp(demand_pos)), 1e-9)
    s0, s1, s2 = (np.concatenate([[0.0], np.cumsum(demand_weight * demand_pos ** p)])
                  for p in range(3))

    def upto(x):  # total weight, weighted place, weighted squared place at places <= x
        i = np.searchsorted(demand_pos, x, side="right")
        return s0[i], s1[i], s2[i]

    def served(a, w, p, q):  # demand (weight, sums) served from place a: the cost
        return np.abs(p - a * w) + tie * (q - 2 * a * p + a * a * w)

    w_site, p_site, q_site = upto(site_pos)
    before = served(site_pos, w_site, p_site, q_site)  # demand left of a site, served by it
    after = served(site_pos, s0[-1] - w_site, s1[-1] - p_site, s2[-1] - q_site)
    # between[l, r]: the demand between sites l < r, each point served by the nearer one
    left, right = site_pos[:, None], site_pos[None, :]
    w_mid, p_mid, q_mid = upto((left + right) / 2)
    between = (served(left, w_mid - w_site[:, None], p_mid - p_site[:, None],
                      q_mid - q_site[:, None])
               + served(right, w_site[None, :] - w_mid, p_site[None, :] - p_mid,
                        q_site[None, :] - q_mid))
    fixed_before = np.concatenate([[0], np.cumsum(fixed)])  # fixed sites among the first i
    lo, hi = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    # a fixed site strictly between l and r, or r not after l: no such step
    blocked = (hi <= lo) | (fixed_before[np.maximum(hi, lo + 1)] - fixed_before[lo + 1] > 0)
    between = np.where(blocked, np.inf, between)
    no_fixed_before = fixed_before[:m] == 0
    no_fixed_after = fixed_before[-1] - fixed_before[1:] == 0
    cost = np.full((k + 1, m), np.inf)  # cost[j, r]: demand up to site r, j free sites used
    parent = np.full((k + 1, m), -1, dtype=np.int64)  # the site before r (-1: none)
    free_sites, fixed_sites = np.flatnonzero(~fixed), np.flatnonzero(fixed)
    start = np.where(no_fixed_before, before, np.inf)  # r the first site
    for j in range(k + 1):
        if j:  # a free site r after any site l of the layer before, all r at once
            steps = cost[j - 1][:, None] + between[:, free_sites]
            arg = np.argmin(steps, axis=0)
            best = steps[arg, np.arange(len(free_sites))]
            if j == 1:
                first = start[free_sites] <= best
                best, arg = np.where(first, start[free_sites], best), np.where(first, -1, arg)
            cost[j, free_sites], parent[j, free_sites] = best, arg
        previous = 0
        for r in fixed_sites:  # a fixed site after the free ones since the fixed one before
            best, arg = (start[r], -1) if j == 0 else (np.inf, -1)
            if r > previous:
                steps = cost[j, previous:r] + between[previous:r, r]
                at = int(np.argmin(steps))
                if steps[at] < best:
                    best, arg = steps[at], previous + at
            cost[j, r], parent[j, r] = best, arg
            previous = r
    total = np.where(no_fixed_after, cost[k] + after, np.inf)
    last = int(np.argmin(total))
    if not np.isfinite(total[last]):
        return []
    path, j, r = [], k, last
    while r >= 0:
        path.append(r)
        r, j = int(parent[j, r]), j - (0 if fixed[r] else 1)
    picks = [r for r in path if not fixed[r]]
    every = np.sort(np.asarray(path))

    def cost_of(kept):  # the demand's weighted distance to the nearest kept site
        places = site_pos[kept]
        if places.size == 0:
            return np.inf
        nearest = np.abs(demand_pos[:, None] - places[None, :]).min(axis=1)
        return float(demand_weight @ (nearest + tie * nearest ** 2))

    full = cost_of(every)
    loss = {r: cost_of(every[every != r]) - full for r in picks}
    return sorted(picks, key=lambda r: (-loss[r], r))


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


def picks_in_turn(estimated_accuracy: Sequence[float], real_accuracy: Callable[[int], float],
                  count: int, *, corrected: Sequence[int] = (), rule: str = "cover",
                  priors: LevellingPriors = LevellingPriors(),
                  flagged: Sequence[int] = (), round_size: int = PLAN_ROUND) -> list[int]:
    """The frames Next suggested frame offers one after another when the user corrects and
    saves each before asking for the next (frames in sequence order, places 0, 1, 2, ...):
    after each pick `real_accuracy(index)` is the model's real accuracy there (what the saved
    correction shows), and the next pick is made on the estimates levelled by every frame
    measured so far, near ones moving most (`quality.levelling` with places), as the window
    does. `corrected`: frames already corrected (not measured, not offered). `rule`: "cover"
    (`cover_picks`' first) or "plan" (`next_plan_pick`); `priors`: the levelling's;
    `flagged`: frames the user flagged, offered first (`next_plan_pick`; rule "plan" only);
    `round_size`: the plan's round (`next_plan_pick`; rule "plan" only)."""
    if rule not in ("cover", "plan"):
        raise ValueError(f"unknown rule {rule!r}: 'cover' or 'plan'")
    if len(flagged) and rule != "plan":
        raise ValueError("flagged frames need rule 'plan'")
    if round_size < 1:
        raise ValueError(f"round_size {round_size}: at least 1")
    estimates = np.nan_to_num(np.asarray(estimated_accuracy, dtype=np.float64), nan=1.0)
    n = len(estimates)
    done = sorted(set(int(i) for i in corrected))
    picks: list[int] = []
    real: list[float] = []
    levelled = estimates
    while len(picks) < min(count, n - len(done)):
        pick = (cover_picks(levelled, corrected=done + picks, count=1)[0] if rule == "cover"
                else next_plan_pick(levelled, corrected=done + picks, flagged=flagged,
                                    round_size=round_size))
        picks.append(pick)
        real.append(float(real_accuracy(pick)))
        level = levelling(estimates[picks], real, positions=picks, length=n, priors=priors)
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
           "picks_in_turn", "plan_picks", "plan_priorities", "PLAN_ROUND",
           "priorities"]
