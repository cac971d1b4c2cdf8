"""Which frames to correct first: every frame of some images, folders or videos gets the
model's estimated pixel accuracy (`segnet_core.quality`, by the model's own calibration)
and a priority (1 = correct this first). `segnet-studio rank` prints them.

Frames whose mask is already in their labels folder count as corrected: they come last, and
frames close to them in the sequence are discounted (see `quality.priorities`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from segnet_core.masks.labels_folder import LabelsFolder, mask_name
from segnet_core.quality import QUALITY_KEY, AccuracyCalibration, priorities
from segnet_core.io.inputs import ErrorHandler, iter_inputs


def model_calibration(training: dict[str, Any] | None) -> AccuracyCalibration:
    """The calibration stored in a model's training record; the baseline (mean confidence)
    when it holds none."""
    return AccuracyCalibration.from_dict((training or {}).get(QUALITY_KEY))


def frame_name(source: str | Path, frame: int | None) -> str:
    """`street.png` for an image file, `clip.mp4 frame 12` for frame 12 of a video (frames
    counted from 0, as in the mask names of the labels folder)."""
    name = Path(source).name
    return name if frame is None else f"{name} frame {frame}"


@dataclass(frozen=True)
class RankedFrame:
    frame: str  # `frame_name`
    estimated_accuracy: float  # 0..1
    priority: int  # 1 = correct this first
    corrected: bool  # its mask is in the labels folder

    def as_dict(self) -> dict[str, Any]:
        """What `rank --json` prints for the frame."""
        return {"frame": self.frame, "estimated_accuracy": round(self.estimated_accuracy, 4),
                "priority": self.priority}


class SavedMasks:
    """Whether a frame has a mask in the labels folder beside it (each folder listed once)."""

    def __init__(self) -> None:
        self._names: dict[Path, set[str]] = {}

    def has_mask(self, source: Path, frame: int | None) -> bool:
        folder = LabelsFolder.beside(source)
        names = self._names.get(folder.root)
        if names is None:
            names = self._names[folder.root] = set(folder.mask_names())
        return mask_name(source, frame) in names


def rank_inputs(paths: Iterable[str | Path], predictor, *,
                calibration: AccuracyCalibration | None = None,
                on_error: ErrorHandler | None = None,
                progress: Callable[[int], None] | None = None, cancel=None) -> list[RankedFrame]:
    """Segment every frame of `paths` (image files, folders, videos: every frame) with
    `predictor` (a `segnet_core.inference.Predictor`) and rank them, in input order.

    `calibration` defaults to the one stored with the predictor's model. Inputs that cannot
    be read go to `on_error(path, error)` and are skipped (raised without it); `progress(done)`
    is called after each frame; `cancel` (a CancelToken) stops early, ranking what was done.
    Positions for the coverage discount are the frames' places in the whole input sequence.
    """
    if calibration is None:
        calibration = model_calibration(getattr(predictor, "training", None))
    saved = SavedMasks()
    names: list[str] = []
    estimates: list[float] = []
    corrected: list[int] = []
    items = ((item, item.image) for item in iter_inputs(paths, 1, on_error))
    for item, prediction in predictor.predict_iter(items, cancel):
        if saved.has_mask(item.source, item.frame):
            corrected.append(len(names))
        names.append(frame_name(item.source, item.frame))
        estimates.append(calibration.estimate(prediction.confidence, prediction.labels))
        if progress is not None:
            progress(len(names))
    order = priorities(estimates, corrected=corrected)
    done = set(corrected)
    return [RankedFrame(name, float(estimate), int(rank), index in done)
            for index, (name, estimate, rank) in enumerate(zip(names, estimates, order))]


def ranking_table(frames: list[RankedFrame]) -> str:
    """A text table of `frames` in the order given: priority, estimated accuracy, frame."""
    width = max([len(str(len(frames)))] + [len("priority")])
    lines = [f"{'priority':>{width}}  accuracy  frame"]
    for frame in frames:
        mark = "  (corrected)" if frame.corrected else ""
        accuracy = f"{100 * frame.estimated_accuracy:.1f} %"
        lines.append(f"{frame.priority:>{width}}  {accuracy:>8}  {frame.frame}{mark}")
    return "\n".join(lines)


def by_priority(frames: list[RankedFrame]) -> list[RankedFrame]:
    return sorted(frames, key=lambda frame: frame.priority)


__all__ = ["QUALITY_KEY", "RankedFrame", "SavedMasks", "by_priority", "frame_name",
           "model_calibration", "rank_inputs", "ranking_table"]
