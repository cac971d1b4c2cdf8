"""The SegNet family: `build_model(name, num_classes, **options)` and `available_models()`.

Every network is a `SegmentationModel` (encoder -> decoder -> classifier, with its
`ModelConfig`); each architecture registers itself with its metadata in `registry`.
"""

from __future__ import annotations

from torch import nn

from segnet_core.models.base import ModelConfig, SegmentationModel
from segnet_core.models.blocks import MAX_INPUT_SIDE, MIN_INPUT_SIZE, check_input_size
from segnet_core.models.pooling import PoolIndices, max_pool_compact, max_unpool_compact
from segnet_core.models.registry import (ModelInfo, available_models, build_model, model_info,
                                         register_model)
# Registered in the paper's order: SegNet, then SegNet-Basic and its decoder variants.
from segnet_core.models.segnet import SegNet, load_vgg16_bn_encoder  # isort: skip
from segnet_core.models.basic import BasicSegNet  # isort: skip

__all__ = ["build_model", "available_models", "model_info", "register_model", "ModelInfo",
           "ModelConfig", "SegmentationModel", "SegNet", "BasicSegNet", "MIN_INPUT_SIZE",
           "MAX_INPUT_SIDE", "check_input_size",
           "load_vgg16_bn_encoder", "max_pool_compact", "max_unpool_compact", "PoolIndices",
           "count_parameters"]


def count_parameters(model: nn.Module) -> int:
    """Learnable parameters (BatchNorm's scale and shift included, running statistics not)."""
    return sum(p.numel() for p in model.parameters())
