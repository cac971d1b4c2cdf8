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


class PoolIndices(NamedTuple):
    """What unpooling needs: the window position of each maximum and the pre-pool size."""

    positions: torch.Tensor  # uint8, same shape as the pooled map
    size: tuple[int, int]  # (H, W) of the map before pooling


def _window_origins(pooled_height: int, pooled_width: int, width: int,
                    device: torch.device) -> torch.Tensor:
    """(h, w) int64: the flat index (row * width + col) of each 2x2 window's top-left cell."""
    rows = torch.arange(pooled_height, device=device).mul_(2 * width)
    cols = torch.arange(pooled_width, device=device).mul_(2)
    return rows.view(-1, 1) + cols.view(1, -1)


def max_pool_compact(x: torch.Tensor) -> tuple[torch.Tensor, PoolIndices]:
    """2x2/2 max pooling (ceil mode) returning the pooled map and compact indices."""
    height, width = x.shape[-2:]
    pooled, flat = F.max_pool2d(x, kernel_size=2, stride=2, ceil_mode=True, return_indices=True)
    # `flat` is saved by autograd for max_pool2d's backward, so it is not modified in place;
    # once this returns, only the uint8 positions are kept for the decoder.
    with torch.no_grad():
        # The maximum's offset from its window's top-left cell is 0 or 1 (top row) or W or
        # W + 1 (bottom row). Taking W - 2 off the bottom row's gives positions 2 and 3;
        # the top row's offsets minus W - 2 are at most 1 - (W - 2) <= min(offset, 1)
        # when W >= 2, so max(offset - (W - 2), min(offset, 1)) is the position: cheap
        # element-wise ops, where integer division and remainders are several times
        # slower (docs/speed.md).
        offset = flat - _window_origins(*pooled.shape[-2:], width, x.device)
        # (An ONNX export takes the where formula, so its sizes can stay symbolic.)
        if not torch.compiler.is_exporting() and width >= 2:
            top = offset.clamp(max=1)
            positions = offset.sub_(width - 2).clamp_(min=top)  # in place: max(., top)
        else:
            positions = torch.where(offset >= width, offset - (width - 2), offset)
        positions = positions.to(torch.uint8)
    return pooled, PoolIndices(positions, (height, width))


def max_unpool_compact(x: torch.Tensor, indices: PoolIndices) -> torch.Tensor:
    """Put each value back where its maximum was, zeros elsewhere, at the pre-pool size.

    Equals `F.max_unpool2d(x, flat_indices, 2, 2, output_size=size)` exactly, forward and
    backward, because it is that call: the flat indices are rebuilt from the positions
    (window origin + 0, 1, W or W + 1). PyTorch's scatter kernel is several times faster
    than any composition of elementwise ops (a where over a one-hot of the positions, for
    one; docs/speed.md).
    """
    height, width = indices.size
    q = indices.positions.to(torch.int32)
    offset = q.add_((q >> 1).mul_(width - 2))  # 0, 1, 2, 3 -> 0, 1, W, W + 1
    flat = _window_origins(*x.shape[-2:], width, x.device) + offset  # int64
    return F.max_unpool2d(x, flat, kernel_size=2, stride=2, output_size=(height, width))

