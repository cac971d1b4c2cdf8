"""How right is each frame, and which one to correct next.

A frame's estimated pixel accuracy comes from the model's own confidence (its mean top class
probability, or the share of its pixels whose top probability is at least `threshold`, or the
mean times the frame's scale agreement: how many of its labels hold when the model sees the
frame a little smaller and larger, `segnet_core.inference.agreement`) and,
optionally, from what the frame shows: the share of its pixels given each class (a frame of
road and sky is easier than one of poles, signs and fences). A linear model of these, fitted
on frames of a drive the model was not trained on (`fit_calibration`), is stored with the
model. Without a stored fit the plain mean confidence is the estimate (the baseline).

The stored fit's level holds for drives like the one it was fitted on; on a darker or busier
street the model is right less often than the fit expects. Frames the user has corrected (and
the model was not trained on) show the model's real accuracy there: `levelling` moves the
estimates of the other frames by how far off they were, and with three or more of them tilts
them where the estimates spread more or less than the real accuracy does (docs/training.md).

Which frame to correct next, from these estimates: `segnet_core.frame_order`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Sequence

import numpy as np

#: Where a checkpoint's training record keeps its fitted `AccuracyCalibration`.
QUALITY_KEY = "quality"

CONFIDENT_SHARE = "confident_share"
MEAN_CONFIDENCE = "mean_confidence"
#: mean confidence times the frame's scale agreement (`segnet_core.inference.agreement`)
CONFIDENCE_X_AGREEMENT = "confidence_x_scale_agreement"
#: the mean probability of the frame's labels with the loss's class weights undone
#: (`segnet_core.inference.images.unweighted_confidence`), alone and times the scale agreement
UNWEIGHTED_CONFIDENCE = "unweighted_confidence"
UNWEIGHTED_X_AGREEMENT = "unweighted_confidence_x_scale_agreement"
FEATURES = (CONFIDENT_SHARE, MEAN_CONFIDENCE, CONFIDENCE_X_AGREEMENT, UNWEIGHTED_CONFIDENCE,
            UNWEIGHTED_X_AGREEMENT)
#: The training record's class weights (`recorded_class_weights`).
CLASS_WEIGHTS_KEY = "class_weights"


def recorded_class_weights(training: dict[str, Any] | None,
                           num_classes: int | None = None) -> list[float] | None:
    """The class weights a model's training record says its loss used (what
    `unweighted_confidence` undoes): a list of finite numbers >= 0, not all 0, one per class
    when `num_classes` is given; None when the record has none such (a model trained before
    they were recorded, or fine-tuned with classes added since)."""
    weights = (training or {}).get(CLASS_WEIGHTS_KEY) if isinstance(training, dict) else None
    if not isinstance(weights, (list, tuple)) or not weights:
        return None
    try:
        values = [float(w) for w in weights]
    except (TypeError, ValueError):
        return None
    if not all(np.isfinite(values)) or min(values) < 0 or max(values) <= 0:
        return None
    if num_classes is not None and len(values) != int(num_classes):
        return None
    return values


def class_shares(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """The share of the pixels of a label map given each of classes 0..num_classes-1 (void
    and other values count in the total, not in any share)."""
    counts = np.bincount(np.asarray(labels).ravel(), minlength=num_classes)[:num_classes]
    return counts / max(1, np.asarray(labels).size)


@dataclass(frozen=True)
class AccuracyCalibration:
    """estimated accuracy = clip(slope * feature + sum_c class_slopes[c] * share_c + intercept,
    0, 1), where share_c is the share of the frame's pixels labelled class c (no class term
    when `class_slopes` is empty)."""

    feature: str = MEAN_CONFIDENCE
    threshold: float = 0.5  # for CONFIDENT_SHARE: the probability a pixel must reach
    slope: float = 1.0
    intercept: float = 0.0
    fitted_on: str = ""  # what the line was fitted on ("" = not fitted: the baseline)
    class_slopes: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.feature not in FEATURES:
            raise ValueError(f"unknown feature {self.feature!r}; known: {', '.join(FEATURES)}")
        object.__setattr__(self, "class_slopes", tuple(float(v) for v in self.class_slopes))

    def feature_of(self, confidence: np.ndarray, agreement: float | None = None) -> float:
        """The frame's feature from its HxW top-probability map (and its scale agreement,
        when the calibration `uses_scale_agreement`)."""
        return self.feature_from_summary(self.summary_of(confidence), agreement)

    def summary_of_prediction(self, prediction) -> float:
        """All the feature needs of a frame's prediction (a `segnet_core.inference.Prediction`,
        without its scale agreement): `summary_of` its top-probability map, or its
        `unweighted_confidence` when the calibration `uses_unweighted_confidence` (ValueError
        when the prediction has none: a model whose class weights are not recorded)."""
        if self.uses_unweighted_confidence:
            value = getattr(prediction, "unweighted_confidence", None)
            if value is None:
                raise ValueError("this calibration needs the model's class weights, and the "
                                 "model's training record has none for its classes")
            return float(value)
        return self.summary_of(prediction.confidence)

    def summary_of(self, confidence: np.ndarray) -> float:
        """All the feature needs of a frame's HxW top-probability map: its mean, or for
        CONFIDENT_SHARE the share of pixels at or above `threshold` (so an estimate can wait
        for its scale agreement without keeping the map). A calibration that
        `uses_unweighted_confidence` needs more than the map: `summary_of_prediction`."""
        if self.uses_unweighted_confidence:
            raise ValueError("this calibration reads the prediction's unweighted confidence, "
                             "not its top-probability map: summary_of_prediction")
        if self.feature == CONFIDENT_SHARE:
            return float(np.count_nonzero(confidence >= self.threshold)) / max(1, confidence.size)
        return float(np.mean(confidence, dtype=np.float64))

    def feature_from_summary(self, summary: float, agreement: float | None = None) -> float:
        """The frame's feature from `summary_of` its confidence (and its scale agreement,
        when the calibration `uses_scale_agreement`)."""
        if self.uses_scale_agreement:
            if agreement is None:
                raise ValueError("this calibration needs the frame's scale agreement")
            return float(summary) * float(agreement)
        return float(summary)

    @property
    def uses_labels(self) -> bool:
        """Whether `estimate` needs the frame's label map."""
        return bool(self.class_slopes)

    @property
    def uses_scale_agreement(self) -> bool:
        """Whether `estimate` needs the frame's scale agreement (extra model passes:
        `segnet_core.inference.agreement.estimated_accuracy` runs them)."""
        return self.feature in (CONFIDENCE_X_AGREEMENT, UNWEIGHTED_X_AGREEMENT)

    @property
    def uses_unweighted_confidence(self) -> bool:
        """Whether the feature reads the prediction's unweighted confidence (the model's class
        weights undone) rather than its top-probability map."""
        return self.feature in (UNWEIGHTED_CONFIDENCE, UNWEIGHTED_X_AGREEMENT)

    def estimate(self, confidence: np.ndarray, labels: np.ndarray | None = None,
                 agreement: float | None = None) -> float:
        """Estimated pixel accuracy (0..1) of a frame from its top-probability map and, when
        the calibration `uses_labels`, its label map, and when it `uses_scale_agreement`,
        its scale agreement."""
        return self.estimate_from_summary(self.summary_of(confidence), labels, agreement)

    def estimate_from_summary(self, summary: float, labels: np.ndarray | None = None,
                              agreement: float | None = None) -> float:
        """`estimate` from the `summary_of` the frame's top-probability map."""
        shares = None
        if self.uses_labels:
            if labels is None:
                raise ValueError("this calibration needs the frame's labels")
            shares = class_shares(labels, len(self.class_slopes))
        return self.estimate_from_feature(self.feature_from_summary(summary, agreement), shares)

    def estimate_from_feature(self, value: float, shares: np.ndarray | None = None) -> float:
        estimate = self.slope * value + self.intercept
        if self.class_slopes:
            estimate += float(np.dot(self.class_slopes, shares))
        return float(np.clip(estimate, 0.0, 1.0))

    def describe(self) -> str:
        """In words, for the window: what the estimate is and what it was fitted on."""
        feature = {MEAN_CONFIDENCE: "the mean confidence",
                   CONFIDENT_SHARE: f"the share of pixels at least {self.threshold:.2f} sure",
                   CONFIDENCE_X_AGREEMENT: "the mean confidence x scale agreement",
                   UNWEIGHTED_CONFIDENCE: "the mean confidence with the class weights undone",
                   UNWEIGHTED_X_AGREEMENT: "the mean confidence with the class weights undone "
                                           "x scale agreement"}[self.feature]
        if not self.fitted_on:
            return f"{feature} as it is (not calibrated)"
        classes = " and the class shares" if self.class_slopes else ""
        return f"a line of {feature}{classes}, fitted on {self.fitted_on}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "AccuracyCalibration":
        """The stored calibration; the baseline for None or a record this version cannot read."""
        if not isinstance(data, dict):
            return cls()
        try:
            known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
            calibration = cls(**known)
            if not all(np.isfinite([calibration.slope, calibration.intercept,
                                    calibration.threshold, *calibration.class_slopes])):
                return cls()
            return calibration
        except (TypeError, ValueError):
            return cls()


