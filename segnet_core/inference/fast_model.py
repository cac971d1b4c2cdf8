"""An inference-only copy of a model, rewritten for speed: batch norm folded into the convs,
channels-last memory, 16-bit conv weights where accuracy allows, compiled conv stages.
What each rewrite gains is measured by `benchmarks/inference.py --ablation`; see
docs/speed.md."""

from __future__ import annotations

import copy
import itertools

import torch
from torch import nn

from segnet_core.device import precision_dtype
from segnet_core.models import SegmentationModel


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm2d that directly follows a Conv2d in an nn.Sequential into that
    conv, in place, and return the model; for inference only (uses the running statistics).

    In eval mode BN is y = (x - mean) / sqrt(var + eps) * gamma + beta, a per-channel affine
    map, so conv + BN is one conv with weights scaled by gamma / sqrt(var + eps) and a shifted
    bias. Computed in float64, so the folded conv equals conv + BN to float32 rounding.
    """
    for sequence in model.modules():
        if not isinstance(sequence, nn.Sequential):
            continue
        children = list(sequence.named_children())
        for (_, conv), (bn_name, bn) in zip(children, children[1:]):
            if not (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)
                    and bn.running_mean is not None and bn.num_features == conv.out_channels):
                continue
            with torch.no_grad():
                scale = torch.rsqrt(bn.running_var.double() + bn.eps)
                if bn.weight is not None:
                    scale = scale * bn.weight.double()
                shift = -bn.running_mean.double() * scale
                if bn.bias is not None:
                    shift = shift + bn.bias.double()
                weight = conv.weight.double() * scale.view(-1, 1, 1, 1)
                bias = shift if conv.bias is None else conv.bias.double() * scale + shift
                dtype = conv.weight.dtype
                conv.weight = nn.Parameter(weight.to(dtype), requires_grad=False)
                conv.bias = nn.Parameter(bias.to(dtype), requires_grad=False)
            setattr(sequence, bn_name, nn.Identity())
    return model


class Float32Layer(nn.Module):
    """Runs `layer` in float32 even under autocast (its output is float32)."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.layer(x.float())


def inference_model(model: nn.Module, precision: str = "fp32",
                    channels_last: bool = True) -> nn.Module:
    """A copy of `model` for inference only: eval mode, no gradients, batch norm folded into
    the convs, channels-last memory when asked, conv weights already in the autocast dtype
    of `precision` (autocast would otherwise cast them at every call). `model` is unchanged.
    Run it under `autocast(device, precision)` as the original.

    In bf16 or fp16 the convs of the encoder (`model.encoder`, where there is one), the
    first conv and the last one (the classifier, where there is one) stay in float32. The
    encoder decides the pooling indices, and 16-bit rounding (8 significant bits in bf16)
    turns near-equal maxima into ties or flips them, so the decoder puts values in other
    pixels; the classifier's logits are what argmax compares. The decoder, in 16 bits,
    holds most of SegNet-Basic's work and half of SegNet's. How often the class map
    differs from fp32's either way: docs/speed.md.
    """
    fast = copy.deepcopy(model).eval()
    fast.requires_grad_(False)
    fold_batchnorm(fast)
    if channels_last:
        fast = fast.to(memory_format=torch.channels_last)
    dtype = precision_dtype(precision)
    if dtype is None:
        return fast
    keep = set()
    if isinstance(fast, SegmentationModel):
        keep = {id(m) for m in fast.encoder.modules()}
        if fast.classifier is not None:
            keep.update(id(m) for m in fast.classifier.modules())
    convs = [(name, module) for name, module in fast.named_modules()
             if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d))]
    for i, (name, module) in enumerate(convs):
        if id(module) in keep or i in (0, len(convs) - 1):
            fast.set_submodule(name, Float32Layer(module))
        else:
            module.to(dtype)
    return fast


def compile_stages(model: nn.Module) -> nn.Module:
    """Run each conv stage of `model` (every nn.Sequential held in an nn.ModuleList: the
    encoder and decoder stages of the SegNet family) through `torch.compile`, in place.

    The pooling and unpooling between the stages stay eager: compiled whole, the model
    broke TorchInductor (its scatter for max_unpool2d fails on the index arithmetic of the
    compact indices, torch 2.13), and ATen's own pooling kernels are the faster anyway.
    Each stage compiles on its first call per input shape, which takes seconds; on CPUs
    it gains little, as oneDNN's convolutions are most of the time (docs/speed.md).
    """
    lists = [module for module in model.modules() if isinstance(module, nn.ModuleList)]
    for stages in lists:
        for i, stage in enumerate(stages):
            if isinstance(stage, nn.Sequential):
                stages[i] = torch.compile(stage)
    return model


def weights_version(model: nn.Module) -> tuple | None:
    """Changes whenever a parameter or buffer of `model` is replaced or modified in place
    (PyTorch counts in-place writes per tensor), so a stale inference copy is noticed."""
    try:
        return tuple((id(t), t._version)
                     for t in itertools.chain(model.parameters(), model.buffers()))
    except RuntimeError:  # inference tensors keep no version counter: they cannot change
        return None
