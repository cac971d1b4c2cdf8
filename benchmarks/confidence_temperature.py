"""Would a temperature, or undoing the class weights only in part, make the estimate carry
better to a new street?

    python benchmarks/confidence_temperature.py --across runs/h/no0016E5-s0/last.pt 0016E5 \
        --across runs/h/no0001TP-s0/last.pt 0001TP --across runs/h/no0006R0-s0/last.pt 0006R0

The shipped estimate is the mean, over a frame's pixels, of the probability of each pixel's
label once the loss's class weights are divided out (`inference.images.unweighted_confidence`,
nothing fitted). Two knobs could bend it: a temperature T on the logits (the usual way to
calibrate a softmax) and a power a on the weights (a = 1 undoes them, a = 0 leaves them):
q_c proportional to softmax(logits / T)_c / w_c ** a, read at the model's label. Every frame
of each drive is segmented once by the model trained without that drive (`--across`, at
least two drives); the grid of (T, a) is scored on every drive (Spearman with the real pixel
accuracy, mean absolute error in points), and, leave one drive out, the (T, a) with the
lowest summed error on the other drives is scored on the drive left out, beside the shipped
(1, 1). Nothing is fitted on the frames a figure is taken on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from segnet_core.checkpoint import load_checkpoint
from segnet_core.data import drives
from segnet_core.inference.images import (images_to_tensor, logits_to_outputs, prepare_image,
                                          restore_outputs)
from segnet_core.quality import pixel_accuracy, recorded_class_weights, spearman

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"
TEMPERATURES = (0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)
POWERS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
SHIPPED = (1.0, 1.0)


def label_confidences(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor,
                      temperatures=TEMPERATURES, powers=POWERS) -> np.ndarray:
    """(len(temperatures), len(powers)) means over the pixels of q at each (1, H, W) label,
    from (1, K, H, W) logits, q_c proportional to softmax(logits / T)_c / weights_c ** a."""
    log_weights = torch.log(weights.clamp_min(1e-12)).view(1, -1, 1, 1)
    chosen = labels.long().unsqueeze(1)
    table = np.zeros((len(temperatures), len(powers)))
    for i, temperature in enumerate(temperatures):
        log_p = torch.log_softmax(logits.float() / temperature, dim=1)
        for j, power in enumerate(powers):
            q = torch.softmax(log_p - power * log_weights, dim=1)
            table[i, j] = q.gather(1, chosen).mean().item()
    return table


def measure_drive(model: Path, data: Path, drive: str) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's real pixel accuracy (labels at the frame's own size, void ignored, as
    the window shows them) and its `label_confidences` (at the model's size)."""
    checkpoint = load_checkpoint(model)
    label_set = checkpoint.label_set()
    weights = recorded_class_weights(checkpoint.training, label_set.num_classes)
    if weights is None:
        raise SystemExit(f"{model}: its training record has no class weights to undo")
    weights = torch.tensor(weights, dtype=torch.float32)
    net = checkpoint.build_model().eval()
    mean = torch.tensor(checkpoint.normalization["mean"], dtype=torch.float32)
    std = torch.tensor(checkpoint.normalization["std"], dtype=torch.float32)
    frames = drives.drive_frames(data, drive, label_set)
    accuracy, tables = [], []
    with torch.inference_mode():
        for i in range(len(frames)):
            image, truth = frames[i]
            prepared, restore = prepare_image(image, checkpoint.input_size)
            logits = net(images_to_tensor([prepared], mean, std, torch.device("cpu")))
            labels, confidence, _ = logits_to_outputs(logits)
            shown = restore_outputs(labels[0], confidence[0], restore)
            accuracy.append(pixel_accuracy(shown.labels, truth, label_set.void_index))
            tables.append(label_confidences(logits, torch.from_numpy(labels), weights))
    return np.array(accuracy), np.array(tables)


def score(accuracy: np.ndarray, estimate: np.ndarray) -> tuple[float, float]:
    """(Spearman, mean absolute error in points)."""
    return spearman(estimate, accuracy), 100.0 * float(np.mean(np.abs(estimate - accuracy)))


def leave_one_drive_out(measured: dict[str, tuple[np.ndarray, np.ndarray]]
                        ) -> dict[str, tuple[int, int]]:
    """For each drive, the grid cell (temperature index, power index) with the lowest summed
    mean error on the other drives."""
    cells = [(i, j) for i in range(len(TEMPERATURES)) for j in range(len(POWERS))]
    chosen = {}
    for held in measured:
        chosen[held] = min(cells, key=lambda cell: sum(
            score(accuracy, tables[:, cell[0], cell[1]])[1]
            for drive, (accuracy, tables) in measured.items() if drive != held))
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--across", nargs=2, action="append", metavar=("MODEL", "DRIVE"),
                        required=True, help="a drive and the model trained without it")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if len(args.across) < 2 or len({drive for _, drive in args.across}) < len(args.across):
        parser.error("give at least two --across, each a different drive")
    measured = {}
    for model, drive in args.across:
        measured[drive] = measure_drive(Path(model), args.data, drive)
        print(f"{model} on {drive}: {len(measured[drive][0])} frames")
    drive_names = list(measured)
    print("\nSpearman / mean error (points) on each drive\n")
    print("| T | a | " + " | ".join(drive_names) + " | mean |")
    print("|---|---|" + "---|" * (len(drive_names) + 1))
    for i, temperature in enumerate(TEMPERATURES):
        for j, power in enumerate(POWERS):
            scores = [score(acc, tables[:, i, j]) for acc, tables in measured.values()]
            mark = " (shipped)" if (temperature, power) == SHIPPED else ""
            print(f"| {temperature:g} | {power:g}{mark} | "
                  + " | ".join(f"{s:.3f} / {e:.1f}" for s, e in scores)
                  + f" | {np.mean([s for s, _ in scores]):.3f} / "
                    f"{np.mean([e for _, e in scores]):.2f} |")
    shipped = (TEMPERATURES.index(SHIPPED[0]), POWERS.index(SHIPPED[1]))
    print("\nLeave one drive out: (T, a) chosen on the other drives, scored on this one\n")
    print("| drive (frames) | chosen T, a | chosen: Spearman / error | shipped: Spearman / error |")
    print("|---|---|---|---|")
    for drive, (i, j) in leave_one_drive_out(measured).items():
        accuracy, tables = measured[drive]
        chosen_score = score(accuracy, tables[:, i, j])
        shipped_score = score(accuracy, tables[:, shipped[0], shipped[1]])
        print(f"| {drive} ({len(accuracy)}) | {TEMPERATURES[i]:g}, {POWERS[j]:g} | "
              f"{chosen_score[0]:.3f} / {chosen_score[1]:.1f} | "
              f"{shipped_score[0]:.3f} / {shipped_score[1]:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