#: How a fine-tuned model's calibration says it is its base's (`carried_over`).
CARRIED_NOTE = " (carried over from the base model)"


def carried_over(calibration: AccuracyCalibration) -> AccuracyCalibration | None:
    """The calibration a model fine-tuned from a base with `calibration` keeps: the
    confidence with the class weights undone (as it is or by a line; the model's own
    probability, nothing fitted to a street), or a fitted line of mean confidence x scale
    agreement (on the held-out CamVid drives that line tracked the
    fine-tuned models' real accuracy better than their own mean confidence:
    `benchmarks/finetune_loop.py`, docs/training.md), nothing else (a fit on class shares
    ranked a street's frames worse after fine-tuning on it: Spearman 0.18 against 0.85)."""
    if not calibration.uses_unweighted_confidence and \
            (not calibration.uses_scale_agreement or not calibration.fitted_on):
        return None
    note = calibration.fitted_on
    return replace(calibration, fitted_on=note if note.endswith(CARRIED_NOTE)
                   else note + CARRIED_NOTE)


def pixel_accuracy(labels: np.ndarray, truth: np.ndarray, void_index: int) -> float:
    """Share of the non-void pixels of `truth` that `labels` gets right (NaN when all void)."""
    valid = truth != void_index
    count = int(np.count_nonzero(valid))
    return float(np.count_nonzero(labels[valid] == truth[valid])) / count if count else float("nan")


