"""`frame_order`: `cover_priorities`' first picks cover the sequence in time and in what it
shows, weighted by the expected error; `priorities` covers it in time, the hardest frame of
each stretch; corrected frames come last in both."""

import itertools

import numpy as np
import pytest

from segnet_core.frame_order import (COVER_PICKS, MAX_GROUPS, PLAN_ROUND, cover_picks,
                                     cover_priorities, next_plan_pick, plan_picks,
                                     plan_priorities, priorities)
from segnet_core.frame_order_trials import (SHOWN_SHARE, class_plan_picks, picks_in_turn,
                                            unshown_rare_classes)


def first(order, k):
    return sorted(i for i, rank in enumerate(order) if rank <= k)


def street(kind: int, n: int) -> np.ndarray:
    """Class shares of n frames of one kind of street: 0 = road and sky, 1 = trees and
    pavement (with a little noise so no two frames are the same)."""
    rng = np.random.default_rng(kind)
    base = np.array([0.4, 0.4, 0.1, 0.1]) if kind == 0 else np.array([0.1, 0.1, 0.4, 0.4])
    shares = base + rng.uniform(0, 0.02, size=(n, 4))
    return shares / shares.sum(axis=1, keepdims=True)


def test_with_even_estimates_and_one_kind_of_street_the_picks_spread_over_the_sequence():
    order = cover_priorities([0.8] * 100, street(0, 100))
    assert sorted(order) == list(range(1, 101))
    for k in (4, 10):
        picks = first(order, k)
        # no long stretch is left without a pick (ends count double: they have one side)
        gaps = np.diff([-picks[0]] + picks + [2 * 99 - picks[-1]])
        assert gaps.max() <= 1.7 * 100 / k, picks


def test_a_short_stretch_of_another_street_gets_its_own_pick():
    shares = np.vstack([street(0, 60), street(1, 6), street(0, 34)])  # frames 60..65 differ
    with_shares = first(cover_priorities([0.8] * 100, shares), 3)
    assert any(60 <= p <= 65 for p in with_shares)
    in_time_alone = first(cover_priorities([0.8] * 100), 3)  # what the frames show, unknown
    assert not any(60 <= p <= 65 for p in in_time_alone)


def test_frames_the_model_is_unsure_of_draw_more_picks():
    estimates = [0.5] * 50 + [0.9] * 50  # the first half is five times as wrong
    picks = first(cover_priorities(estimates), 6)
    assert sum(p < 50 for p in picks) >= 4
    assert any(p >= 50 for p in picks)  # the easy half is still covered


def test_corrected_frames_come_last_and_the_first_pick_covers_what_they_leave():
    order = cover_priorities([0.8] * 21, corrected=[0, 4])
    assert sorted(order) == list(range(1, 22))
    assert {order[0], order[4]} == {20, 21}
    assert order.index(1) >= 10  # the long stretch after frame 4, not next to frame 0
    assert cover_priorities([0.5, float("nan")], positions=[0, 10]) in ([1, 2], [2, 1])
    assert cover_priorities([]) == []
    with pytest.raises(ValueError):
        cover_priorities([0.5, 0.6], positions=[0])
    with pytest.raises(ValueError):
        cover_priorities([0.5, 0.6, 0.7], street(0, 2))


