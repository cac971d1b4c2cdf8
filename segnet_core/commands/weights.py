"""`segnet-studio weights`: class pixel frequencies and balancing weights of a data set."""

from __future__ import annotations

import argparse
import json
import sys
import warnings

HELP = "Class pixel frequencies and median-frequency weights of a data set"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="PATH",
                        help="data set: a list file, a CamVid-style folder or images/ + masks/")
    parser.add_argument("--split", default="train",
                        help="split to count (default: train)")
    parser.add_argument("--balance", choices=("median", "natural"), default="median",
                        help="which weight to print: median frequency (default) or natural "
                             "(1 for every class that appears)")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    from segnet_core.balance import class_weights, dataset_pixel_stats
    from segnet_core.data.datasets import open_dataset

    dataset = open_dataset(args.data, split=args.split)
    stats = dataset_pixel_stats(dataset)
    names = list(dataset.label_set.names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        weights = class_weights(stats, args.balance)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    frequency = stats.frequency

    if args.json:
        classes = [{"name": name, "pixels": int(stats.pixels[c]),
                    "frequency": float(frequency[c]), "weight": float(weights[c])}
                   for c, name in enumerate(names)]
        print(json.dumps({"classes": classes, "images": len(dataset), "split": args.split,
                          "balance": args.balance}, indent=2))
        return 0

    weight_title = "median-freq weight" if args.balance == "median" else "natural weight"
    width = max(len("class"), *(len(n) for n in names)) + 2
    print(f"Data set: {dataset.source} (split {args.split}, {len(dataset)} images)")
    print(f"{'class':<{width}}{'pixels':>14}{'frequency':>12}{weight_title:>20}")
    for c, name in enumerate(names):
        print(f"{name:<{width}}{int(stats.pixels[c]):>14}{frequency[c]:>12.6f}"
              f"{float(weights[c]):>20.4f}")
    return 0