#: A corrected frame counts as evidence of the model's accuracy only when at least this share
#: of its pixels is labelled (a mask painted only where the model was wrong says nothing of
#: the rest of the frame).
MIN_LABELLED_SHARE = 0.5
#: ... and at least this many pixels: a 1x1 image corrected moved every other frame's
#: estimate by up to 40 points, one pixel weighing as much as a whole frame (a user's check)
MIN_LABELLED_PIXELS = 1024

#: A corrected mask the model's prediction matches on at least this share of its labelled
#: pixels is most likely that prediction taken as it is (Accept prediction, a touch, Save):
#: the user's labels for training and export, but no evidence of how right the model is
#: (counted, it read as "100 % right" and lifted every estimate; on a drive it has not seen
#: the shipped recipe is 41-87 % right on a frame: `benchmarks/frame_quality.py`, five bases).
AS_PREDICTED_SHARE = 0.995


def is_as_predicted(predicted: np.ndarray, corrected: np.ndarray, void_index: int) -> bool:
    """Whether `corrected` is the prediction `predicted` taken (nearly) as it is."""
    if predicted.shape != corrected.shape or not np.any(corrected != void_index):
        return False
    return not counts_as_correction(pixel_accuracy(predicted, corrected, void_index))


def labelled_accuracy(predicted: np.ndarray, corrected: np.ndarray, void_index: int, *,
                      min_labelled: float = MIN_LABELLED_SHARE) -> float | None:
    """The share of a corrected mask's labelled pixels that the model's prediction got right;
    None when the shapes differ or less than `min_labelled` of the frame (or fewer than
    `MIN_LABELLED_PIXELS` pixels) is labelled. At
    `AS_PREDICTED_SHARE` or more the mask is the prediction taken as it is
    (`counts_as_correction`)."""
    if predicted.shape != corrected.shape or corrected.size == 0:
        return None
    labelled = np.count_nonzero(corrected != void_index)
    if labelled < min_labelled * corrected.size or labelled < MIN_LABELLED_PIXELS:
        return None
    return pixel_accuracy(predicted, corrected, void_index)


def counts_as_correction(accuracy: float) -> bool:
    """Whether a saved mask the prediction got `accuracy` right (`labelled_accuracy`) is
    evidence of how right the model is, not its prediction taken as it is."""
    return accuracy < AS_PREDICTED_SHARE


#: How many frames' worth of trust the stored fit's level keeps against the user's frames
#: (one measured frame moves the estimates a third of the way).
LEVEL_PRIOR_FRAMES = 2.0


def level_offset(estimates: Sequence[float], accuracies: Sequence[float], *,
                 prior_frames: float = LEVEL_PRIOR_FRAMES) -> float:
    """How far to move estimates so they match the real accuracy measured on some frames:
    the mean of (real - estimated) over those frames, shrunk toward 0 as if `prior_frames`
    more frames had matched exactly. 0 with no frames."""
    e = np.asarray(estimates, dtype=np.float64)
    a = np.asarray(accuracies, dtype=np.float64)
    if e.shape != a.shape:
        raise ValueError(f"{e.size} estimates for {a.size} accuracies")
    keep = np.isfinite(e) & np.isfinite(a)
    return float(np.sum(a[keep] - e[keep]) / (np.count_nonzero(keep) + prior_frames)) \
        if keep.any() else 0.0


