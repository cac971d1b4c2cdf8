"""Does any other signal rank a new street's frames better than the model's confidence?

    python benchmarks/uncertainty_signals.py --model runs/h16-lcn-no0001TP/last.pt
        [--drive 0001TP] [--passes 8] [--dropout 0.2 0.5] [--committee OTHER.pt ...]
        [--train-epochs 5 --train-rate 0.5] [--scales 0.5 0.75 1.33] [--photometric]
        [--temporal]

Every frame of a drive the model was not trained on is segmented once as the window does it
(the real pixel accuracy, void ignored, and the mean top probability, the estimate without a
stored calibration).
From that one pass also: the mean margin between the top two probabilities, one minus the
mean entropy (over its largest value), and, negated so that higher means surer, the share of
pixels on a class boundary of the label map and the share below 0.5 confidence, and the mean
confidence with the loss's class weights undone (`inference.images.unweighted_confidence`;
with `--scales` also times the scale agreement). Beside each Spearman, the signal's mean
less the real accuracy (points: how far off its level is, as it is). Then
`--passes` more times (none with `--dropout` given no rates) with channel dropout switched
on at test time after the encoder's last block and the decoder's first (the middle of the
network, where Bayesian SegNet puts it). Each frame's signals: the mean top probability of
the averaged passes, and the share of pixels where a pass agrees with the plain prediction.
`--committee` adds the signals of a committee (deep-ensemble style): how often other models
(say the same recipe's other training seeds) agree with this one's labels, and the mean
confidence of all the models' averaged probabilities.
`--scales` adds scale agreement (`segnet_core.inference.agreement`): the share of the plain
labels that hold when the model sees the frame at each given fraction of its input size, and
the mean confidence times it, each scale alone and all of them together (the estimate the
shipped model stores, `quality.CONFIDENCE_X_AGREEMENT`, uses 0.75 and 1.33).
`--photometric` (with `--scales`) adds the share of the plain labels that hold when the frame
is changed in look rather than size (`PHOTOMETRIC`: brighter and darker by a gamma, blurred,
noisy; set before measuring), each alone and times the shipped estimate's product (mean
confidence x scale agreement at all `--scales`).
`--temporal` adds how many of the plain labels the frame's neighbours in the drive (the frame
before and after) share: as they are, and warped onto the frame by dense optical flow
(Farneback, at the model's input size), each alone and, with `--scales`, times the shipped
estimate's product (a model that flickers between neighbouring frames is unsure there).
Prints Spearman's rank correlation of each with the real accuracy, over the drive and over
each half (frames in time order), and what each costs in forward passes (a pass at scale s
of the input size counting s squared).

The shipped models were trained without dropout. `--train-epochs N` first fine-tunes the
model N epochs (SGD at `--train-lr`, the last epoch at a tenth, the model's own recipe and
training frames from its training record) with channel dropout at `--train-rate` in the same
two places, as Bayesian SegNet trains, and then measures that model; `--train-rate 0` is the
control (the same fine-tuning without dropout), since more training alone moves the figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from segnet_core.checkpoint import load_checkpoint
from segnet_core.data import drives, open_dataset
from segnet_core.inference import Predictor
from segnet_core.inference.agreement import scale_agreement
from segnet_core.inference.images import (class_weight_inverses, images_to_tensor,
                                          prepare_image, restore_outputs, unweighted_confidence)
from segnet_core.quality import pixel_accuracy, recorded_class_weights, spearman

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"


class TestTimeDropout:
    """Channel dropout after the given modules, on while `rate` > 0."""

    def __init__(self, modules) -> None:
        self.rate = 0.0
        self._handles = [m.register_forward_hook(self._hook) for m in modules]

    def _hook(self, module, inputs, output):
        return F.dropout2d(output, self.rate, training=True) if self.rate > 0 else output

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def train_with_dropout(checkpoint, data: Path, drive: str, epochs: int, lr: float,
                       rate: float, seed: int):
    """The checkpoint's model fine-tuned `epochs` epochs on its own training frames with
    channel dropout at `rate` where `TestTimeDropout` puts it (returned in eval mode)."""
    from segnet_core.train import TrainConfig, Trainer

    record = checkpoint.training.get("data") or {}
    if record.get("hold_out_drive") != drive:
        raise SystemExit(f"{checkpoint.path}: not trained without drive {drive} "
                         f"(its training record says {record.get('hold_out_drive')})")
    label_set = checkpoint.label_set()
    frames = drives.join([open_dataset(data, split, label_set) for split in record["splits"]])
    frames, _ = drives.hold_out_drive(frames, drive)
    config = replace(TrainConfig.from_dict(checkpoint.training["config"]), epochs=epochs,
                     lr=lr, lr_drops=(epochs - 1,), seed=seed, device="cpu")
    trainer = Trainer(config, frames, None, None, start=checkpoint)
    dropout = TestTimeDropout([trainer.model.encoder[-1], trainer.model.decoder.convs[0]])
    dropout.rate = rate
    torch.manual_seed(seed)  # the dropout draws (the Trainer seeds the sample order only)
    started = time.monotonic()
    trainer.run()
    dropout.remove()
    print(f"fine-tuned {epochs} epochs on {len(frames)} frames with dropout {rate:g} in "
          f"{time.monotonic() - started:.0f} s", flush=True)
    return trainer.model.eval()


#: The signals of the plain pass, in `frame_signals`' order.
PLAIN_SIGNALS = ["mean confidence", "mean margin of the top two",
                 "1 - mean entropy", "- share of pixels on a class boundary",
                 "- share of pixels below 0.5 confidence",
                 "mean confidence, the loss's class weights undone"]
#: Where the unweighted confidence is among the plain signals.
UNWEIGHTED = PLAIN_SIGNALS.index("mean confidence, the loss's class weights undone")


def plain_signals(probability: torch.Tensor, inverses: torch.Tensor) -> list[float]:
    """`PLAIN_SIGNALS` of one (1, K, H, W) softmax output of a model trained with class
    weights (`inverses`: what undoes them, `class_weight_inverses`)."""
    top = probability.topk(2, dim=1).values[0]
    entropy = -(probability * probability.clamp_min(1e-8).log()).sum(1)[0]
    labels = probability.argmax(1)[0]
    boundary = torch.zeros_like(labels, dtype=torch.bool)
    boundary[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    boundary[1:, :] |= labels[1:, :] != labels[:-1, :]
    return [top[0].mean().item(), (top[0] - top[1]).mean().item(),
            1.0 - entropy.mean().item() / float(np.log(probability.shape[1])),
            -boundary.float().mean().item(), -(top[0] < 0.5).float().mean().item(),
            unweighted_confidence(probability, labels[None], inverses).mean().item()]


def frame_signals(net, dropout: TestTimeDropout, x: torch.Tensor, passes: int,
                  rates: list[float], inverses: torch.Tensor,
                  others=()) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The plain prediction's labels and confidence (at the model's size) and
    [`PLAIN_SIGNALS`, then per rate: the averaged passes' mean confidence, the passes'
    agreement with the plain labels, then with `others` (a committee of other models): their
    mean agreement with the plain labels and the mean confidence of everyone's average]."""
    with torch.inference_mode():
        dropout.rate = 0.0
        plain = net(x).float().softmax(1)
        confidence, labels = plain.max(1)
        signals = plain_signals(plain, inverses)
        for rate in rates:
            dropout.rate = rate
            runs = net(x.expand(passes, -1, -1, -1)).softmax(1)
            signals.append(runs.mean(0).max(0).values.mean().item())
            signals.append((runs.argmax(1) == labels).float().mean().item())
        if others:
            votes = [other(x).float().softmax(1) for other in others]
            signals.append(float(np.mean([(v.argmax(1) == labels).float().mean().item()
                                          for v in votes])))
            signals.append((sum(votes) + plain).div(1 + len(votes)).max(1).values.mean().item())
    return (labels[0].to(torch.uint8).numpy(), confidence[0].numpy(), signals)


