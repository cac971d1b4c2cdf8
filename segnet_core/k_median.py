"""The weighted k-median in one dimension, solved exactly by dynamic programming: the k free
sites that, with every fixed one, leave the demand the least weighted distance to its nearest
site. `frame_order.plan_picks` plans the frames to correct with it (sites: candidate and
corrected frames; demand: every frame, weighted by its expected error)."""

from __future__ import annotations

import numpy as np

#: The tie-break: a distance d costs d + TIE * d^2 / span of the demand, so that among sets of
#: equal cost (even estimates leave many) each pick sits nearest the middle of what it serves
TIE = 1e-3


def k_median_1d(site_pos: np.ndarray, fixed: np.ndarray, demand_pos: np.ndarray,
                demand_weight: np.ndarray, k: int) -> list[int]:
    """Exactly `k` of the free sites (indices into `site_pos`, sorted by place) that with
    every `fixed` site minimise the weighted distance of each demand point to its nearest
    site; most valuable first (the one whose removal would raise the cost most)."""
    m = len(site_pos)
    if k <= 0:
        return []
    # distance d costs d + TIE * d^2 / span: among sets of equal cost (even estimates leave
    # many) the one with each pick nearest the middle of the frames it serves
    tie = TIE / max(float(np.ptp(demand_pos)), 1e-9)
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
