"""The architectures `build_model` knows, each registered with its metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from segnet_core.errors import ModelError
from segnet_core.models.base import SegmentationModel

#: Builds a model from K and its options (in_channels).
Builder = Callable[..., SegmentationModel]


@dataclass(frozen=True)
class ModelInfo:
    """What is known about an architecture before building it."""

    name: str
    description: str
    paper_parameters: float  # millions, the paper's figure for K = 11
    default_lr: float  # the paper's SGD learning rate for this family
    builder: Builder = field(repr=False, compare=False)
    encoder_weights: str | None = None  # the pretrained encoder file it takes, if any


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(name: str, builder: Builder, *, description: str, paper_parameters: float,
                   default_lr: float, encoder_weights: str | None = None) -> None:
    """Make `name` buildable: `builder(num_classes, in_channels=...)` returns a model whose
    `config.name` is `name`. Names are listed in the order they were registered."""
    if name in _REGISTRY:
        raise ModelError(f"model {name!r} is registered twice")
    _REGISTRY[name] = ModelInfo(name, description, paper_parameters, default_lr, builder,
                                encoder_weights)


def available_models() -> list[str]:
    """Names accepted by `build_model`, in the paper's order."""
    return list(_REGISTRY)


def model_info(name: str) -> ModelInfo:
    if name not in _REGISTRY:
        raise ModelError(f"unknown model {name!r}; available: {', '.join(available_models())}")
    return _REGISTRY[name]


def build_model(name: str, num_classes: int, *, in_channels: int = 3,
                encoder_weights: str | None = None) -> SegmentationModel:
    """Build a network of the SegNet paper with He-initialised weights.

    name: one of `available_models()`.
    num_classes: K, the number of output channels (void is not a class).
    in_channels: channels of the input image (3 for RGB).
    encoder_weights: for architectures whose `model_info(name).encoder_weights` names a
        format ("segnet": a torchvision-format `vgg16_bn` state dict file, whose 13 convs
        and their batch norms initialise the encoder; no torchvision needed).

    The model maps (N, in_channels, H, W) to logits (N, K, H, W) for any H, W of at least
    `MIN_INPUT_SIZE`. Its `config` records name and options, as checkpoints store them.
    """
    info = model_info(name)
    if not 1 <= int(num_classes) <= 255:
        raise ModelError(f"num_classes must be in 1..255, got {num_classes}")
    if encoder_weights is not None and info.encoder_weights is None:
        takers = ", ".join(repr(n) for n, i in _REGISTRY.items() if i.encoder_weights)
        raise ModelError(f"encoder_weights apply to {takers} only, not {name!r}")
    model = info.builder(int(num_classes), in_channels=in_channels)
    if encoder_weights is not None:
        model.load_encoder_weights(encoder_weights)
    return model
