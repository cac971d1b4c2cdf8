"""The paper's memory argument, measured: what a decoder must keep from its encoder.

For `segnet` and `segnet-basic` at 360x480, batch 1, one inference pass records every
pooling-index tensor the decoder keeps (ours: uint8 window positions) and what PyTorch's
`max_pool2d(return_indices=True)` would keep (int64 flat indices, 8 bytes per element).
For comparison, FCN-Basic keeps its encoder maps to add them in the decoder: the pooled
maps reduced to K channels (fcn-basic) or all 64 channels (fcn-basic-no-dim-reduction),
float32.

Usage: python benchmarks/memory.py [--height 360 --width 480 --classes 11]
"""

from __future__ import annotations

import argparse

import torch

from segnet_core.models import build_model
from segnet_core.models import pooling


def _pool_index_bytes(name: str, size: tuple[int, int], classes: int) -> tuple[int, int, int]:
    """(our index bytes, PyTorch int64 index bytes, pooled elements) held by `name`."""
    kept = []
    original = pooling.max_pool_compact

    def recording(x):
        pooled, indices = original(x)
        kept.append(indices.positions)
        return pooled, indices

    pooling.max_pool_compact = recording
    try:
        with torch.inference_mode():
            build_model(name, classes).eval()(torch.randn(1, 3, *size))
    finally:
        pooling.max_pool_compact = original
    elements = sum(t.numel() for t in kept)
    ours = sum(t.numel() * t.element_size() for t in kept)
    return ours, elements * torch.tensor([], dtype=torch.int64).element_size(), elements


def _fcn_skip_bytes(name: str, size: tuple[int, int], classes: int) -> int:
    """Bytes of the encoder maps an FCN decoder keeps for its additions (float32)."""
    model = build_model(name, classes).eval()
    kept = []
    hooks = []
    if model.spec.reduce:
        hooks = [r.register_forward_hook(lambda m, i, o: kept.append(o))
                 for r in model.decoder.reducers[1:]]
    else:
        # without dimensionality reduction the pooled 64-channel maps themselves are added
        def on_encoder(module, inputs, output):
            kept.extend(output.pooled)
        hooks = [model.encoder.register_forward_hook(on_encoder)]
    with torch.inference_mode():
        model(torch.randn(1, 3, *size))
    for hook in hooks:
        hook.remove()
    if not model.spec.reduce:
        kept = kept[:-1]  # the deepest pooled map is the decoder's input, not a skip
    return sum(t.numel() * t.element_size() for t in kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--classes", type=int, default=11)
    args = parser.parse_args()
    size = (args.height, args.width)
    mb = 1024 * 1024
    print(f"Decoder memory at {size[0]}x{size[1]}, batch 1, K = {args.classes}\n")
    print(f"{'model':28s} {'pooled elements':>15s} {'ours (MiB)':>11s} "
          f"{'int64 (MiB)':>12s} {'ratio':>6s}")
    for name in ("segnet", "segnet-basic"):
        ours, theirs, elements = _pool_index_bytes(name, size, args.classes)
        print(f"{name:28s} {elements:15,d} {ours / mb:11.2f} {theirs / mb:12.2f} "
              f"{theirs / ours:5.1f}x")
    print(f"\n{'FCN decoder keeps (float32)':28s} {'MiB':>11s}")
    for name in ("fcn-basic", "fcn-basic-no-dim-reduction"):
        print(f"{name:28s} {_fcn_skip_bytes(name, size, args.classes) / mb:11.2f}")
    first = 64 * ((size[0] + 1) // 2) * ((size[1] + 1) // 2)
    print(f"\nFor scale: the first encoder's pooled map alone is 64 x {(size[0] + 1) // 2} x "
          f"{(size[1] + 1) // 2} float32 = {first * 4 / mb:.2f} MiB (the paper's 11 MB); "
          f"its indices take {first / mb:.2f} MiB here, {first / 4 / mb:.2f} MiB at 2 bits.")


if __name__ == "__main__":
    main()
