"""Does any other signal rank a new street's frames better than the model's confidence?

    python benchmarks/uncertainty_signals.py --model runs/h16-lcn-no0001TP/last.pt
        [--drive 0001TP] [--passes 8] [--dropout 0.2 0.5]

Every frame of a drive the model was not trained on is segmented once as the window does it
(the real pixel accuracy, void ignored, and the mean top probability, the shipped estimate).
From that one pass also: the mean margin between the top two probabilities, one minus the
mean entropy (over its largest value), and, negated so that higher means surer, the share of
pixels on a class boundary of the label map and the share below 0.5 confidence. Then
`--passes` more times (none with `--dropout` given no rates) with channel dropout switched
on at test time after the encoder's last block and the decoder's first (the middle of the
network, where Bayesian SegNet puts it). Each frame's signals: the mean top probability of
the averaged passes, and the share of pixels where a pass agrees with the plain prediction.
Prints Spearman's rank correlation of each with the real accuracy, over the drive and over
each half (frames in time order), and what each costs in forward passes.

The shipped models were trained without dropout, so this is dropout at test time only; a
Bayesian SegNet trained with it is the next step if this shows promise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from segnet_core.checkpoint import load_checkpoint
from segnet_core.data import drives
from segnet_core.inference.images import images_to_tensor, prepare_image, restore_outputs
from segnet_core.quality import pixel_accuracy, spearman

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"


class TestTimeDropout:
    """Channel dropout after the given modules, on while `rate` > 0."""

    def __init__(self, modules) -> None:
        self.rate = 0.0
        self._handles = [m.register_forward_hook(self._hook) for m in modules]

    def _hook(self, module, inputs, output):
        return F.dropout2d(output, self.rate, training=True) if self.rate > 0 else output


#: The signals of the plain pass, in `frame_signals`' order.
PLAIN_SIGNALS = ["mean confidence (shipped)", "mean margin of the top two",
                 "1 - mean entropy", "- share of pixels on a class boundary",
                 "- share of pixels below 0.5 confidence"]


def plain_signals(probability: torch.Tensor) -> list[float]:
    """`PLAIN_SIGNALS` of one (1, K, H, W) softmax output."""
    top = probability.topk(2, dim=1).values[0]
    entropy = -(probability * probability.clamp_min(1e-8).log()).sum(1)[0]
    labels = probability.argmax(1)[0]
    boundary = torch.zeros_like(labels, dtype=torch.bool)
    boundary[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    boundary[1:, :] |= labels[1:, :] != labels[:-1, :]
    return [top[0].mean().item(), (top[0] - top[1]).mean().item(),
            1.0 - entropy.mean().item() / float(np.log(probability.shape[1])),
            -boundary.float().mean().item(), -(top[0] < 0.5).float().mean().item()]


def frame_signals(net, dropout: TestTimeDropout, x: torch.Tensor, passes: int,
                  rates: list[float]) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The plain prediction's labels and confidence (at the model's size) and
    [`PLAIN_SIGNALS`, then per rate: the averaged passes' mean confidence, the passes'
    agreement with the plain labels]."""
    with torch.inference_mode():
        dropout.rate = 0.0
        plain = net(x).float().softmax(1)
        confidence, labels = plain.max(1)
        signals = plain_signals(plain)
        for rate in rates:
            dropout.rate = rate
            runs = net(x.expand(passes, -1, -1, -1)).softmax(1)
            signals.append(runs.mean(0).max(0).values.mean().item())
            signals.append((runs.argmax(1) == labels).float().mean().item())
    return (labels[0].to(torch.uint8).numpy(), confidence[0].numpy(), signals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--drive", default="0001TP")
    parser.add_argument("--passes", type=int, default=8)
    parser.add_argument("--dropout", type=float, nargs="*", default=[0.2, 0.5],
                        help="dropout rates (none: the plain pass's signals only)")
    args = parser.parse_args()

    checkpoint = load_checkpoint(args.model)
    label_set = checkpoint.label_set()
    net = checkpoint.build_model().eval()
    if not hasattr(net, "encoder") or not hasattr(net, "decoder"):
        raise SystemExit(f"{args.model}: not an encoder-decoder SegNet")
    dropout = TestTimeDropout([net.encoder[-1], net.decoder.convs[0]])
    mean = torch.tensor(checkpoint.normalization["mean"], dtype=torch.float32)
    std = torch.tensor(checkpoint.normalization["std"], dtype=torch.float32)
    torch.manual_seed(0)
    frames = drives.drive_frames(args.data, args.drive, label_set)
    rows = []
    for i in range(len(frames)):
        image, truth = frames[i]
        prepared, restore = prepare_image(image, checkpoint.input_size)  # as the window does
        x = images_to_tensor([prepared], mean, std, torch.device("cpu"))
        labels, confidence, signals = frame_signals(net, dropout, x, args.passes, args.dropout)
        full = restore_outputs(labels, confidence, restore)
        rows.append([pixel_accuracy(full.labels, truth, label_set.void_index)] + signals)
    table = np.array(rows)
    half = len(table) // 2
    names = PLAIN_SIGNALS + [
        f"{what}, dropout {rate:g}" for rate in args.dropout
        for what in ("averaged passes' confidence", "passes' agreement")]
    costs = [1] * len(PLAIN_SIGNALS) + [1 + args.passes] * (2 * len(args.dropout))
    print(f"{args.model} on drive {args.drive}: {len(table)} frames, real accuracy "
          f"{100 * table[:, 0].min():.1f}-{100 * table[:, 0].max():.1f} %")
    print("\n| signal | Spearman, drive | first half | second half | forward passes |")
    print("|---|---|---|---|---|")
    for column, (name, cost) in enumerate(zip(names, costs), start=1):
        print(f"| {name} | {spearman(table[:, column], table[:, 0]):.3f} | "
              f"{spearman(table[:half, column], table[:half, 0]):.2f} | "
              f"{spearman(table[half:, column], table[half:, 0]):.2f} | {cost} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
