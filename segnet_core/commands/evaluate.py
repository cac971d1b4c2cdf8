"""`segnet-studio evaluate`: G, C, mIoU and BF of a model's or a folder's predicted masks
against a data set.

With --model (or neither --model nor --predictions: the shipped model) the model segments each
image at its checkpoint's input size and the labels are resized back to the image's size
(nearest) before scoring (`segnet_core.evaluation.evaluate_model`). With --predictions the
masks are files in one folder, matched to the data set's samples by file stem
(`segnet_core.evaluation.evaluate_predictions`).
"""

from __future__ import annotations

import argparse
import json

HELP = "Score a model or a folder of predicted masks: G, C, mIoU, BF"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from segnet_core.commands.arguments import add_model_arguments

    source = parser.add_mutually_exclusive_group()
    source.add_argument("--predictions", metavar="PRED_DIR",
                        help="folder of predicted masks named like the images (by stem)")
    source.add_argument("--model", metavar="CKPT",
                        help="checkpoint of a trained model (the default when neither is "
                             "given: the shipped model)")
    parser.add_argument("--data", required=True, metavar="PATH",
                        help="data set with the ground truth: a list file, a CamVid-style "
                             "folder or images/ + masks/")
    parser.add_argument("--split", default="val", help="split to evaluate (default: val)")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON object (fractions in [0, 1]) instead of a table")
    parser.add_argument("--no-bf", action="store_true",
                        help="skip the boundary F1 score (faster)")
    add_model_arguments(parser, model=False)


def run(args: argparse.Namespace) -> int:
    from segnet_core.data.datasets import open_dataset
    from segnet_core.evaluation import (evaluate_model, evaluate_predictions,
                                        format_scores_table, scores_to_json)

    if args.predictions is not None:
        dataset = open_dataset(args.data, split=args.split)
        scores, images = evaluate_predictions(args.predictions, dataset,
                                              compute_bf=not args.no_bf)
    else:
        from segnet_core.commands.arguments import load_predictor
        from segnet_core.commands.progress_bar import ProgressBar

        predictor = load_predictor(args)
        dataset = open_dataset(args.data, split=args.split)
        bar = ProgressBar(len(dataset), "evaluate")
        scores, images = evaluate_model(predictor, dataset, compute_bf=not args.no_bf,
                                        progress=lambda i, n: bar.update(i))
        bar.close()
    if args.json:
        print(json.dumps(scores_to_json(scores, dataset.label_set, images), indent=2))
    else:
        print(format_scores_table(scores, dataset.label_set, images))
    return 0