#: The levelling's tilt stays near 0 as if `TILT_PRIOR_FRAMES` frames `TILT_PRIOR_SPREAD`
#: either side of the measured frames' mean estimate had matched exactly (a drive's frames'
#: estimates spread by 3.3 to 5.8 points, standard deviation, on CamVid's held-out drives);
#: fewer than `TILT_MIN_FRAMES` measured frames give a level only.
TILT_PRIOR_FRAMES = 10.0
TILT_PRIOR_SPREAD = 0.05
TILT_MIN_FRAMES = 3
TILT_RANGE = (-0.5, 1.0)

#: The levelling's local part: what level and tilt leave of a measured frame's miss carries
#: to the frames near it in the sequence, by a Gaussian weight `LOCAL_SPAN` of the sequence's
#: length wide (at least one frame), shrunk toward 0 as if `LOCAL_PRIOR_FRAMES` frames at the
#: same place had matched (a frame beside one measured frame moves by half its miss). Along a
#: drive the model's real accuracy changes slowly (CamVid, a frame a second: neighbours' real
#: accuracy correlates about 0.85) while its confidence misses it, so a correction says most
#: about its neighbours.
LOCAL_SPAN = 0.05
LOCAL_PRIOR_FRAMES = 1.0


@dataclass(frozen=True)
class LevellingPriors:
    """How much the levelling trusts the stored estimate against the user's measured frames
    (the module's constants are the shipped values: the level's, tilt's and local part's
    priors were chosen across three held-out CamVid drives, docs/training.md, "Levelled by
    the user's corrections, retuned"). `benchmarks/frame_quality.py --sweep-levelling`
    measures others."""

    level_frames: float = LEVEL_PRIOR_FRAMES
    tilt_frames: float = TILT_PRIOR_FRAMES
    tilt_spread: float = TILT_PRIOR_SPREAD
    tilt_min_frames: int = TILT_MIN_FRAMES
    local_span: float = LOCAL_SPAN
    local_frames: float = LOCAL_PRIOR_FRAMES

    def __post_init__(self) -> None:
        values = (self.level_frames, self.tilt_frames, self.tilt_spread, self.local_span,
                  self.local_frames)
        if not all(v > 0 for v in values) or self.tilt_min_frames < 2:
            raise ValueError(f"levelling priors must be positive, the tilt from two or more "
                             f"frames: {self}")


@dataclass(frozen=True)
class Levelling:
    """How the user's measured frames move every estimate: by `offset` (`level_offset`), and,
    with enough of them (`LevellingPriors.tilt_min_frames`), by `tilt` times the estimate's
    distance from their mean estimate `centre` (where the model is more or less sure than the
    fit expects, the estimates spread more or less than the real accuracy does). Given the
    measured frames' places in the sequence (`anchors`: each place and the miss that level
    and tilt leave there), a frame's estimate also moves by the misses near its own place
    (`local_miss`). Results stay within 0..1."""

    offset: float = 0.0
    tilt: float = 0.0
    centre: float = 0.0
    frames: int = 0
    anchors: tuple[tuple[float, float], ...] = ()
    width: float = 1.0  # of the local weight, in places of the sequence
    local_prior: float = LOCAL_PRIOR_FRAMES  # frames' worth of trust against the anchors

    def apply(self, estimate: float, position: float | None = None) -> float:
        """The moved estimate of a frame at `position` in the sequence (None: no local part)."""
        moved = self._global(estimate)
        if position is not None:
            moved += self.local_miss(position)
        return float(np.clip(moved, 0.0, 1.0))

    def apply_all(self, estimates: Sequence[float], positions: Sequence[float]) -> np.ndarray:
        """`apply` of many frames at once (their estimates and places, NaN: none): one pass of
        array arithmetic, so a long video is levelled without a Python call per frame."""
        e = np.asarray(estimates, dtype=np.float64)
        moved = self._global(e) + self._local(np.asarray(positions, dtype=np.float64))
        return np.clip(moved, 0.0, 1.0)

    def local_miss(self, position: float) -> float:
        """The anchors' misses weighted by their nearness to `position`, shrunk as if
        `local_prior` frames there had matched; 0 without anchors."""
        return float(self._local(np.asarray([position], dtype=np.float64))[0])

    def _local(self, positions: np.ndarray) -> np.ndarray:
        if not self.anchors:
            return np.zeros(positions.shape)
        places, misses = np.asarray(self.anchors, dtype=np.float64).T
        weights = np.exp(-0.5 * ((positions[:, None] - places[None, :]) / self.width) ** 2)
        weights = np.nan_to_num(weights)  # a frame with no place (NaN): no local part
        return weights @ misses / (weights.sum(axis=1) + self.local_prior)

    def _global(self, estimate: float) -> float:
        return estimate + self.offset + self.tilt * (estimate - self.centre)


