"""`segnet-studio evaluate`: G, C, mIoU and BF of a model's or a folder's predicted masks
against a data set.

With --model (or neither --model nor --predictions: the shipped model) the model segments each
image at its checkpoint's input size and the labels are resized back to the image's size
(nearest) before scoring. With --predictions the masks are files in one folder, matched to the
data set's samples by file stem (the image's stem, else the ground-truth mask's), and read like
ground-truth masks (palette, single-channel index or colour-coded through the label set).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from segnet_core.errors import DataError, SegNetError
from segnet_core.progress import CancelToken

HELP = "Score a model or a folder of predicted masks: G, C, mIoU, BF"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from segnet_core.commands.predict import add_model_arguments

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


def _prediction_files(pred_dir: Path) -> dict[str, list[Path]]:
    from segnet_core.masks.io import IMAGE_EXTENSIONS

    if not pred_dir.is_dir():
        raise DataError(pred_dir, "predictions folder not found")
    found: dict[str, list[Path]] = {}
    for file in sorted(pred_dir.iterdir()):
        if file.name.startswith(".") or not file.is_file():
            continue
        if file.suffix.lower() in IMAGE_EXTENSIONS:
            found.setdefault(file.stem, []).append(file)
    return found


def _prediction_for(files: dict[str, list[Path]], sample, pred_dir: Path) -> Path:
    for stem in dict.fromkeys((sample.image.stem, sample.mask.stem)):
        candidates = files.get(stem)
        if not candidates:
            continue
        if len(candidates) > 1:
            pngs = [c for c in candidates if c.suffix.lower() == ".png"]
            if len(pngs) != 1:
                names = ", ".join(c.name for c in candidates)
                raise DataError(pred_dir, f"several predictions for image {stem!r}: {names}")
            return pngs[0]
        return candidates[0]
    raise DataError(pred_dir, f"no prediction for image {sample.image.stem!r} "
                              f"(expected a mask named {sample.image.stem}.png in {pred_dir})")


def evaluate_predictions(pred_dir, dataset, compute_bf: bool = True,
                         progress: Callable[[int, int], None] | None = None):
    """Score the masks in `pred_dir` against `dataset`; returns (Scores, images evaluated).

    Every sample of the data set needs a prediction with the same stem: DataError naming the
    image and the folder when one is missing, naming the prediction file and both sizes when
    its size differs from the ground truth's, and naming it when it holds a value that is not
    a class. `progress(i, n)` is called after each image, i counted from 1.
    """
    from segnet_core.masks.io import read_mask
    from segnet_core.metrics import SegmentationEvaluator

    pred_dir = Path(pred_dir)
    label_set = dataset.label_set
    files = _prediction_files(pred_dir)
    pairs = [(i, _prediction_for(files, sample, pred_dir))
             for i, sample in enumerate(dataset.samples)]
    evaluator = SegmentationEvaluator(label_set.num_classes, label_set.void_index,
                                      compute_bf=compute_bf)
    n = len(pairs)
    for done, (i, pred_path) in enumerate(pairs, start=1):
        target = dataset.read_mask(i)
        prediction = read_mask(pred_path, label_set)
        if prediction.shape != target.shape:
            raise DataError(pred_path,
                            f"prediction size {prediction.shape[0]}x{prediction.shape[1]} "
                            f"(height x width) differs from the ground-truth size "
                            f"{target.shape[0]}x{target.shape[1]} of {dataset.samples[i].mask}")
        try:
            evaluator.update(prediction, target)
        except ValueError as error:
            raise DataError(pred_path, str(error)) from None
        if progress is not None:
            progress(done, n)
    return evaluator.result(), evaluator.images


def evaluate_model(predictor, dataset, compute_bf: bool = True,
                   progress: Callable[[int, int], None] | None = None,
                   cancel: CancelToken | None = None):
    """Segment every image of `dataset` with `predictor` and score the labels; returns
    (Scores, images evaluated).

    The predictor resizes each image to its input size and its labels back to the image's
    size (nearest). SegNetError naming both counts when the model's classes are not the data
    set's; DataError naming the mask when a mask's size differs from its image's.
    `progress(i, n)` is called after each image, i counted from 1. When `cancel` is
    cancelled the images scored so far are returned.
    """
    from segnet_core.metrics import SegmentationEvaluator

    label_set = dataset.label_set
    model_classes = predictor.label_set.num_classes
    if model_classes != label_set.num_classes:
        raise SegNetError(f"the model predicts {model_classes} classes but the data set "
                          f"{dataset.source} has {label_set.num_classes}; evaluate it on a "
                          f"data set with the model's classes")
    evaluator = SegmentationEvaluator(label_set.num_classes, label_set.void_index,
                                      compute_bf=compute_bf)

    def pairs():
        for i in range(len(dataset)):
            image, mask = dataset[i]
            yield mask, image

    n = len(dataset)
    for done, (target, prediction) in enumerate(predictor.predict_iter(pairs(), cancel),
                                                start=1):
        evaluator.update(prediction.labels, target)
        if progress is not None:
            progress(done, n)
    return evaluator.result(), evaluator.images


def print_scores(scores, label_set, images: int, as_json: bool) -> None:
    """The command's output, shared by every way of producing predictions."""
    from segnet_core.score_report import format_scores_table, scores_to_json

    if as_json:
        print(json.dumps(scores_to_json(scores, label_set, images), indent=2))
    else:
        print(format_scores_table(scores, label_set, images))


def run(args: argparse.Namespace) -> int:
    from segnet_core.data.datasets import open_dataset

    if args.predictions is not None:
        dataset = open_dataset(args.data, split=args.split)
        scores, images = evaluate_predictions(args.predictions, dataset,
                                              compute_bf=not args.no_bf)
    else:
        from segnet_core.commands.predict import load_predictor
        from segnet_core.progress import ProgressBar

        predictor = load_predictor(args)
        dataset = open_dataset(args.data, split=args.split)
        bar = ProgressBar(len(dataset), "evaluate")
        scores, images = evaluate_model(predictor, dataset, compute_bf=not args.no_bf,
                                        progress=lambda i, n: bar.update(i))
        bar.close()
    print_scores(scores, dataset.label_set, images, args.json)
    return 0
