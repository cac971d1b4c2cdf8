"""Does the model's confidence mean what it says, class by class, with and without its loss's
class weights undone?

    python benchmarks/class_calibration.py --base runs/h/no0001TP-s0/last.pt 0001TP
        [--base MODEL DRIVE ...] [--every 1]

Every `--every`-th frame of each drive is segmented by a base model trained without that
drive (at the model's input size; the annotation is brought to it by nearest neighbour). For
the pixels the model gives each class it prints how many there are, the share it gets right,
its mean top probability (what the model claims) and the mean probability of the label with
the median-frequency weights its loss used divided out (`inference.images.
unweighted_confidence`), and over all pixels the mean gap between claim and share right,
weighted by pixels. A model trained with weight w_c learns outputs proportional to
w_c P(c | x): it overstates the classes that weigh more than 1 and understates the others.
Last, G, C and mIoU of the model's labels and of the labels it would give with the weights
undone (the argmax of p_c / w_c: more pixels right, fewer of the rare classes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segnet_core.data import drives  # noqa: E402
from segnet_core.evaluation.confusion import ConfusionMatrix, scores_from_confusion  # noqa: E402
from segnet_core.inference import Predictor  # noqa: E402
from segnet_core.inference.images import (class_weight_inverses, images_to_tensor,  # noqa: E402
                                          prepare_image, unweighted_confidence)
from segnet_core.quality import recorded_class_weights  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"


def class_claims(predictor: Predictor, frames, every: int):
    """Per class (rows): [pixels labelled it, of them right, sum of top probability, sum of
    unweighted confidence] over the valid pixels of every `every`-th frame; and the confusion
    matrices of the model's labels and of the labels the unweighted probabilities would
    give (their argmax)."""
    label_set = predictor.label_set
    weights = recorded_class_weights(predictor.training, label_set.num_classes)
    if weights is None:
        raise SystemExit("the model's training record has no class weights for its classes")
    inverses = class_weight_inverses(weights)
    mean = torch.tensor(predictor.normalization["mean"])
    std = torch.tensor(predictor.normalization["std"])
    sums = np.zeros((label_set.num_classes, 4))
    plain = ConfusionMatrix(label_set.num_classes, label_set.void_index)
    argmax_undone = ConfusionMatrix(label_set.num_classes, label_set.void_index)
    for index in range(0, len(frames), every):
        image, truth = frames[index]
        prepared, _ = prepare_image(image, predictor.input_size)
        x = images_to_tensor([prepared], mean, std, predictor.device)
        with torch.inference_mode():
            probabilities = predictor.logits(x).float().softmax(1)
        top, labels = probabilities.max(1)
        undone = unweighted_confidence(probabilities, labels, inverses)[0].cpu().numpy()
        other = (probabilities * inverses.view(1, -1, 1, 1)).argmax(1)[0].cpu().numpy()
        labels, top = labels[0].cpu().numpy(), top[0].cpu().numpy()
        small = cv2.resize(truth, labels.shape[::-1], interpolation=cv2.INTER_NEAREST)
        valid = small != label_set.void_index
        plain.update(labels.astype(np.uint8), small)
        argmax_undone.update(other.astype(np.uint8), small)
        for c in range(label_set.num_classes):
            pick = valid & (labels == c)
            sums[c] += (pick.sum(), (small[pick] == c).sum(), top[pick].sum(), undone[pick].sum())
    return sums, plain, argmax_undone


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", nargs=2, action="append", required=True,
                        metavar=("MODEL", "DRIVE"), help="a model and the drive it never saw")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--every", type=int, default=1, help="every n-th frame of the drive")
    args = parser.parse_args()
    for model, drive in args.base:
        predictor = Predictor.from_checkpoint(model, device="cpu", precision="fp32")
        frames = drives.drive_frames(args.data, drive, predictor.label_set)
        sums, plain, argmax_undone = class_claims(predictor, frames, max(1, args.every))
        weights = recorded_class_weights(predictor.training, predictor.num_classes)
        count = len(range(0, len(frames), max(1, args.every)))
        print(f"\n{model} on drive {drive} ({count} frames): pixels the model gives each class\n")
        print("| class | weight | pixels | share right | mean top probability | "
              "weights undone |")
        print("|---|---|---|---|---|---|")
        for c, name in enumerate(predictor.label_set.names):
            n, right, top, undone = sums[c]
            if n:
                print(f"| {name} | {weights[c]:.2f} | {int(n)} | {right / n:.3f} | "
                      f"{top / n:.3f} | {undone / n:.3f} |")
        n = sums[:, 0]
        shown = n > 0
        share = sums[shown, 1] / n[shown]
        gap_top = np.abs(sums[shown, 2] / n[shown] - share) @ n[shown] / n.sum()
        gap_undone = np.abs(sums[shown, 3] / n[shown] - share) @ n[shown] / n.sum()
        print(f"| mean gap, weighted by pixels (points) | | | | {100 * gap_top:.1f} | "
              f"{100 * gap_undone:.1f} |")
        print(f"overall: share right {sums[:, 1].sum() / n.sum():.3f}, mean top probability "
              f"{sums[:, 2].sum() / n.sum():.3f}, weights undone {sums[:, 3].sum() / n.sum():.3f}")
        for name, matrix in (("the model's labels", plain),
                             ("the argmax of the unweighted probabilities", argmax_undone)):
            scores = scores_from_confusion(matrix)
            print(f"{name}: G {100 * scores.global_accuracy:.2f}, C "
                  f"{100 * scores.class_accuracy:.2f}, mIoU {100 * scores.miou:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
