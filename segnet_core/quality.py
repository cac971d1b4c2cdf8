"""How right is each frame, and which one to correct next.

A frame's estimated pixel accuracy comes from the model's own confidence: the share of its
pixels whose top class probability is at least `threshold`, mapped to an accuracy by a line
fitted on frames of a drive the model was not trained on (`fit_calibration`) and stored with
the model. Without a stored fit the plain mean confidence is the estimate (the baseline).

`priorities` orders frames for correcting: the expected error of a frame, discounted when a
corrected (or already suggested) frame is close by in the video, since neighbouring frames
of one stretch teach less than frames spread over it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

CONFIDENT_SHARE = "confident_share"
MEAN_CONFIDENCE = "mean_confidence"
FEATURES = (CONFIDENT_SHARE, MEAN_CONFIDENCE)


@dataclass(frozen=True)
class AccuracyCalibration:
    """estimated accuracy = clip(slope * feature + intercept, 0, 1)."""

    feature: str = MEAN_CONFIDENCE
    threshold: float = 0.5  # for CONFIDENT_SHARE: the probability a pixel must reach
    slope: float = 1.0
    intercept: float = 0.0
    fitted_on: str = ""  # what the line was fitted on ("" = not fitted: the baseline)

    def __post_init__(self) -> None:
        if self.feature not in FEATURES:
            raise ValueError(f"unknown feature {self.feature!r}; known: {', '.join(FEATURES)}")

    def feature_of(self, confidence: np.ndarray) -> float:
        """The frame's feature from its HxW top-probability map."""
        if self.feature == CONFIDENT_SHARE:
            return float(np.count_nonzero(confidence >= self.threshold)) / max(1, confidence.size)
        return float(np.mean(confidence, dtype=np.float64))

    def estimate(self, confidence: np.ndarray) -> float:
        """Estimated pixel accuracy (0..1) of a frame from its top-probability map."""
        return self.estimate_from_feature(self.feature_of(confidence))

    def estimate_from_feature(self, value: float) -> float:
        return float(np.clip(self.slope * value + self.intercept, 0.0, 1.0))

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
                                    calibration.threshold])):
                return cls()
            return calibration
        except (TypeError, ValueError):
            return cls()


def pixel_accuracy(labels: np.ndarray, truth: np.ndarray, void_index: int) -> float:
    """Share of the non-void pixels of `truth` that `labels` gets right (NaN when all void)."""
    valid = truth != void_index
    count = int(np.count_nonzero(valid))
    return float(np.count_nonzero(labels[valid] == truth[valid])) / count if count else float("nan")


def fit_calibration(features: Sequence[float], accuracies: Sequence[float], *,
                    feature: str, threshold: float = 0.5, fitted_on: str) -> AccuracyCalibration:
    """Least-squares line from feature to accuracy (at least two distinct feature values)."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(accuracies, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError("a calibration needs at least two frames with different features")
    slope, intercept = np.polyfit(x, y, 1)
    return AccuracyCalibration(feature=feature, threshold=threshold, slope=float(slope),
                               intercept=float(intercept), fitted_on=fitted_on)


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


def priorities(estimated_accuracy: Sequence[float], *, positions: Sequence[float] | None = None,
               corrected: Sequence[int] = (), reach: float | None = None) -> list[int]:
    """Each frame's priority, 1 = correct this first (corrected frames come last).

    Frames are picked greedily: each pick maximises expected error (1 - estimated accuracy)
    times a coverage factor min(1, distance to the nearest corrected or picked frame / reach),
    where distance is in `positions` (frame numbers; default 0, 1, 2, ...) and `reach`
    defaults to the spacing of the frames spread evenly over the whole sequence in as many
    picks as there are uncorrected frames / 10 (at least 1): ten neighbours of one slow
    stretch then score below ten frames spread over the video.
    """
    error = 1.0 - np.nan_to_num(np.asarray(estimated_accuracy, dtype=np.float64), nan=0.0)
    n = len(error)
    pos = np.arange(n, dtype=np.float64) if positions is None else np.asarray(positions, float)
    if len(pos) != n:
        raise ValueError(f"{len(pos)} positions for {n} frames")
    corrected = sorted(set(int(i) for i in corrected))
    done = np.zeros(n, dtype=bool)
    done[corrected] = True
    todo = int(n - done.sum())
    if reach is None:
        span = float(pos.max() - pos.min()) if n else 0.0
        reach = max(span / max(1, todo // 10 + 1), 1e-9)
    nearest = np.full(n, np.inf)
    for index in corrected:
        nearest = np.minimum(nearest, np.abs(pos - pos[index]))
    priority = [0] * n
    for rank in range(1, todo + 1):
        coverage = np.minimum(1.0, nearest / reach)
        score = np.where(done, -np.inf, error * coverage + 1e-9 * error)
        pick = int(np.argmax(score))
        priority[pick] = rank
        done[pick] = True
        nearest = np.minimum(nearest, np.abs(pos - pos[pick]))
    for rank, index in enumerate(corrected, start=todo + 1):
        priority[index] = rank
    return priority
