"""SegNet-Basic and the decoder variants of the paper's Table 1.

All share one encoder: four stages of conv 7x7 (64 channels) -> BN -> ReLU -> 2x2 max pool.
They differ only in how the decoder goes back to full resolution, described by a
`DecoderSpec`; `VARIANTS` maps each paper name to its spec.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from segnet_core.models.blocks import ConvBNReLU, check_input, he_initialise
from segnet_core.models.pooling import CompactMaxPool2d, CompactMaxUnpool2d

STAGES = 4
WIDTH = 64
KERNEL = 7
DECONV_KERNEL = 8  # FCN's learned upsampling: see the docstring of `BasicSegNet`


@dataclass(frozen=True)
class DecoderSpec:
    """How one decoder variant upsamples and what it adds.

    upsample: "indices" (unpool with the encoder's pooling indices), "deconv" (learned
        transposed conv, stride 2), or "bilinear" (fixed).
    conv: the conv after upsampling: "full" (7x7, 64->64, BN, no ReLU), "depthwise"
        (7x7 per channel, BN), or None.
    skip: None, "encoder" (add the encoder's 64 feature maps of that scale) or "reduced"
        (add the encoder's pooled maps reduced to the decoder's channels by a 1x1 conv: FCN).
    reduce: the decoder works on K channels (FCN's dimensionality reduction) instead of 64.
    """

    upsample: str
    conv: str | None
    skip: str | None = None
    reduce: bool = False


VARIANTS: dict[str, DecoderSpec] = {
    "segnet-basic": DecoderSpec("indices", "full"),
    "segnet-basic-single-channel-decoder": DecoderSpec("indices", "depthwise"),
    "segnet-basic-encoder-addition": DecoderSpec("indices", "full", skip="encoder"),
    "fcn-basic": DecoderSpec("deconv", None, skip="reduced", reduce=True),
    "fcn-basic-no-addition": DecoderSpec("deconv", None, reduce=True),
    "fcn-basic-no-dim-reduction": DecoderSpec("deconv", None, skip="reduced"),
    "fcn-basic-no-addition-no-dim-reduction": DecoderSpec("deconv", None),
    "bilinear": DecoderSpec("bilinear", "depthwise"),
}


class BasicSegNet(nn.Module):
    """A four-stage 7x7 encoder with the decoder described by `spec`.

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
      with dimensionality reduction the decoder's output already has K channels.
    """

    def __init__(self, num_classes: int, spec: DecoderSpec, in_channels: int = 3):
        super().__init__()
        self.in_channels = in_channels
        self.spec = spec
        self.encoder = nn.ModuleList(
            ConvBNReLU(in_channels if i == 0 else WIDTH, WIDTH, KERNEL) for i in range(STAGES))
        self.pool = CompactMaxPool2d()
        self.unpool = CompactMaxUnpool2d()
        width = num_classes if spec.reduce else WIDTH
        self.reducers = nn.ModuleList()
        if spec.reduce:
            # the deepest map is reduced first; with the FCN skip each shallower pooled map too
            count = STAGES if spec.skip == "reduced" else 1
            self.reducers = nn.ModuleList(nn.Conv2d(WIDTH, width, 1) for _ in range(count))
        self.upsamplers = nn.ModuleList()
        if spec.upsample == "deconv":
            self.upsamplers = nn.ModuleList(
                nn.ConvTranspose2d(width, width, DECONV_KERNEL, stride=2,
                                   padding=(DECONV_KERNEL - 2) // 2) for _ in range(STAGES))
        self.decoder = nn.ModuleList()
        if spec.conv == "full":
            self.decoder = nn.ModuleList(
                ConvBNReLU(width, width, KERNEL, relu=False) for _ in range(STAGES))
        elif spec.conv == "depthwise":
            self.decoder = nn.ModuleList(
                ConvBNReLU(width, width, KERNEL, relu=False, groups=width) for _ in range(STAGES))
        self.classifier = None if spec.reduce else nn.Conv2d(WIDTH, num_classes, 1)
        he_initialise(self)

    def encoder_parameters(self):
        return self.encoder.parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        spec = self.spec
        features, pooled, indices = [], [], []
        for stage in self.encoder:
            x = stage(x)
            features.append(x)
            x, idx = self.pool(x)
            pooled.append(x)
            indices.append(idx)
        if spec.reduce:
            x = self.reducers[0](x)
        for step in range(STAGES):
            level = STAGES - 1 - step  # encoder stage this decoder mirrors
            size = indices[level].size
            x = self._upsample(x, step, indices[level], size)
            if self.decoder:
                x = self.decoder[step](x)
            if spec.skip == "encoder":
                x = x + features[level]
            elif spec.skip == "reduced" and level > 0:
                skip = pooled[level - 1]
                x = x + (self.reducers[step + 1](skip) if spec.reduce else skip)
        return x if self.classifier is None else self.classifier(x)

    def _upsample(self, x: torch.Tensor, step: int, idx, size: tuple[int, int]) -> torch.Tensor:
        kind = self.spec.upsample
        if kind == "indices":
            return self.unpool(x, idx)
        if kind == "bilinear":
            return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        x = self.upsamplers[step](x)  # exactly twice the size; crop the ceil-mode pad
        return x[:, :, :size[0], :size[1]]
