"""Which frames to correct first: every frame of some images, folders or videos gets the
model's estimated pixel accuracy (`segnet_core.quality`, by the model's own calibration)
and a priority (1 = correct this first). `segnet-studio rank` prints them.

Frames whose mask is already in their labels folder count as corrected (unless
`labels/propagated.txt` lists them: propagated labels not accepted yet): they come last;
frames the user flagged (`labels/flagged.txt`, the window's Go > Flag frame to correct first)
come first; the others come in the order Next suggested frame offers them: the frames
planned, a round of ten at a time, to cover the sequence best with the corrected ones, frames
the model is unsure of weighing more (see `frame_order.plan_priorities`). Where the
model was not trained on them, their masks also show how right the model really is on these
inputs, and every estimate moves by that evidence, those near them in the input sequence
more (`quality.levelling`). Frames whose values the model gave before (`kept_estimates`: an
earlier run, or the window) are not segmented again.
"""

from __future__ import annotations

import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from segnet_core.errors import SegNetError
from segnet_core.masks.labels_folder import (AS_PREDICTED, FLAGGED, PROPAGATED, LabelsFolder,
                                             frame_name, mask_name)
from segnet_core.saved_masks import SavedMasks
from segnet_core.frame_order import plan_priorities
from segnet_core.inference.agreement import estimated_accuracy
from segnet_core.kept_estimates import ModelEstimates
from segnet_core.quality import (QUALITY_KEY, AccuracyCalibration, counts_as_correction,
                                 labelled_accuracy, levelling, recorded_class_weights)
from segnet_core.io.inputs import ErrorHandler, iter_inputs


def model_calibration(training: dict[str, Any] | None,
                      num_classes: int | None = None) -> AccuracyCalibration:
    """The calibration stored in a model's training record; the baseline (mean confidence)
    when it holds none, or when it reads the unweighted confidence and the record has no
    class weights (for `num_classes` classes, when given) to undo."""
    calibration = AccuracyCalibration.from_dict((training or {}).get(QUALITY_KEY))
    if calibration.uses_unweighted_confidence and \
            recorded_class_weights(training, num_classes) is None:
        return AccuracyCalibration()
    return calibration


def predictor_calibration(predictor) -> AccuracyCalibration:
    """The calibration stored with a `segnet_core.inference.Predictor`'s model
    (`model_calibration`), the baseline when it reads the unweighted confidence and the
    predictor does not undo class weights."""
    calibration = model_calibration(getattr(predictor, "training", None), predictor.num_classes)
    if calibration.uses_unweighted_confidence and \
            not getattr(predictor, "undoes_class_weights", False):
        return AccuracyCalibration()
    return calibration


def trained_frame_names(training: dict[str, Any] | None) -> frozenset[str]:
    """The names of the frames a fine-tuned model was trained on, in its rounds before too
    (its record's "fine_tune" frames, "train_all", else "train"); empty for other models."""
    fine_tune = (training or {}).get("fine_tune") if isinstance(training, dict) else None
    frames = fine_tune.get("frames") if isinstance(fine_tune, dict) else None
    if not isinstance(frames, dict):
        return frozenset()
    names = frames.get("train_all", frames.get("train"))
    return frozenset(str(n) for n in names) if isinstance(names, list) else frozenset()


def is_trained_on(names: frozenset[str], source: str | Path, frame: int | None) -> bool:
    """Whether a frame is among `trained_frame_names`. A record names a video frame as the
    window's list does, `clip.mp4 · frame 13` (frame number), or, written by
    `segnet-studio finetune` before December 2026, `clip.mp4 [12]` (frame index)."""
    name = Path(source).name
    if frame is None:
        return name in names
    return f"{name} [{frame}]" in names or f"{name} · frame {frame + 1}" in names