def test_a_long_video_is_ordered_whole_and_covered_in_its_first_picks():
    n = 4 * MAX_GROUPS + 3  # summarised in groups; more frames than coverage picks
    estimates = np.random.default_rng(1).uniform(0.6, 0.9, n)
    order = cover_priorities(estimates, street(0, n), positions=np.arange(n) * 2)
    assert sorted(order) == list(range(1, n + 1))
    picks = first(order, 10)
    assert len({p * 10 // n for p in picks}) >= 8  # ten picks reach at least 8 of 10 tenths
    assert n > COVER_PICKS


def test_priorities_cover_the_sequence_and_take_the_hardest_of_each_stretch():
    # 60 frames; every sixth frame (3, 9, 15, ...) is a little worse than its neighbours
    estimates = [0.7 if i % 6 == 3 else 0.8 for i in range(60)]
    order = priorities(estimates)
    first_ten = sorted(i for i, p in enumerate(order) if p <= 10)
    assert first_ten == list(range(3, 60, 6))  # spread like even spacing, each the hardest
    assert sorted(order) == list(range(1, 61))
    # a bad slow stretch does not take all the picks: coverage comes first
    estimates = [0.5] * 10 + [0.7] * 90
    first_ten = {i for i, p in enumerate(priorities(estimates)) if p <= 10}
    assert len(first_ten & set(range(10))) <= 2
    # corrected frames come last, and the first pick goes into the widest gap they leave
    order = priorities([0.8] * 21, corrected=[0, 4])
    assert order[0] > 19 and order[4] > 19
    assert 12 <= order.index(1) <= 20  # the half of the end gap 4..20 nearer the end


def test_the_first_pick_is_the_worst_frame_of_the_middle_and_corrected_frames_come_last():
    estimates = [0.3, 0.9, 0.5, 0.8, 0.95, 0.7, 0.9]  # frame 0 is worse, but at the very end
    order = priorities(estimates)
    assert order[2] == 1  # the worst of the middle half (frames 1.5..4.5)
    assert sorted(order) == list(range(1, 8))
    order = priorities(estimates, corrected=[2])
    assert order[2] == 7 and sorted(order) == list(range(1, 8))
    assert order.index(1) in (4, 5, 6)  # the widest gap is now the end after frame 2
    assert priorities([0.5, float("nan")], positions=[0, 10]) in ([1, 2], [2, 1])
    with pytest.raises(ValueError):
        priorities([0.5, 0.6], positions=[0])
    assert priorities([]) == []


def test_cover_picks_are_the_first_frames_cover_priorities_puts_first():
    estimates = np.random.default_rng(2).uniform(0.5, 0.9, 300)
    shares = np.vstack([street(0, 150), street(1, 150)])
    order = cover_priorities(estimates, shares, corrected=[10, 200])
    picks = cover_picks(estimates, shares, corrected=[10, 200], count=5)
    assert picks == [order.index(rank) for rank in range(1, 6)]
    assert not {10, 200} & set(cover_picks(estimates, shares, corrected=[10, 200]))
    assert cover_picks([0.5, 0.6], corrected=[0, 1]) == []


def test_picks_in_turn_follow_what_each_correction_shows():
    """Corrected one at a time, each correction levels the estimates before the next pick:
    where the first corrections show the model far worse than it thinks (a dark stretch),
    more of the next picks go there than the picks made from the estimates alone."""
    n = 60
    estimates = np.full(n, 0.8)
    real = np.where(np.arange(n) < 15, 0.1, 0.9)  # frames 0-14: the model is 10 % right
    up_front = cover_picks(estimates, count=8)
    in_turn = picks_in_turn(estimates, real.__getitem__, 8)
    assert len(set(in_turn)) == 8
    assert sum(i < 15 for i in in_turn) > sum(i < 15 for i in up_front)
    # corrections that show the estimates right change nothing; corrected frames are skipped
    assert picks_in_turn(estimates, estimates.__getitem__, 8) == up_front
    assert not set(picks_in_turn(estimates, real.__getitem__, 5, corrected=[29, 49])) & {29, 49}
    asked = []
    picks_in_turn(estimates, lambda i: asked.append(i) or 0.5, 3)
    assert len(asked) == 3  # each pick is measured once
    assert sorted(picks_in_turn(estimates[:2], real.__getitem__, 5)) == [0, 1]  # all there are
    with pytest.raises(ValueError, match="unknown rule"):
        picks_in_turn(estimates, real.__getitem__, 3, rule="greedy")


def test_picks_in_turn_plan_the_round_they_are_given():
    """A round of five plans five evenly spaced frames over a steady sequence; the default
    round of ten offers the first five of a ten-frame plan, which leave wider gaps; a second
    round of five fills the gaps between the first five."""
    estimates = np.full(100, 0.8)
    steady = (lambda i: 0.8)
    five = sorted(picks_in_turn(estimates, steady, 5, rule="plan", round_size=5))
    assert all(abs(pick - centre) <= 2 for pick, centre in zip(five, [10, 30, 50, 70, 90]))
    of_ten = sorted(picks_in_turn(estimates, steady, 5, rule="plan"))
    assert max(np.diff([0, *of_ten, 99])) > max(np.diff([0, *five, 99]))
    second = sorted(picks_in_turn(estimates, steady, 5, rule="plan", round_size=5,
                                  corrected=five))
    assert not set(second) & set(five)
    assert all(sum(a < pick < b for pick in second) == 1 for a, b in zip(five, five[1:]))
    # two corrected in a round of five: the three left are planned together
    rest = sorted(picks_in_turn(estimates, steady, 3, rule="plan", round_size=5,
                                corrected=[10, 30]))
    assert rest == sorted(plan_picks(estimates, corrected=[10, 30], count=3))
    assert rest != sorted(picks_in_turn(estimates, steady, 3, rule="plan", corrected=[10, 30]))
    with pytest.raises(ValueError, match="round_size"):
        picks_in_turn(estimates, steady, 3, rule="plan", round_size=0)


def uncovered_error(estimates, picks, positions=None):
    """What `plan_picks` minimises: each frame's expected error times its distance to the
    nearest pick."""
    weight = np.clip(1.0 - np.asarray(estimates, float), 0.01, 1.0)
    pos = np.arange(len(weight), dtype=float) if positions is None else np.asarray(positions)
    return float(weight @ np.abs(pos[:, None] - pos[list(picks)][None, :]).min(axis=1))


def test_the_plan_is_the_best_set_of_its_size_where_greedy_picks_are_not():
    rng = np.random.default_rng(3)
    for _ in range(60):
        n = int(rng.integers(2, 11))
        estimates = rng.uniform(0.3, 1.0, n)
        positions = np.sort(rng.choice(30, n, replace=False)).astype(float)
        corrected = sorted(rng.choice(n, int(rng.integers(0, 3)), replace=False).tolist())
        k = int(rng.integers(1, 4))
        plan = plan_picks(estimates, positions=positions, corrected=corrected, count=k)
        free = [i for i in range(n) if i not in corrected]
        assert len(plan) == min(k, len(free)) and not set(plan) & set(corrected)
        if plan:
            best = min(uncovered_error(estimates, list(c) + corrected, positions)
                       for c in itertools.combinations(free, len(plan)))
            assert uncovered_error(estimates, plan + corrected, positions) == pytest.approx(
                best, rel=1e-3)
    # greedy picks (cover_picks) start in the middle and leave uneven gaps; the plan does not
    greedy = cover_picks([0.8] * 100, count=2)
    plan = plan_picks([0.8] * 100, count=2)
    assert uncovered_error([0.8] * 100, plan) < 0.8 * uncovered_error([0.8] * 100, greedy)


def test_with_even_estimates_the_plan_is_evenly_spaced_and_unsure_frames_pull_it():
    for n, k in ((101, 10), (62, 10), (30, 4)):
        plan = sorted(plan_picks([0.8] * n, count=k))
        even = np.floor((np.arange(k) + 0.5) * n / k).astype(int)
        assert uncovered_error([0.8] * n, plan) <= uncovered_error([0.8] * n, even) + 1e-9
        assert np.abs(np.diff(plan) - n / k).max() <= 2, plan
    estimates = [0.5] * 50 + [0.9] * 50  # the first half is five times as wrong
    plan = plan_picks(estimates, count=6)
    assert sum(p < 50 for p in plan) >= 4 and any(p >= 50 for p in plan)


def test_the_plan_fills_what_corrected_frames_leave_and_scales_to_long_videos():
    plan = plan_picks([0.8] * 21, corrected=[0, 4], count=1)
    assert plan[0] >= 10  # the long stretch after frame 4
    assert plan_picks([0.5, 0.6], corrected=[0, 1]) == [] and plan_picks([]) == []
    n = 10 * MAX_GROUPS
    plan = plan_picks(np.full(n, 0.8), corrected=[0, n - 1], count=10)
    assert len(set(plan)) == 10 and not {0, n - 1} & set(plan)
    assert np.diff(sorted([0, n - 1] + plan)).max() <= 1.3 * n / 11


def test_next_plan_pick_plans_a_round_of_ten_and_skips_the_frame_shown():
    estimates = [0.8] * 100
    first = next_plan_pick(estimates)
    assert first in plan_picks(estimates, count=PLAN_ROUND)
    other = next_plan_pick(estimates, skip=[first])
    assert other != first and other in plan_picks(estimates, count=PLAN_ROUND)
    # following the plan keeps to it: nine of its frames corrected, the tenth is next
    plan = plan_picks(estimates, count=PLAN_ROUND)
    assert next_plan_pick(estimates, corrected=plan[:9]) == plan[9]
    # a round complete: the next ten are planned with the ten corrected
    after = next_plan_pick(estimates, corrected=plan)
    assert after not in plan
    assert next_plan_pick(estimates, corrected=plan[:9], skip=[plan[9]]) not in plan
    assert next_plan_pick([0.5], corrected=[0]) is None


def test_plan_priorities_put_this_rounds_plan_first_then_the_next_rounds():
    rng = np.random.default_rng(5)
    estimates = rng.uniform(0.5, 0.95, 150)
    order = plan_priorities(estimates, corrected=[3, 70, 71])
    assert sorted(order) == list(range(1, 151))
    assert {order[3], order[70], order[71]} == {148, 149, 150}
    round_one = plan_picks(estimates, corrected=[3, 70, 71], count=PLAN_ROUND - 3)
    assert first(order, PLAN_ROUND - 3) == sorted(round_one)
    assert order.index(1) == next_plan_pick(estimates, corrected=[3, 70, 71])
    round_two = plan_picks(estimates, corrected=[3, 70, 71] + round_one, count=PLAN_ROUND)
    assert first(order, 2 * PLAN_ROUND - 3) == sorted(round_one + round_two)


def rare_street(n: int = 100) -> np.ndarray:
    """Class shares of n frames: road and sky everywhere (classes 0, 1), a few trees
    throughout (2), a cyclist (3) in frames 40-42 only, most in 41, a sign (4) in frames 70-71,
    and a class (5) never predicted."""
    shares = np.zeros((n, 6))
    shares[:, 0], shares[:, 1], shares[:, 2] = 0.5, 0.45, 0.05
    shares[40:43, 3] = [0.01, 0.03, 0.02]
    shares[70:72, 4] = [0.002, 0.004]
    shares[:, 0] -= shares[:, 3] + shares[:, 4]
    return shares


def test_unshown_rare_classes_are_the_rarest_predicted_classes_no_frame_given_shows():
    shares = rare_street()
    # mean shares 0.47, 0.45, 0.05, 0.0006, 0.00006, 0: median of the five predicted 0.05;
    # the sign (4) is under SHOWN_SHARE in every frame, so no frame can teach it
    assert SHOWN_SHARE == 0.005
    assert unshown_rare_classes(shares, []) == [3]
    assert unshown_rare_classes(shares, [], shown_share=0.003) == [4, 3]
    assert unshown_rare_classes(shares, [41], shown_share=0.003) == [4]
    assert unshown_rare_classes(shares, [10, 40]) == []
    assert unshown_rare_classes(shares, [10, 90]) == [3]
    assert unshown_rare_classes(np.zeros((0, 6)), []) == []


def test_class_plan_picks_seed_a_rare_class_the_plan_misses_then_plan_around_it():
    shares = rare_street()
    plan = plan_picks([0.8] * 100, count=PLAN_ROUND)
    assert not {40, 41, 42} & set(plan)  # the plan alone misses the cyclist
    picks = class_plan_picks([0.8] * 100, shares, count=PLAN_ROUND)
    assert picks[0] == 41 and len(picks) == PLAN_ROUND == len(set(picks))
    assert picks[1:] == plan_picks([0.8] * 100, corrected=[41], count=PLAN_ROUND - 1)
    # a corrected frame that shows the cyclist leaves the plan as it is
    assert class_plan_picks([0.8] * 100, shares, corrected=[42], count=5) == plan_picks(
        [0.8] * 100, corrected=[42], count=5)
    # with the rare classes everywhere, or nowhere, the picks are the plan's
    for fill in (0.01, 0.0):
        flat = shares.copy()
        flat[:, 3:] = fill
        assert class_plan_picks([0.8] * 100, flat, count=5) == plan_picks([0.8] * 100, count=5)
    # at most half the picks are seeds: one pick, no seed
    assert class_plan_picks([0.8] * 100, shares, count=1) == plan_picks([0.8] * 100, count=1)


def test_flagged_frames_come_before_the_plan_lowest_estimate_first():
    """The user's flags (frames showing what the model must learn) are offered first; once
    corrected they count in the plan like any corrected frame."""
    rng = np.random.default_rng(8)
    estimates = rng.uniform(0.6, 0.9, 60)
    plan = plan_picks(estimates, count=PLAN_ROUND)
    flags = [i for i in (3, 31, 58) if i not in plan][:2]
    assert len(flags) == 2
    low, high = sorted(flags, key=lambda i: estimates[i])
    assert next_plan_pick(estimates, flagged=flags) == low
    assert next_plan_pick(estimates, flagged=flags, skip=[low]) == high  # the one shown
    assert next_plan_pick(estimates, flagged=flags, corrected=[low]) == high
    # both corrected: the plan for the rest of the round, made with them
    after = next_plan_pick(estimates, flagged=flags, corrected=flags)
    assert after == next_plan_pick(estimates, corrected=flags) and after not in flags
    order = plan_priorities(estimates, flagged=flags)
    assert (order[low], order[high]) == (1, 2)
    assert first(order, PLAN_ROUND) == sorted(flags + plan_picks(estimates, corrected=flags,
                                                                 count=PLAN_ROUND - 2))
    assert plan_priorities(estimates, flagged=flags, corrected=[low])[low] == 60  # corrected
    # both offered and passed over, not corrected yet: the plan still goes around them, as
    # `rank` orders it (a user saw N and `rank` plan 3 of 7 frames differently)
    passed = next_plan_pick(estimates, flagged=flags, skip=flags)
    assert passed not in flags and order[passed] == 3
    assert passed == next_plan_pick(estimates, corrected=flags)
    walked, skipped = [], list(flags)
    for _ in range(PLAN_ROUND - 2):  # N, N, ...: the rest of the round, as `rank` lists it
        walked.append(next_plan_pick(estimates, flagged=flags, skip=skipped))
        skipped.append(walked[-1])
    assert [order[i] for i in walked] == list(range(3, PLAN_ROUND + 1))


def test_picks_in_turn_offer_the_flagged_frames_first():
    estimates = np.full(50, 0.8)
    picks = picks_in_turn(estimates, lambda i: 0.8, 5, rule="plan", flagged=[44, 2])
    assert picks[:2] == [2, 44]  # equal estimates: in sequence order
    assert picks[2:] == picks_in_turn(estimates, lambda i: 0.8, 3, rule="plan",
                                      corrected=[2, 44])
    with pytest.raises(ValueError, match="plan"):
        picks_in_turn(estimates, lambda i: 0.8, 5, rule="cover", flagged=[3])
