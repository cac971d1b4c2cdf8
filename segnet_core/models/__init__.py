"""The SegNet family: `build_model(name, num_classes, **options)` and `available_models()`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from segnet_core.errors import ModelError
from segnet_core.models.basic import VARIANTS, BasicSegNet
from segnet_core.models.pooling import (CompactMaxPool2d, CompactMaxUnpool2d, PoolIndices,
                                        max_pool_compact, max_unpool_compact)
from segnet_core.models.segnet import SegNet, load_vgg16_bn_encoder

__all__ = ["build_model", "available_models", "model_info", "ModelInfo", "SegNet",
           "BasicSegNet", "load_vgg16_bn_encoder", "max_pool_compact", "max_unpool_compact",
           "PoolIndices", "CompactMaxPool2d", "CompactMaxUnpool2d", "count_parameters"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    paper_parameters: float  # millions, the paper's figure for K = 11
    default_lr: float  # the paper's SGD learning rate for this family


_DESCRIPTIONS = {
    "segnet": ("VGG16-BN encoder (13 convs), decoder upsampling with pooling indices", 29.45, 1e-3),
    "segnet-basic": ("4 encoders + 4 decoders, 7x7x64 convs, pooling-index upsampling", 1.425, 0.1),
    "segnet-basic-single-channel-decoder": ("SegNet-Basic with depthwise decoder convs", 0.625, 0.1),
    "segnet-basic-encoder-addition": ("SegNet-Basic adding the encoder's feature maps", 1.425, 0.1),
    "fcn-basic": ("FCN decoder: K-channel learned upsampling plus reduced encoder maps", 0.65, 0.1),
    "fcn-basic-no-addition": ("FCN-Basic without the encoder maps", 0.65, 0.1),
    "fcn-basic-no-dim-reduction": ("FCN-Basic keeping all 64 channels", 1.625, 0.1),
    "fcn-basic-no-addition-no-dim-reduction": ("FCN-Basic, 64 channels, no encoder maps", 1.625, 0.1),
    "bilinear": ("fixed bilinear upsampling, depthwise decoder convs", 0.625, 0.1),
}

_BUILDERS: dict[str, Callable[..., nn.Module]] = {"segnet": SegNet}
_BUILDERS.update({name: (lambda spec: lambda k, **o: BasicSegNet(k, spec, **o))(spec)
                  for name, spec in VARIANTS.items()})


def available_models() -> list[str]:
    """Names accepted by `build_model`, in the paper's order."""
    return list(_DESCRIPTIONS)


def model_info(name: str) -> ModelInfo:
    if name not in _DESCRIPTIONS:
        raise ModelError(f"unknown model {name!r}; available: {', '.join(available_models())}")
    description, params, lr = _DESCRIPTIONS[name]
    return ModelInfo(name, description, params, lr)


def build_model(name: str, num_classes: int, *, in_channels: int = 3,
                encoder_weights: str | None = None) -> nn.Module:
    """Build a network of the SegNet paper with He-initialised weights.

    name: one of `available_models()`.
    num_classes: K, the number of output channels (void is not a class).
    in_channels: channels of the input image (3 for RGB).
    encoder_weights: for "segnet" only, a torchvision-format `vgg16_bn` state dict file whose
        13 convs and their batch norms initialise the encoder (no torchvision needed).

    The model maps (N, in_channels, H, W) to logits (N, K, H, W) for any H, W >= 32. Its
    `architecture` attribute records name and options, as checkpoints store them.
    """
    model_info(name)  # validates the name
    if not 1 <= int(num_classes) <= 255:
        raise ModelError(f"num_classes must be in 1..255, got {num_classes}")
    if encoder_weights is not None and name != "segnet":
        raise ModelError(f"encoder_weights (VGG16-BN) applies to 'segnet' only, not {name!r}")
    model = _BUILDERS[name](int(num_classes), in_channels=in_channels)
    if encoder_weights is not None:
        load_vgg16_bn_encoder(model, encoder_weights)
    model.architecture = {"name": name, "num_classes": int(num_classes),
                          "options": {"in_channels": in_channels}}
    return model


def count_parameters(model: nn.Module) -> int:
    """Learnable parameters (BatchNorm's scale and shift included, running statistics not)."""
    return sum(p.numel() for p in model.parameters())
