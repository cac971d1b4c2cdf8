"""Where a model is sure and wrong: why its confidence cannot rank a new street's frames.

    python benchmarks/confident_errors.py --base runs/gpu/base-no0001TP-s0.pt 0001TP
        [--base runs/gpu/base-no0006R0-s0.pt 0006R0 ...] [--sure 0.9] [--pairs 3]

Every frame of each drive is segmented, as the window does it, by a base model trained
without that drive. A wrong pixel (void ignored) is "sure" when the model's top probability
there is at least `--sure`. Per base it prints: the share of wrong pixels that are sure, the
(truth -> predicted) class pairs that make most of them, how much the frames' pixel error
varies (standard deviation over the drive), how much of it the sure errors alone vary, and how
the two correlate over the frames. Any estimate built on the model's confidence (or on
anything else the model says about itself) sees a sure error as a right pixel, so where the
sure errors vary from frame to frame as much as the rest, no such estimate can rank that
drive's frames well: only the user's corrections (which `quality.levelling` spreads to the
frames near them) or a model that is not sure there can.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segnet_core.data import drives  # noqa: E402
from segnet_core.inference import Predictor  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"


def sure_errors(predictor: Predictor, frames, sure: float):
    """(per-frame (error, sure error) shares of the valid pixels, (truth, predicted) counts of
    the sure errors, the same of all errors) over `frames` ((image, truth) pairs)."""
    label_set = predictor.label_set
    k = label_set.num_classes
    sure_pairs, all_pairs, shares = np.zeros((k, k)), np.zeros((k, k)), []
    for index in range(len(frames)):
        image, truth = frames[index]
        prediction = predictor.predict(image)
        valid = truth != label_set.void_index
        wrong = valid & (prediction.labels != truth)
        sure_wrong = wrong & (prediction.confidence >= sure)
        np.add.at(sure_pairs, (truth[sure_wrong], prediction.labels[sure_wrong]), 1)
        np.add.at(all_pairs, (truth[wrong], prediction.labels[wrong]), 1)
        count = max(1, int(valid.sum()))
        shares.append((wrong.sum() / count, sure_wrong.sum() / count))
    return np.array(shares), sure_pairs, all_pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", nargs=2, action="append", required=True,
                        metavar=("MODEL", "DRIVE"), help="a model and the drive it never saw")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sure", type=float, default=0.9)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    print(f"| base | drive (frames) | wrong pixels sure (>= {args.sure}) | most sure errors "
          f"(share of them; share of that pair's errors that are sure) | frame error sd | "
          f"sd of the sure part | correlation |")
    print("|---|---|---|---|---|---|---|")
    for model, drive in args.base:
        predictor = Predictor.from_checkpoint(model, device="cpu")
        frames = drives.drive_frames(args.data, drive, predictor.label_set)
        shares, sure_pairs, all_pairs = sure_errors(predictor, frames, args.sure)
        names = predictor.label_set.names
        total = max(1.0, sure_pairs.sum())
        top = np.argsort(sure_pairs.ravel())[::-1][:args.pairs]
        pairs = "; ".join(
            f"{names[t]} -> {names[p]} {sure_pairs[t, p] / total:.0%} "
            f"({sure_pairs[t, p] / max(1.0, all_pairs[t, p]):.0%})"
            for t, p in (divmod(int(i), len(names)) for i in top))
        correlation = np.corrcoef(shares[:, 0], shares[:, 1])[0, 1]
        print(f"| {Path(model).name} | {drive} ({len(frames)}) | "
              f"{sure_pairs.sum() / max(1.0, all_pairs.sum()):.1%} | {pairs} | "
              f"{shares[:, 0].std():.3f} | {shares[:, 1].std():.3f} | {correlation:.2f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
