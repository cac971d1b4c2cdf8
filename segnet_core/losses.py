"""The training loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def weighted_cross_entropy(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor,
                           void_index: int) -> torch.Tensor:
    """Class-weighted mean cross-entropy over the non-void pixels; 0 (with a gradient path)
    for a batch with no weighted pixel at all, such as crops of confident-only pseudo-labels
    that are void everywhere (torch's own mean divides 0 by 0 there)."""
    total = F.cross_entropy(logits, target, weight=weights, ignore_index=void_index,
                            reduction="sum")
    valid = target != void_index
    weight_sum = weights[target[valid]].sum()
    # Without a weighted pixel the sum is exactly 0 (with a gradient path), so the clamp
    # alone gives 0; no `if` on a tensor, so no device sync per step.
    return total / weight_sum.clamp_min(1e-12)
