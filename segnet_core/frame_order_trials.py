"""Rules for choosing the frames to correct that were measured against the plan
(`frame_order.plan_picks`) and are not what the window offers, and the simulation of Next
suggested frame one correction at a time, for the benchmarks (`benchmarks/finetune_loop.py`,
`benchmarks/frame_quality.py`).

`class_plan_picks` is the plan with the rare predicted classes made sure of: a class the
model predicts least that none of the plan's picks shows gets the frame showing most of it
(`benchmarks/finetune_loop.py --choose plan-classes`; the window does not use it: on 0016E5
and 0006R0 it picked the plan's own frames, since the plan's picks already showed every rare
class the model predicts, while the real rare objects were elsewhere; docs/training.md).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from segnet_core.frame_order import PLAN_ROUND, cover_picks, next_plan_pick, plan_picks
from segnet_core.quality import LevellingPriors, levelling

#: `unshown_rare_classes`: a frame shows a class when this share of its pixels is predicted
#: as it
SHOWN_SHARE = 0.005


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
