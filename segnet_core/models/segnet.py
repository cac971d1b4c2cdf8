"""SegNet: the VGG16-BN encoder and its mirrored decoder that upsamples with pooling indices."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from segnet_core.errors import CheckpointError
from segnet_core.models import pooling
from segnet_core.models.base import ModelConfig, SegmentationModel
from segnet_core.models.blocks import ConvBNReLU, he_initialise
from segnet_core.models.encoder import Encoded, PoolingEncoder
from segnet_core.models.registry import register_model
from segnet_core.safe_load import check_dtypes, load_weights_file, summarize

# VGG16 configuration "D": channels of the convs of each of the five encoder stages.
VGG16_STAGES: tuple[tuple[int, ...], ...] = (
    (64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def _decoder_stage_channels(stage: int) -> list[tuple[int, int]]:
    """(in, out) channels of decoder stage `stage` (0 = shallowest), mirroring the encoder;
    the shallowest stage's last conv is the classifier, not listed here."""
    channels = VGG16_STAGES[stage]
    if stage == 0:
        return [(c, c) for c in channels[:-1]]
    pairs = [(c, c) for c in channels[:-1]]
    pairs.append((channels[-1], VGG16_STAGES[stage - 1][-1]))
    return pairs


class UnpoolingDecoder(nn.ModuleList):
    """Conv stages, deepest first, each after unpooling with its encoder stage's indices."""

    def forward(self, encoded: Encoded) -> torch.Tensor:
        x = encoded.output
        for stage, where in zip(self, reversed(encoded.indices)):
            x = stage(pooling.max_unpool_compact(x, where))
        return x


class SegNet(SegmentationModel):
    """13 encoder convs of VGG16-BN, 5 index-keeping pools, 5 unpools, 12 decoder convs and
    a 3x3 conv classifier (logits; no BN or ReLU after it): the paper's 13 decoder convs."""

    #: Before the classifier had its own name it was the last conv of the last decoder stage.
    LEGACY_KEYS = ((rf"^decoder\.{len(VGG16_STAGES) - 1}\.{len(VGG16_STAGES[0]) - 1}\.",
                    "classifier."),)

    def __init__(self, num_classes: int, in_channels: int = 3):
        super().__init__(ModelConfig("segnet", num_classes, in_channels))
        stages, previous = [], in_channels
        for channels in VGG16_STAGES:
            stage = nn.Sequential()
            for width in channels:
                stage.append(ConvBNReLU(previous, width))
                previous = width
            stages.append(stage)
        self.encoder = PoolingEncoder(stages)
        self.decoder = UnpoolingDecoder(
            nn.Sequential(*(ConvBNReLU(cin, cout) for cin, cout in _decoder_stage_channels(i)))
            for i in reversed(range(len(VGG16_STAGES))))
        self.classifier = nn.Conv2d(VGG16_STAGES[0][0], num_classes, 3, padding=1)
        he_initialise(self)

    def load_encoder_weights(self, path: str | Path) -> None:
        load_vgg16_bn_encoder(self, path)


def _vgg16_bn_feature_keys() -> list[int]:
    """Index of each conv in torchvision's `vgg16_bn().features` (conv, bn, relu; pool per stage)."""
    positions, index = [], 0
    for channels in VGG16_STAGES:
        for _ in channels:
            positions.append(index)
            index += 3
        index += 1  # the max pool
    return positions


def load_vgg16_bn_encoder(model: SegNet, path: str | Path) -> None:
    """Copy a torchvision-format `vgg16_bn` state dict (keys `features.N.*`) into the encoder.

    Reads the file with `torch.load(weights_only=True)`: no torchvision, no code execution.
    Every expected key must be present with the expected shape; otherwise a CheckpointError
    lists what does not match and the model is left untouched.
    """
    path = Path(path)
    # torchvision's 2017 files predate torch.save's zip format
    state = load_weights_file(path, what="PyTorch state dict", legacy_format=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise CheckpointError(path, f"expected a state dict, found {type(state).__name__}")

    convs = [module for stage in model.encoder for module in stage]
    mapping: dict[str, torch.Tensor] = {}
    for block, feature_index in zip(convs, _vgg16_bn_feature_keys()):
        conv, bn = block[0], block[1]
        ours = {"weight": conv.weight, "bias": conv.bias}
        for name, tensor in ours.items():
            mapping[f"features.{feature_index}.{name}"] = tensor
        for name in ("weight", "bias", "running_mean", "running_var"):
            mapping[f"features.{feature_index + 1}.{name}"] = getattr(bn, name)

    problems = []
    for key, target in mapping.items():
        if key not in state:
            problems.append(f"missing {key}")
        elif not isinstance(state[key], torch.Tensor):
            problems.append(f"{key} is not a tensor")
        elif tuple(state[key].shape) != tuple(target.shape):
            problems.append(f"{key} has shape {tuple(state[key].shape)}, "
                            f"expected {tuple(target.shape)}")
    if problems:
        raise CheckpointError(path, f"not a vgg16_bn state dict: {summarize(problems)}")
    check_dtypes(mapping, state, path)
    with torch.no_grad():
        for key, target in mapping.items():
            target.copy_(state[key].to(target.dtype))


register_model("segnet", SegNet,
               description="VGG16-BN encoder (13 convs), decoder upsampling with pooling indices",
               paper_parameters=29.45, default_lr=1e-3, encoder_weights="vgg16_bn")