def _gamma(value: float):
    table = (255.0 * (np.arange(256) / 255.0) ** value).round().astype(np.uint8)
    return lambda image, _index: table[image]


def _noise(sigma: float):
    def noisy(image: np.ndarray, index: int) -> np.ndarray:
        noise = np.random.default_rng(index).normal(0.0, sigma, image.shape)
        return np.clip(image + noise, 0, 255).astype(np.uint8)
    return noisy


def neighbour_agreement(labels: list[np.ndarray],
                        grays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the mean share of its labels that the frame before and the frame after
    (in the list's order) share: as they are, and warped onto it by dense optical flow from
    the gray images (labels and grays of one size; the warp's pixels from outside the
    neighbour are left out)."""
    height, width = labels[0].shape
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32),
                                 np.arange(height, dtype=np.float32))
    plain, warped = [], []
    for i in range(len(labels)):
        same, moved = [], []
        for j in (i - 1, i + 1):
            if not 0 <= j < len(labels):
                continue
            same.append(float(np.mean(labels[j] == labels[i])))
            flow = cv2.calcOpticalFlowFarneback(grays[i], grays[j], None, 0.5, 4, 21, 3, 7,
                                                1.5, 0)
            carried = cv2.remap(labels[j], grid_x + flow[..., 0], grid_y + flow[..., 1],
                                cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=255)
            inside = carried != 255
            moved.append(float(np.mean(carried[inside] == labels[i][inside]))
                         if inside.any() else 0.0)
        plain.append(np.mean(same) if same else 1.0)
        warped.append(np.mean(moved) if moved else 1.0)
    return np.array(plain), np.array(warped)


#: `--photometric`: (name, change of an RGB uint8 image and its frame index).
PHOTOMETRIC = [("gamma 0.6 (brighter)", _gamma(0.6)), ("gamma 1.6 (darker)", _gamma(1.6)),
               ("Gaussian blur, sigma 2 px",
                lambda image, _index: cv2.GaussianBlur(image, (0, 0), 2.0)),
               ("Gaussian noise, sigma 12", _noise(12.0))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--drive", default="0001TP")
    parser.add_argument("--passes", type=int, default=8)
    parser.add_argument("--dropout", type=float, nargs="*", default=[0.2, 0.5],
                        help="dropout rates (none: the plain pass's signals only)")
    parser.add_argument("--committee", type=Path, nargs="*", default=[],
                        help="other models of the same input (e.g. other training seeds of "
                             "the same held-out recipe): agreement and averaged confidence")
    parser.add_argument("--scales", type=float, nargs="*", default=[],
                        help="scale agreement at these fractions of the input size")
    parser.add_argument("--photometric", action="store_true",
                        help="with --scales: agreement under changes of look (PHOTOMETRIC)")
    parser.add_argument("--temporal", action="store_true",
                        help="agreement with the neighbouring frames' labels, as they are "
                             "and warped by optical flow")
    parser.add_argument("--train-epochs", type=int, default=0,
                        help="first fine-tune with dropout this many epochs (0: measure as is)")
    parser.add_argument("--train-rate", type=float, default=0.5,
                        help="dropout while fine-tuning (0: the control)")
    parser.add_argument("--train-lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0,
                        help="the fine-tuning's sample order, augmentation and dropout draws")
    args = parser.parse_args()
    if args.photometric and not args.scales:
        parser.error("--photometric needs --scales (it multiplies the scale agreement)")

    checkpoint = load_checkpoint(args.model)
    label_set = checkpoint.label_set()
    net = (train_with_dropout(checkpoint, args.data, args.drive, args.train_epochs,
                              args.train_lr, args.train_rate, args.seed)
           if args.train_epochs else checkpoint.build_model().eval())
    if not hasattr(net, "encoder") or not hasattr(net, "decoder"):
        raise SystemExit(f"{args.model}: not an encoder-decoder SegNet")
    dropout = TestTimeDropout([net.encoder[-1], net.decoder.convs[0]])
    others = [load_checkpoint(path) for path in args.committee]
    for other in others:
        if (other.input_size, other.normalization) != (checkpoint.input_size,
                                                       checkpoint.normalization):
            raise SystemExit(f"{other.path}: another input size or normalisation")
    others = [other.build_model().eval() for other in others]
    mean = torch.tensor(checkpoint.normalization["mean"], dtype=torch.float32)
    std = torch.tensor(checkpoint.normalization["std"], dtype=torch.float32)
    scaled = (Predictor(net, label_set, input_size=checkpoint.input_size,
                        normalization=checkpoint.normalization, device="cpu", precision="fp32")
              if args.scales else None)
    inverses = class_weight_inverses(recorded_class_weights(checkpoint.training,
                                                            label_set.num_classes)
                                     or [1.0] * label_set.num_classes)
    torch.manual_seed(0)
    frames = drives.drive_frames(args.data, args.drive, label_set)
    rows, small_labels, grays, shipped = [], [], [], []
    size = (checkpoint.input_size[1], checkpoint.input_size[0])  # (width, height) for cv2
    for i in range(len(frames)):
        image, truth = frames[i]
        prepared, restore = prepare_image(image, checkpoint.input_size)  # as the window does
        x = images_to_tensor([prepared], mean, std, torch.device("cpu"))
        labels, confidence, signals = frame_signals(net, dropout, x, args.passes, args.dropout,
                                                      inverses, others)
        full = restore_outputs(labels, confidence, restore)
        if scaled is not None:
            dropout.rate = 0.0
            agreements = [scale_agreement(scaled, image, full.labels, (scale,))
                          for scale in args.scales]
            agreements.append(float(np.mean(agreements)))
            signals += agreements + [signals[0] * a for a in agreements]
            signals.append(signals[UNWEIGHTED] * agreements[-1])
            shipped.append(signals[0] * agreements[-1])  # mean confidence x all scales' agreement
            if args.photometric:
                held = [float(np.mean(scaled.predict(change(image, i)).labels == full.labels))
                        for _, change in PHOTOMETRIC]
                signals += held + [signals[0] * agreements[-1] * h for h in held]
        rows.append([pixel_accuracy(full.labels, truth, label_set.void_index)] + signals)
        if args.temporal:
            small_labels.append(cv2.resize(full.labels.astype(np.uint8), size,
                                           interpolation=cv2.INTER_NEAREST))
            grays.append(cv2.cvtColor(cv2.resize(image, size, interpolation=cv2.INTER_AREA),
                                      cv2.COLOR_RGB2GRAY))
    table = np.array(rows)
    if args.temporal:
        plain, warped = neighbour_agreement(small_labels, grays)
        extra = [plain, warped]
        if shipped:
            extra += [np.multiply(shipped, plain), np.multiply(shipped, warped)]
        table = np.column_stack([table] + extra)
    half = len(table) // 2
    names = PLAIN_SIGNALS + [
        f"{what}, dropout {rate:g}" for rate in args.dropout
        for what in ("averaged passes' confidence", "passes' agreement")]
    costs = [1] * len(PLAIN_SIGNALS) + [1 + args.passes] * (2 * len(args.dropout))
    if others:
        names += [f"committee of {1 + len(others)}: agreement with the others",
                  f"committee of {1 + len(others)}: averaged confidence"]
        costs += [1 + len(others)] * 2
    if args.scales:
        sets = [f"{scale:g}" for scale in args.scales] + [
            " and ".join(f"{scale:g}" for scale in args.scales)]
        passes = [1 + scale ** 2 for scale in args.scales]
        passes.append(1 + sum(scale ** 2 for scale in args.scales))
        names += [f"scale agreement at {what}" for what in sets]
        names += [f"mean confidence x scale agreement at {what}" for what in sets]
        names.append(f"mean confidence, class weights undone, x scale agreement at {sets[-1]}")
        costs += [round(cost, 2) for cost in passes] * 2 + [round(passes[-1], 2)]
        if args.photometric:
            names += [f"agreement under {name}" for name, _ in PHOTOMETRIC]
            names += [f"mean confidence x scale agreement x agreement under {name}"
                      for name, _ in PHOTOMETRIC]
            costs += [2] * len(PHOTOMETRIC) + [round(passes[-1] + 1, 2)] * len(PHOTOMETRIC)
    if args.temporal:
        names += ["agreement with the neighbouring frames",
                  "agreement with the neighbouring frames, warped by optical flow"]
        costs += [1, 1]
        if args.scales:
            names += [f"mean confidence x scale agreement x {what}" for what in (
                "neighbours' agreement", "neighbours' agreement, warped")]
            costs += [round(passes[-1], 2)] * 2
    trained = (f" fine-tuned {args.train_epochs} epochs with dropout {args.train_rate:g}"
               if args.train_epochs else "")
    print(f"{args.model}{trained} on drive {args.drive}: {len(table)} frames, real accuracy "
          f"{100 * table[:, 0].min():.1f}-{100 * table[:, 0].max():.1f} % "
          f"(mean {100 * table[:, 0].mean():.1f})")
    print("\n| signal | Spearman, drive | first half | second half | forward passes | "
          "mean of signal - accuracy (points) |")
    print("|---|---|---|---|---|---|")
    for column, (name, cost) in enumerate(zip(names, costs), start=1):
        print(f"| {name} | {spearman(table[:, column], table[:, 0]):.3f} | "
              f"{spearman(table[:half, column], table[:half, 0]):.2f} | "
              f"{spearman(table[half:, column], table[half:, 0]):.2f} | {cost} | "
              f"{100 * np.mean(table[:, column] - table[:, 0]):+.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
