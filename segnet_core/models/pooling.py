"""Max pooling that remembers where each maximum was, in one byte per pooled element.

PyTorch's `max_pool2d(return_indices=True)` returns a flat int64 index into the whole input
plane for every pooled element: 8 bytes, twice the float32 map it indexes. SegNet only needs
to know which of the 4 cells of the 2x2 window held the maximum, so we keep that as uint8
(0 = top-left, 1 = top-right, 2 = bottom-left, 3 = bottom-right) together with the size of the
map that was pooled, which unpooling must restore (an odd 45 rows pool to 23, and 23 could
have come from 45 or 46).

Pooling is 2x2, stride 2, rounding up (Caffe's convention, as in the authors' SegNet): the last
row or column of an odd-sized map forms a window of its own.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class PoolIndices(NamedTuple):
    """What unpooling needs: the window position of each maximum and the pre-pool size."""

    positions: torch.Tensor  # uint8, same shape as the pooled map
    size: tuple[int, int]  # (H, W) of the map before pooling


def max_pool_compact(x: torch.Tensor) -> tuple[torch.Tensor, PoolIndices]:
    """2x2/2 max pooling (ceil mode) returning the pooled map and compact indices."""
    height, width = x.shape[-2:]
    pooled, flat = F.max_pool2d(x, kernel_size=2, stride=2, ceil_mode=True, return_indices=True)
    # flat = row * W + col; the window position is (row % 2) * 2 + (col % 2). `flat` is saved
    # by autograd for max_pool2d's backward, so it is not modified in place; once this
    # returns, only the uint8 positions are kept for the decoder.
    with torch.no_grad():
        row_odd = torch.div(flat, width, rounding_mode="floor").remainder_(2)
        col_odd = flat.remainder(width).remainder_(2)
        positions = row_odd.mul_(2).add_(col_odd).to(torch.uint8)
    return pooled, PoolIndices(positions, (int(height), int(width)))


def max_unpool_compact(x: torch.Tensor, indices: PoolIndices) -> torch.Tensor:
    """Put each value back where its maximum was, zeros elsewhere, at the pre-pool size.

    Equals `F.max_unpool2d(x, flat_indices, 2, 2, output_size=size)` exactly, forward and
    backward.
    """
    n, c, h, w = x.shape
    cells = torch.arange(4, device=x.device, dtype=torch.uint8)
    chosen = indices.positions.unsqueeze(-1) == cells  # (N, C, h, w, 4)
    windows = torch.where(chosen, x.unsqueeze(-1), x.new_zeros(()))
    # (N, C, h, w, 2, 2) -> (N, C, h, 2, w, 2) -> (N, C, 2h, 2w), then crop the ceil-mode pad.
    full = windows.view(n, c, h, w, 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * h, 2 * w)
    height, width = indices.size
    if (height, width) != (2 * h, 2 * w):
        full = full[:, :, :height, :width]
    return full


class CompactMaxPool2d(nn.Module):
    """2x2/2 ceil-mode max pool returning (pooled, PoolIndices)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, PoolIndices]:
        return max_pool_compact(x)


class CompactMaxUnpool2d(nn.Module):
    """Inverse of CompactMaxPool2d: sparse upsampling with the stored indices."""

    def forward(self, x: torch.Tensor, indices: PoolIndices) -> torch.Tensor:
        return max_unpool_compact(x, indices)