def levelling(estimates: Sequence[float], accuracies: Sequence[float], *,
              positions: Sequence[float] | None = None,
              length: float | None = None,
              priors: LevellingPriors = LevellingPriors()) -> Levelling:
    """The `Levelling` that the measured frames (their estimates and real accuracies) give.
    The tilt is the slope of (real - estimated) on the estimate over those frames, shrunk
    toward 0 (`priors`) and kept within `TILT_RANGE`. With `positions` (the measured frames'
    places in the sequence) and `length` (how many places the sequence has) it also has its
    local part. Measured on three held-out CamVid drives with SegNet-Basic-LCN:
    docs/training.md."""
    e = np.asarray(estimates, dtype=np.float64)
    a = np.asarray(accuracies, dtype=np.float64)
    if e.shape != a.shape:
        raise ValueError(f"{e.size} estimates for {a.size} accuracies")
    offset = level_offset(e, a, prior_frames=priors.level_frames)
    keep = np.isfinite(e) & np.isfinite(a)
    if positions is not None:
        if length is None:
            raise ValueError("a levelling with positions needs the sequence's length")
        p = np.asarray(positions, dtype=np.float64)
        if p.shape != e.shape:
            raise ValueError(f"{p.size} positions for {e.size} estimates")
        keep &= np.isfinite(p)
    e, a = e[keep], a[keep]
    result = Levelling(offset=offset, frames=int(e.size), local_prior=priors.local_frames)
    if e.size >= priors.tilt_min_frames:
        centred = e - e.mean()
        missed = (a - e) - (a - e).mean()
        prior = priors.tilt_frames * priors.tilt_spread ** 2
        tilt = float(np.sum(centred * missed)) / (float(np.sum(centred ** 2)) + prior)
        result = replace(result, tilt=float(np.clip(tilt, *TILT_RANGE)), centre=float(e.mean()))
    if positions is not None and e.size:
        left = [real - result.apply(estimate) for estimate, real in zip(e, a)]
        result = replace(result, anchors=tuple(zip(map(float, p[keep]), map(float, left))),
                         width=max(1.0, priors.local_span * float(length)))
    return result


#: The ridge penalty on the slopes of a fit with class shares (chosen on CamVid drive 0006R0
#: by contiguous blocks: 1e-4..1e-1 all gave Spearman 0.81..0.87; see docs/training.md).
RIDGE = 1e-3


def fit_calibration(features: Sequence[float], accuracies: Sequence[float], *,
                    feature: str, threshold: float = 0.5, fitted_on: str,
                    shares: Sequence[Sequence[float]] | None = None,
                    ridge: float = RIDGE) -> AccuracyCalibration:
    """Least-squares fit from each frame's feature (and, given `shares`, its class shares:
    frames x classes) to its accuracy; the slopes of the class fit carry a `ridge` penalty.
    Needs at least two frames with different features."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(accuracies, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    if x[keep].size < 2 or (shares is None and np.ptp(x[keep]) == 0):
        raise ValueError("a calibration needs at least two frames with different features")
    if shares is None:
        slope, intercept = np.polyfit(x[keep], y[keep], 1)
        return AccuracyCalibration(feature=feature, threshold=threshold, slope=float(slope),
                                   intercept=float(intercept), fitted_on=fitted_on)
    s = np.asarray(shares, dtype=np.float64).reshape(len(x), -1)
    design = np.column_stack([x, s, np.ones(len(x))])[keep]
    penalty = ridge * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0  # the intercept is not penalised
    coef = np.linalg.solve(design.T @ design + penalty, design.T @ y[keep])
    return AccuracyCalibration(feature=feature, threshold=threshold, slope=float(coef[0]),
                               intercept=float(coef[-1]), fitted_on=fitted_on,
                               class_slopes=tuple(float(v) for v in coef[1:-1]))


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    def ranks(values: Sequence[float]) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        order = np.argsort(values, kind="stable")
        result = np.empty(len(values))
        result[order] = np.arange(len(values))
        for value in np.unique(values):  # ties share their mean rank
            tied = values == value
            result[tied] = result[tied].mean()
        return result
    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])
