"""Building blocks shared by the SegNet family, and the paper's He initialisation."""

from __future__ import annotations

import torch
from torch import nn

from segnet_core.errors import ModelError

MIN_INPUT_SIZE = 32  # five 2x2 poolings leave at least one pixel
#: The largest side a model is run or trained at: 8192x8192 takes 17 GB (fp32) for one
#: 64-channel activation of SegNet's first layer; a checkpoint asking for more is refused.
MAX_INPUT_SIDE = 8192


def check_input_size(input_size: object) -> tuple[int, int] | None:
    """`input_size` as (height, width) of ints from 1 to `MAX_INPUT_SIDE`, or None; ModelError
    otherwise."""
    if input_size is None:
        return None
    try:
        h, w = (int(v) for v in input_size)  # type: ignore[union-attr]
    except (TypeError, ValueError, OverflowError):
        raise ModelError(f"input size must be (height, width), got {input_size!r}") from None
    if h < 1 or w < 1:
        raise ModelError(f"input size must be positive, got {input_size!r}")
    if max(h, w) > MAX_INPUT_SIDE:
        raise ModelError(f"input size {h}x{w} is too large: at most {MAX_INPUT_SIDE} pixels "
                         "a side")
    return (h, w)


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
