"""Scoring a set of images: `evaluate` runs a model over (image, mask) samples, the one
loop that the `evaluate` command, training's validation and fine-tuning's held-out scores
share; `evaluate_predictions` scores a folder of predicted masks instead."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from segnet_core.errors import DataError, SegNetError
from segnet_core.evaluation.confusion import Scores
from segnet_core.evaluation.evaluator import SegmentationEvaluator
from segnet_core.events import CancelToken, CountProgress
from segnet_core.io.images import IMAGE_EXTENSIONS
from segnet_core.io.masks import read_mask
from segnet_core.labels import LabelSet


def evaluate(predictor, samples: Iterable[tuple[np.ndarray, np.ndarray]],
             label_set: LabelSet, *, compute_bf: bool = True, total: int | None = None,
             progress: CountProgress | None = None,
             cancel: CancelToken | None = None) -> SegmentationEvaluator:
    """Segment each (HxWx3 uint8 RGB image, HxW mask) sample with `predictor` (a
    `Predictor`: batched, labels at the image's size) and score its labels against the mask
    over `label_set`'s classes; returns the evaluator (`.result()`, `.images`,
    `.confusion`).

    Samples are pulled lazily. `progress(i, total)` is called after each image, i counted
    from 1 (`total` defaults to `len(samples)` where there is one). When `cancel` is
    cancelled the images scored so far are kept. A prediction or mask that is not a class
    map of `label_set` raises ValueError.
    """
    if total is None and hasattr(samples, "__len__"):
        total = len(samples)  # type: ignore[arg-type]
    evaluator = SegmentationEvaluator(label_set.num_classes, label_set.void_index,
                                      compute_bf=compute_bf)
    keyed = ((mask, image) for image, mask in samples)
    for done, (target, prediction) in enumerate(predictor.predict_iter(keyed, cancel),
                                                start=1):
        evaluator.update(prediction.labels, target)
        if progress is not None:
            progress(done, total or done)
    return evaluator


def evaluate_model(predictor, dataset, compute_bf: bool = True,
                   progress: CountProgress | None = None,
                   cancel: CancelToken | None = None) -> tuple[Scores, int]:
    """Segment every image of `dataset` with `predictor` and score the labels; returns
    (Scores, images evaluated).

    The predictor resizes each image to its input size and its labels back to the image's
    size (nearest). SegNetError naming both counts when the model's classes are not the data
    set's; DataError naming the mask when a mask's size differs from its image's.
    `progress(i, n)` is called after each image, i counted from 1. When `cancel` is
    cancelled the images scored so far are returned.
    """
    label_set = dataset.label_set
    model_classes = predictor.label_set.num_classes
    if model_classes != label_set.num_classes:
        raise SegNetError(f"the model predicts {model_classes} classes but the data set "
                          f"{dataset.source} has {label_set.num_classes}; evaluate it on a "
                          f"data set with the model's classes")
    samples = (dataset[i] for i in range(len(dataset)))
    evaluator = evaluate(predictor, samples, label_set, compute_bf=compute_bf,
                         total=len(dataset), progress=progress, cancel=cancel)
    return evaluator.result(), evaluator.images


def _prediction_files(pred_dir: Path) -> dict[str, list[Path]]:
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


def evaluate_predictions(pred_dir: str | Path, dataset, compute_bf: bool = True,
                         progress: CountProgress | None = None) -> tuple[Scores, int]:
    """Score the masks in `pred_dir` against `dataset`; returns (Scores, images evaluated).

    Masks are matched to the data set's samples by file stem (the image's stem, else the
    ground-truth mask's) and read like ground-truth masks (palette, single-channel index or
    colour-coded through the label set). Every sample needs a prediction: DataError naming
    the image and the folder when one is missing, naming the prediction file and both sizes
    when its size differs from the ground truth's, and naming it when it holds a value that
    is not a class. `progress(i, n)` is called after each image, i counted from 1.
    """
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
