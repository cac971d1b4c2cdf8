"""The encoder the SegNet family shares: conv stages, each followed by a 2x2 max pool that
keeps where its maxima were, for the decoder's upsampling."""

from __future__ import annotations

from typing import Iterable, NamedTuple

import torch
from torch import nn

from segnet_core.models import pooling


class Encoded(NamedTuple):
    """What an encoder hands its decoder; lists run from the shallowest stage."""

    output: torch.Tensor  # the deepest stage's pooled map
    indices: list[pooling.PoolIndices]  # where each stage's maxima were
    features: list[torch.Tensor]  # each stage's map before pooling (empty unless kept)
    pooled: list[torch.Tensor]  # each stage's map after pooling (empty unless kept)


class PoolingEncoder(nn.ModuleList):
    """`stages` run in order, each followed by `pooling.max_pool_compact`.

    keep_maps: also return each stage's map before and after pooling (decoders that add
        the encoder's maps need them; the others let them go as the encoder runs).
    """

    def __init__(self, stages: Iterable[nn.Module], keep_maps: bool = False):
        super().__init__(stages)
        self.keep_maps = keep_maps

    def forward(self, x: torch.Tensor) -> Encoded:
        features, pooled, indices = [], [], []
        for stage in self:
            x = stage(x)
            if self.keep_maps:
                features.append(x)
            x, where = pooling.max_pool_compact(x)
            if self.keep_maps:
                pooled.append(x)
            indices.append(where)
        return Encoded(x, indices, features, pooled)