@dataclass(frozen=True)
class RankedFrame:
    frame: str  # `frame_name`
    estimated_accuracy: float  # 0..1
    priority: int  # 1 = correct this first
    corrected: bool  # its mask is in the labels folder
    flagged: bool = False  # listed in the labels folder's flagged.txt
    propagated: bool = False  # its mask holds propagated labels not accepted yet
    trained_on: bool = False  # the model was fine-tuned on it: its estimate means little
    as_predicted: bool = False  # its mask is a model's prediction taken as it is: no evidence
    #: how right the model really is by its saved mask (a correction it was not trained on,
    #: as the window's "model 72 % right"); None otherwise
    real_accuracy: float | None = None
    path: str = ""  # the image or video file, absolute (`rank_frames` always gives it)
    index: int | None = None  # the video frame's index, from 0; None for an image
    #: labels were carried to it by a propagation (`propagated_from.txt`), accepted or not:
    #: partly the model's own, no evidence (no `real_accuracy`)
    carried: bool = False

    @property
    def mask(self) -> str:
        """The frame's mask file name in the labels folder beside it."""
        return mask_name(self.path, self.index)

    def as_dict(self) -> dict[str, Any]:
        """What `rank --json` prints for the frame: the issue's three keys, then the marks
        the table shows, so that a script can tell the corrected frames apart, then where
        the frame is (file, index, mask name: no splitting of "clip.mp4 frame 12")."""
        return {"frame": self.frame, "estimated_accuracy": round(self.estimated_accuracy, 4),
                "priority": self.priority, "corrected": self.corrected,
                "flagged": self.flagged, "propagated": self.propagated,
                "trained_on": self.trained_on, "as_predicted": self.as_predicted,
                "carried": self.carried,
                "real_accuracy": (None if self.real_accuracy is None
                                  else round(self.real_accuracy, 4)),
                "path": self.path, "index": self.index, "mask": self.mask}


#: How often `rank_inputs` writes what it estimated to the kept estimates (seconds): a run
#: cancelled or killed keeps all but the last moments' frames
KEEP_EVERY_S = 10.0


@dataclass
class _Seen:
    """A frame as `rank_inputs` met it, in input order: its estimate and, for a frame with
    a saved mask (not propagated), how right the model is by it (None: no evidence)."""
    source: Path
    frame: int | None
    estimate: float
    real: float | None
    has_mask: bool
    propagated: bool


