"""Scoring segmentations: global accuracy (G), class accuracy (C), mean IoU and boundary F1
(BF), the one evaluation loop that produces them, and their reports.

Conventions:

* Label maps hold class indices 0..K-1; the label set's void index (CamVid: 11) marks pixels
  without ground truth. Ground-truth void pixels are dropped before anything is counted, so the
  prediction there is never judged. A prediction must hold class indices only (a model never
  predicts void); any other value raises ValueError, as does a ground-truth value that is
  neither a class nor void.
* One confusion matrix is built over the whole evaluated set: rows are ground truth, columns
  are prediction. From it:

  - G = trace / total.
  - per-class accuracy(c) = TP / row sum. It is undefined (nan) for a class that never occurs in
    the ground truth, even if it is predicted somewhere; C is the mean over the classes that
    occur in the ground truth.
  - IoU(c) = TP / (TP + FP + FN). A class predicted somewhere but absent from the ground truth
    has IoU 0 and counts in mIoU (its false positives are real mistakes). A class absent from
    both ground truth and prediction in the whole set has IoU nan, is left out of the means and
    is reported as absent (`Scores.present` is False).
  - With nothing counted at all (empty set, or only void) G, C and mIoU are nan.

* Boundary F1 (Csurka et al., BMVC 2013), per image, see `boundary_f1_image`. BF over a set is
  the mean of the image scores; the per-class BF is the mean of that class's F1 over the images
  whose ground truth contains the class.

Modules: `checks` (label maps before scoring), `confusion` (confusion matrix, `Scores`),
`boundary` (BF), `evaluator` (both over a set of images), `loop` (`evaluate`: a model over
(image, mask) samples; `evaluate_model`, `evaluate_predictions`), `report` (JSON, table).
"""

from segnet_core.evaluation.boundary import BF_TOLERANCE, boundary_f1_image, boundary_map
from segnet_core.evaluation.confusion import ConfusionMatrix, Scores, scores_from_confusion
from segnet_core.evaluation.evaluator import SegmentationEvaluator
from segnet_core.evaluation.loop import evaluate, evaluate_model, evaluate_predictions
from segnet_core.evaluation.report import format_scores_table, scores_to_json

__all__ = [
    "BF_TOLERANCE", "ConfusionMatrix", "Scores", "SegmentationEvaluator", "boundary_f1_image",
    "boundary_map", "evaluate", "evaluate_model", "evaluate_predictions", "format_scores_table",
    "scores_from_confusion", "scores_to_json",
]
