"""Does the model know where a new street's rare objects are? (Which frames to seed picks with.)

    python benchmarks/rare_class_signals.py --model runs/heldout-no0006R0-s0/last.pt
        [--drive 0006R0] [--shown 0.005]

Every frame of a drive the model was not trained on is segmented as the window does it. For
each class, the frame's true share of pixels (of the whole frame, void pixels included) is
compared with two signals: the share the model predicts as the class (argmax) and its soft
mass (the mean softmax probability of the class over the frame, which also counts where the
class comes second). Prints, per class: frames that show it (true share at least
`--shown`), Spearman of each signal with the true share over the frames, and of the five
frames each signal puts first, how many really show the class (what a rule seeding picks
with the frame that shows a class most would get).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from segnet_core.checkpoint import load_checkpoint
from segnet_core.data import drives
from segnet_core.inference.images import images_to_tensor, prepare_image
from segnet_core.quality import spearman

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"
TOP = 5


def class_signals(checkpoint, frames, num_classes: int):
    """Per frame: (true share, predicted share, soft mass), each (num_classes,)."""
    net = checkpoint.build_model().eval()
    mean = torch.tensor(checkpoint.normalization["mean"], dtype=torch.float32)
    std = torch.tensor(checkpoint.normalization["std"], dtype=torch.float32)
    true, predicted, soft = [], [], []
    for i in range(len(frames)):
        image, truth = frames[i]
        prepared, _ = prepare_image(image, checkpoint.input_size)
        with torch.inference_mode():
            probability = net(images_to_tensor([prepared], mean, std,
                                               torch.device("cpu"))).float().softmax(1)[0]
        labels = probability.argmax(0).numpy().ravel()
        true.append(np.bincount(truth.ravel(), minlength=num_classes + 1)[:num_classes]
                    / truth.size)
        predicted.append(np.bincount(labels, minlength=num_classes)[:num_classes] / labels.size)
        soft.append(probability.flatten(1).mean(1).numpy()[:num_classes])
    return np.array(true), np.array(predicted), np.array(soft)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--drive", default="0006R0")
    parser.add_argument("--shown", type=float, default=0.005)
    args = parser.parse_args()

    checkpoint = load_checkpoint(args.model)
    label_set = checkpoint.label_set()
    frames = drives.drive_frames(args.data, args.drive, label_set)
    true, predicted, soft = class_signals(checkpoint, frames, label_set.num_classes)
    shows = true >= args.shown
    print(f"{args.model} on drive {args.drive}: {len(true)} frames\n")
    print(f"| class | frames showing it | mean share | Spearman: predicted share | soft mass | "
          f"of the top {TOP} by predicted share, showing it | by soft mass |")
    print("|---|---|---|---|---|---|---|")
    for c, name in enumerate(label_set.names):
        hits = [int(shows[np.argsort(-signal[:, c], kind="stable")[:TOP], c].sum())
                for signal in (predicted, soft)]
        ranks = [spearman(signal[:, c], true[:, c]) for signal in (predicted, soft)]
        print(f"| {name} | {int(shows[:, c].sum())} | {100 * true[:, c].mean():.2f} % | "
              f"{ranks[0]:.2f} | {ranks[1]:.2f} | {hits[0]} | {hits[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