def rank_inputs(paths: Iterable[str | Path], predictor, *,
                calibration: AccuracyCalibration | None = None,
                on_error: ErrorHandler | None = None,
                progress: Callable[[int], None] | None = None, cancel=None,
                warn: Callable[[str], None] | None = None,
                kept: ModelEstimates | None = None) -> list[RankedFrame]:
    """Segment every frame of `paths` (image files, folders, videos: every frame) with
    `predictor` (a `segnet_core.inference.Predictor`) and rank them, in input order.

    `calibration` defaults to the one stored with the predictor's model. Inputs that cannot
    be read go to `on_error(path, error)` and are skipped (raised without it), and so do
    saved masks that cannot be decoded (`warn` without it: their frames are not corrected);
    `progress(done)`
    is called after each frame; `cancel` (a CancelToken) stops early, ranking the frames
    from the first up to the first not done; `warn(text)` hears of what is ranked all the
    same (a flags file that cannot be read). Positions for the coverage are the frames'
    places in the whole input sequence.

    `kept` (this model's values kept between runs and window sessions, of its own
    calibration: no `calibration` with it) gives the frames whose values it holds without
    running the model on them (a corrected frame needs its real accuracy kept too; it
    counts them in `kept.given`), and keeps the others' as they are computed (every
    `KEEP_EVERY_S`, and at the end, cancelled or not). A predictor that prefetches finds the
    kept frames on its prefetch thread, and `progress` is then called from there for them.
    """
    if kept is not None and calibration is not None:
        raise ValueError("kept estimates are of the model's own calibration: pass no other")
    training = getattr(predictor, "training", None)
    if calibration is None:
        calibration = predictor_calibration(predictor)
    trained = trained_frame_names(training)
    label_set = predictor.label_set
    saved = SavedMasks(warn, on_error, label_set)
    seen: dict[int, _Seen] = {}  # by place in the input sequence
    from_kept: set[int] = set()  # the places whose values `kept` gave
    lock = threading.Lock()  # `seen` and `progress`: the prefetch thread adds kept frames
    ended = threading.Event()  # the run ends (done, cancelled, an error): read no more

    def record(place: int, frame: _Seen) -> None:
        with lock:
            seen[place] = frame
            if progress is not None:
                progress(len(seen))

    def marks(item) -> tuple[bool, bool]:  # has a usable mask; its labels are propagated
        has_mask = saved.has_mask(item.source, item.frame, item.image.shape[:2])
        return has_mask, has_mask and saved.is_listed(PROPAGATED, item.source, item.frame)

    def to_predict() -> Iterator[tuple[tuple[int, Any], np.ndarray]]:
        """The frames the model must see, numbered; those whose values are kept are
        recorded here (on the predictor's prefetch thread when it has one)."""
        for place, item in enumerate(iter_inputs(paths, 1, on_error)):
            if ended.is_set() or (cancel is not None and cancel.cancelled):
                return  # not the rest of a long kept stretch: the run is over
            if kept is not None:
                estimate, real = kept.get(item.source, item.frame)
                has_mask, propagated = marks(item)
                needs_real = has_mask and not propagated and \
                    not is_trained_on(trained, item.source, item.frame)
                if estimate is not None and (real is not None or not needs_real or
                                             kept.said_nothing(item.source, item.frame)):
                    from_kept.add(place)
                    record(place, _Seen(item.source, item.frame, estimate,
                                        real if needs_real else None, has_mask, propagated))
                    continue
            yield (place, item), item.image

    keeping = _Keeping(kept, warn)
    try:
        # ended at once too when the run stops by an error or Ctrl+C, before the prefetch
        # thread is waited for: it may be in a long stretch of kept frames
        with closing(predictor.predict_iter(to_predict(), cancel,
                                            on_stop=ended.set)) as predictions:
            try:
                for (place, item), prediction in predictions:
                    estimate = estimated_accuracy(calibration, predictor, item.image,
                                                  prediction)
                    has_mask, propagated = marks(item)
                    real = None if not has_mask or propagated else saved_labelled_accuracy(
                        item.source, item.frame, prediction.labels, label_set, trained)
                    frame = _Seen(item.source, item.frame, estimate, real, has_mask,
                                  propagated)
                    keeping.put(frame)
                    record(place, frame)
            finally:
                ended.set()  # before closing: a prefetch thread stops at its next frame
    finally:
        keeping.save()
    done = next(place for place in range(len(seen) + 1) if place not in seen)
    if kept is not None:
        kept.given = sum(1 for place in from_kept if place < done)
    return _ranked([seen[place] for place in range(done)], saved, trained)


class _Keeping:
    """What `rank_inputs` computes, written to the kept estimates every `KEEP_EVERY_S`; one
    warning when they cannot be written (then no more is tried)."""

    def __init__(self, kept: ModelEstimates | None,
                 warn: Callable[[str], None] | None) -> None:
        self.kept = kept
        self._warn = warn
        self._saved = time.monotonic()

    def put(self, frame: _Seen) -> None:
        if self.kept is None:
            return
        # a mask read that says nothing (mostly void) is kept as such: not read again
        self.kept.put(frame.source, frame.frame, frame.estimate, frame.real,
                      silent=frame.has_mask and not frame.propagated)
        if time.monotonic() - self._saved >= KEEP_EVERY_S:
            self.save()

    def save(self) -> None:
        if self.kept is None:
            return
        self._saved = time.monotonic()
        try:
            self.kept.save()
        except OSError as error:
            if self._warn is not None:
                self._warn(f"cannot keep the estimates for the next run in "
                           f"{self.kept.store.root} ({error.strerror or error}); they will be "
                           f"computed again")
            self.kept = None


