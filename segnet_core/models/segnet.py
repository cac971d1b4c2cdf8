"""SegNet: the VGG16-BN encoder and its mirrored decoder that upsamples with pooling indices."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from segnet_core.errors import CheckpointError
from segnet_core.models.blocks import ConvBNReLU, check_input, he_initialise
from segnet_core.models.pooling import CompactMaxPool2d, CompactMaxUnpool2d

# VGG16 configuration "D": channels of the convs of each of the five encoder stages.
VGG16_STAGES: tuple[tuple[int, ...], ...] = (
    (64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def _decoder_stage_channels(stage: int) -> list[tuple[int, int]]:
    """(in, out) channels of decoder stage `stage` (0 = shallowest), mirroring the encoder."""
    channels = VGG16_STAGES[stage]
    out_last = VGG16_STAGES[stage - 1][-1] if stage > 0 else channels[0]
    pairs = [(c, c) for c in channels[:-1]]
    pairs.append((channels[-1], out_last))
    return pairs


class SegNet(nn.Module):
    """13 encoder convs of VGG16-BN, 5 index-keeping pools, 5 unpools and 13 decoder convs.

    The last decoder conv outputs `num_classes` channels (logits; no BN or ReLU after it).
    """

    def __init__(self, num_classes: int, in_channels: int = 3):
        super().__init__()
        self.in_channels = in_channels
        self.encoder = nn.ModuleList()
        previous = in_channels
        for channels in VGG16_STAGES:
            stage = nn.Sequential()
            for width in channels:
                stage.append(ConvBNReLU(previous, width))
                previous = width
            self.encoder.append(stage)
        self.pool = CompactMaxPool2d()
        self.unpool = CompactMaxUnpool2d()
        self.decoder = nn.ModuleList()
        for index in reversed(range(len(VGG16_STAGES))):
            stage = nn.Sequential()
            for cin, cout in _decoder_stage_channels(index):
                stage.append(ConvBNReLU(cin, cout))
            self.decoder.append(stage)
        # The deepest-first decoder list ends with the shallowest stage; its last conv
        # becomes the classifier.
        last = self.decoder[-1]
        last[-1] = nn.Conv2d(VGG16_STAGES[0][0], num_classes, 3, padding=1)
        he_initialise(self)

    def encoder_parameters(self):
        return self.encoder.parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        indices = []
        for stage in self.encoder:
            x, idx = self.pool(stage(x))
            indices.append(idx)
        for stage, idx in zip(self.decoder, reversed(indices)):
            x = stage(self.unpool(x, idx))
        return x


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
    from segnet_core.checkpoint import check_archive, check_dtypes  # (it imports models)

    path = Path(path)
    try:
        with open(path, "rb") as handle:
            zipped = handle.read(4) == b"PK\x03\x04"
    except FileNotFoundError:
        raise CheckpointError(path, "file not found") from None
    except OSError as error:
        raise CheckpointError(path, f"cannot read it ({error.strerror or error})") from None
    if zipped:  # torch.save's format since 1.6; torchvision's 2017 files are the older one
        check_archive(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated, foreign or hostile pickles all land here
        raise CheckpointError(path, f"not a readable PyTorch state dict ({error})") from None
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
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise CheckpointError(path, f"not a vgg16_bn state dict: {shown}")
    check_dtypes(mapping, state, path)
    with torch.no_grad():
        for key, target in mapping.items():
            target.copy_(state[key].to(target.dtype))
