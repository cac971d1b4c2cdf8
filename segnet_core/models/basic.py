"""SegNet-Basic and the decoder variants of the paper's Table 1.

All share one encoder: four stages of conv 7x7 (64 channels) -> BN -> ReLU -> 2x2 max pool.
They differ only in how the decoder goes back to full resolution, described by a
`DecoderSpec`; `VARIANTS` maps each paper name to its spec.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum

import torch
import torch.nn.functional as F
from torch import nn

from segnet_core.models import pooling
from segnet_core.models.base import ModelConfig, SegmentationModel
from segnet_core.models.blocks import ConvBNReLU, he_initialise
from segnet_core.models.encoder import Encoded, PoolingEncoder
from segnet_core.models.registry import register_model

STAGES = 4
WIDTH = 64
KERNEL = 7
DECONV_KERNEL = 8  # FCN's learned upsampling: see the docstring of `BasicSegNet`


class Upsample(str, Enum):
    """How a decoder stage doubles the resolution."""

    INDICES = "indices"  # unpool with the encoder's pooling indices
    DECONV = "deconv"  # learned transposed conv, stride 2
    BILINEAR = "bilinear"  # fixed bilinear interpolation


class DecoderConv(str, Enum):
    """The conv after upsampling."""

    FULL = "full"  # 7x7, 64 -> 64, BN, no ReLU
    DEPTHWISE = "depthwise"  # 7x7 per channel, BN


class Skip(str, Enum):
    """What a decoder stage adds from the encoder."""

    ENCODER = "encoder"  # the encoder's 64 feature maps of that scale
    REDUCED = "reduced"  # the encoder's pooled maps through a 1x1 conv to the width (FCN)


@dataclass(frozen=True)
class DecoderSpec:
    """How one decoder variant upsamples and what it adds.

    conv: None for no conv after upsampling; skip: None for no addition.
    reduce: the decoder works on K channels (FCN's dimensionality reduction) instead of 64.
    """

    upsample: Upsample
    conv: DecoderConv | None
    skip: Skip | None = None
    reduce: bool = False


VARIANTS: dict[str, DecoderSpec] = {
    "segnet-basic": DecoderSpec(Upsample.INDICES, DecoderConv.FULL),
    "segnet-basic-single-channel-decoder": DecoderSpec(Upsample.INDICES, DecoderConv.DEPTHWISE),
    "segnet-basic-encoder-addition": DecoderSpec(Upsample.INDICES, DecoderConv.FULL,
                                                 skip=Skip.ENCODER),
    "fcn-basic": DecoderSpec(Upsample.DECONV, None, skip=Skip.REDUCED, reduce=True),
    "fcn-basic-no-addition": DecoderSpec(Upsample.DECONV, None, reduce=True),
    "fcn-basic-no-dim-reduction": DecoderSpec(Upsample.DECONV, None, skip=Skip.REDUCED),
    "fcn-basic-no-addition-no-dim-reduction": DecoderSpec(Upsample.DECONV, None),
    "bilinear": DecoderSpec(Upsample.BILINEAR, DecoderConv.DEPTHWISE),
}

#: Variants that see the image through local contrast normalisation first (`LocalContrastNorm`).
LCN_VARIANTS: dict[str, str] = {"segnet-basic-lcn": "segnet-basic"}
VARIANTS.update({name: VARIANTS[base] for name, base in LCN_VARIANTS.items()})

#: (description, the paper's parameter count in millions for K = 11) of each variant.
_PAPER: dict[str, tuple[str, float]] = {
    "segnet-basic": ("4 encoders + 4 decoders, 7x7x64 convs, pooling-index upsampling", 1.425),
    "segnet-basic-single-channel-decoder": ("SegNet-Basic with depthwise decoder convs", 0.625),
    "segnet-basic-encoder-addition": ("SegNet-Basic adding the encoder's feature maps", 1.425),
    "fcn-basic": ("FCN decoder: K-channel learned upsampling plus reduced encoder maps", 0.65),
    "fcn-basic-no-addition": ("FCN-Basic without the encoder maps", 0.65),
    "fcn-basic-no-dim-reduction": ("FCN-Basic keeping all 64 channels", 1.625),
    "fcn-basic-no-addition-no-dim-reduction": ("FCN-Basic, 64 channels, no encoder maps", 1.625),
    "bilinear": ("fixed bilinear upsampling, depthwise decoder convs", 0.625),
    "segnet-basic-lcn": ("SegNet-Basic on a locally contrast-normalised image (the 2015 "
                         "paper's pre-processing)", 1.425),
}
PAPER_LR = 0.1  # the paper's SGD learning rate for SegNet-Basic and its variants


class LocalContrastNorm(nn.Module):
    """Local contrast normalisation of an image, as the first SegNet paper (2015) prepared
    its input after Jarrett et al. (2009): subtract the Gaussian-weighted local mean over all
    channels, then divide by the local standard deviation, or by its mean over the image
    where that is larger. It evens out light and shadow while keeping colour (the mean is
    shared by the channels). No learned weights; the kernel is not saved with the model."""

    def __init__(self, size: int = 9, sigma: float = 2.0):
        super().__init__()
        offsets = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
        line = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
        kernel = torch.outer(line, line)
        self.register_buffer("kernel", (kernel / kernel.sum())[None, None], persistent=False)
        self.pad = size // 2

    def _local_mean(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x.mean(1, keepdim=True), [self.pad] * 4, mode="replicate")
        return F.conv2d(x, self.kernel.to(x.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # float32 even under autocast: in bf16 the local means lose the small differences
        # the normalisation divides up (the class map then agreed with fp32 on 99.58 % of
        # CamVid val's pixels instead of 99.98 %)
        with torch.autocast(x.device.type, enabled=False):
            x = x.float()
            centred = x - self._local_mean(x)
            spread = self._local_mean(centred * centred).clamp_min(0).sqrt()
            floor = spread.mean(dim=(2, 3), keepdim=True).clamp_min(1e-4)
            return centred / torch.maximum(spread, floor)


class BasicDecoder(nn.Module):
    """Four stages going back up from the encoder's deepest map, as `spec` says.

    width: the channels the decoder works on (K with dimensionality reduction, else 64).
    """

    def __init__(self, spec: DecoderSpec, width: int):
        super().__init__()
        self.spec = spec
        self.reducers = nn.ModuleList()
        if spec.reduce:
            # the deepest map is reduced first; with the FCN skip each shallower pooled map too
            count = STAGES if spec.skip == Skip.REDUCED else 1
            self.reducers = nn.ModuleList(nn.Conv2d(WIDTH, width, 1) for _ in range(count))
        self.upsamplers = nn.ModuleList()
        if spec.upsample == Upsample.DECONV:
            self.upsamplers = nn.ModuleList(
                nn.ConvTranspose2d(width, width, DECONV_KERNEL, stride=2,
                                   padding=(DECONV_KERNEL - 2) // 2) for _ in range(STAGES))
        self.convs = nn.ModuleList()
        if spec.conv is not None:
            groups = width if spec.conv == DecoderConv.DEPTHWISE else 1
            self.convs = nn.ModuleList(
                ConvBNReLU(width, width, KERNEL, relu=False, groups=groups) for _ in range(STAGES))

    def forward(self, encoded: Encoded) -> torch.Tensor:
        spec = self.spec
        x = encoded.output
        if spec.reduce:
            x = self.reducers[0](x)
        for step in range(STAGES):
            level = STAGES - 1 - step  # encoder stage this decoder mirrors
            x = self._upsample(x, step, encoded.indices[level])
            if self.convs:
                x = self.convs[step](x)
            if spec.skip == Skip.ENCODER:
                x = x + encoded.features[level]
            elif spec.skip == Skip.REDUCED and level > 0:
                skip = encoded.pooled[level - 1]
                x = x + (self.reducers[step + 1](skip) if spec.reduce else skip)
        return x

    def _upsample(self, x: torch.Tensor, step: int, where: pooling.PoolIndices) -> torch.Tensor:
        kind = self.spec.upsample
        if kind == Upsample.INDICES:
            return pooling.max_unpool_compact(x, where)
        size = where.size
        if kind == Upsample.BILINEAR:
            return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        x = self.upsamplers[step](x)  # exactly twice the size; crop the ceil-mode pad
        return x[:, :, :size[0], :size[1]]


class BasicSegNet(SegmentationModel):
    """A four-stage 7x7 encoder with the decoder of `VARIANTS[variant]`.

    Readings of details the paper leaves open, each chosen to land closest to its Table 1
    parameter count (K = 11):
    - FCN's learned upsampling is a transposed conv with an 8x8 kernel, stride 2 (one per
      stage, on K channels, or on 64 without dimensionality reduction). The "reduced" skip
      adds the encoder's pooled maps of the matching scale after each upsampling, through a
      1x1 conv to K channels (with reduction) or as they are (without it), FCN's way.
    - Bilinear-Interpolation upsamples with fixed bilinear weights and densifies with a
      depthwise 7x7 conv per stage (0.626 M against the paper's 0.625 M).
    - SegNet-Basic-EncoderAddition adds the encoder's 64 pre-pool feature maps to each
      decoder's output (same parameters as SegNet-Basic).
    - Networks whose decoder has 64 channels end with a 1x1 classifier conv to K classes;
      with dimensionality reduction the decoder's output already has K channels (no
      classifier).
    """

    #: Before the decoder was one module its parts hung off the model.
    LEGACY_KEYS = ((r"^decoder\.(\d+)\.", r"decoder.convs.\1."),
                   (r"^(reducers|upsamplers)\.", r"decoder.\1."))

    def __init__(self, num_classes: int, in_channels: int = 3, *,
                 variant: str = "segnet-basic"):
        super().__init__(ModelConfig(variant, num_classes, in_channels))
        self.spec = spec = VARIANTS[variant]
        self.encoder = PoolingEncoder(
            (ConvBNReLU(in_channels if i == 0 else WIDTH, WIDTH, KERNEL) for i in range(STAGES)),
            keep_maps=spec.skip is not None)
        self.decoder = BasicDecoder(spec, num_classes if spec.reduce else WIDTH)
        self.classifier = None if spec.reduce else nn.Conv2d(WIDTH, num_classes, 1)
        if variant in LCN_VARIANTS:
            self.stem = LocalContrastNorm()
        he_initialise(self)


def _register_variants() -> None:
    for name, (description, parameters) in _PAPER.items():
        register_model(name, functools.partial(BasicSegNet, variant=name),
                       description=description, paper_parameters=parameters,
                       default_lr=PAPER_LR)


_register_variants()