def _ranked(frames: list[_Seen], saved: SavedMasks,
            trained: frozenset[str]) -> list[RankedFrame]:
    """The frames met, in input order, ranked: their estimates levelled by the corrected
    frames' evidence, then their priorities (`plan_priorities`)."""
    corrected: list[int] = []
    flagged: list[int] = []
    propagated: set[int] = set()
    carried: set[int] = set()  # frames with a mask labels were carried to (accepted or not)
    fitted: set[int] = set()  # frames the model was trained on
    own: set[int] = set()  # corrected frames whose masks are a model's prediction as it is
    measured: list[tuple[float, float, int]] = []  # corrected: (estimate, real accuracy, place)
    for place, frame in enumerate(frames):
        source, index, real = frame.source, frame.frame, frame.real
        if frame.has_mask and saved.is_carried(source, index):
            carried.add(place)
        if frame.propagated:
            propagated.add(place)  # not evidence until accepted
        elif frame.has_mask:
            corrected.append(place)
            # saved as a model's prediction (this one's, or listed: any model's): no evidence
            if saved.is_listed(AS_PREDICTED, source, index) or \
                    (real is not None and not counts_as_correction(real)):
                own.add(place)
            elif place in carried:
                pass  # partly the model's own labels: no evidence
            elif real is not None:
                measured.append((frame.estimate, real, place))
        if saved.is_listed(FLAGGED, source, index):
            flagged.append(place)
        if is_trained_on(trained, source, index):
            fitted.add(place)
    estimates = [frame.estimate for frame in frames]
    if measured:
        found, real, places = zip(*measured)
        level = levelling(found, real, positions=places, length=len(frames))
        estimates = list(level.apply_all(estimates, np.arange(len(estimates))))
    order = plan_priorities(estimates, corrected=corrected, flagged=flagged)
    real_by_place = {place: real for _estimate, real, place in measured}
    done, marked = set(corrected), set(flagged)
    return [RankedFrame(frame_name(frame.source, frame.frame), float(estimate), int(rank),
                        place in done, place in marked, place in propagated,
                        place in fitted, place in own, real_by_place.get(place),
                        str(Path(frame.source).resolve()), frame.frame,
                        carried=place in carried)
            for place, (frame, estimate, rank) in enumerate(zip(frames, estimates, order))]


def saved_labelled_accuracy(source: str | Path, frame: int | None, predicted: np.ndarray,
                            label_set, trained: frozenset[str] = frozenset()) -> float | None:
    """How right the prediction `predicted` of a frame is by the frame's saved mask
    (`quality.labelled_accuracy`, the prediction taken as it is included); None when there
    is no mask, it cannot be read in `label_set`, it is mostly void, or the model was
    trained on the frame (`trained`)."""
    if is_trained_on(trained, source, frame):
        return None
    try:
        mask = LabelsFolder.beside(source).read(mask_name(source, frame), label_set)
    except (SegNetError, OSError):
        return None  # the frame is ranked all the same; its mask is not evidence
    if mask is None:
        return None
    return labelled_accuracy(predicted, mask, label_set.void_index)


def ranking_table(frames: list[RankedFrame]) -> str:
    """A text table of `frames` in the order given: priority, estimated accuracy, frame."""
    width = max([len(str(len(frames)))] + [len("priority")])
    lines = [f"{'priority':>{width}}  accuracy  frame"]
    for frame in frames:
        corrected = "corrected" if frame.real_accuracy is None else \
            f"corrected: model {100 * frame.real_accuracy:.0f} % right"
        mark = "".join(f"  ({what})" for what, on in (
            (corrected, frame.corrected), ("propagated, not accepted", frame.propagated),
            ("flagged", frame.flagged), ("trained on", frame.trained_on),
            ("as predicted", frame.as_predicted),
            ("carried by propagation: no evidence", frame.carried and frame.corrected)) if on)
        accuracy = f"{100 * frame.estimated_accuracy:.1f} %"
        lines.append(f"{frame.priority:>{width}}  {accuracy:>8}  {frame.frame}{mark}")
    return "\n".join(lines)


def by_priority(frames: list[RankedFrame]) -> list[RankedFrame]:
    return sorted(frames, key=lambda frame: frame.priority)


__all__ = ["QUALITY_KEY", "RankedFrame", "SavedMasks", "by_priority", "frame_name",
           "is_trained_on", "model_calibration", "predictor_calibration", "rank_inputs",
           "ranking_table",
           "saved_labelled_accuracy", "trained_frame_names"]
