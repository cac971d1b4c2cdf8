"""Building blocks shared by the SegNet family, and the paper's He initialisation."""

from __future__ import annotations

import torch
from torch import nn

from segnet_core.errors import ModelError

MIN_INPUT_SIZE = 32  # five 2x2 poolings leave at least one pixel


class ConvBNReLU(nn.Sequential):
    """conv(k x k, same padding) -> BatchNorm -> ReLU (ReLU optional, as in SegNet-Basic's decoder)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 relu: bool = True, groups: int = 1):
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                      groups=groups),
            nn.BatchNorm2d(out_channels),
        ]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


def he_initialise(module: nn.Module) -> None:
    """He (MSRA) initialisation of every conv, as the paper does for what is not pretrained."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)


def check_input(x: torch.Tensor, in_channels: int) -> None:
    """Refuse inputs the network cannot take, saying what to do instead."""
    if x.dim() != 4 or x.shape[1] != in_channels:
        raise ModelError(f"expected a batch of shape (N, {in_channels}, H, W), got "
                         f"{tuple(x.shape)}; add a batch dimension or convert the image to "
                         f"{in_channels} channels")
    if min(x.shape[-2:]) < MIN_INPUT_SIZE:
        raise ModelError(f"input of {x.shape[-2]}x{x.shape[-1]} pixels is too small: SegNet "
                         f"needs at least {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE}; resize or pad it")
