"""Operations over many frames at once: keep the prediction where it is confident, replace
one class by another. Each frame gets one undo step in its own history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from segnet_core.labels import LabelSet
from segnet_core.masks.edits import keep_confident, replace_class, replace_mask
from segnet_core.inference import Prediction
from segnet_core.quality import is_as_predicted

from app.editing.frame_labels import FrameLabels
from app.editing.store import LabelStore
from app.frames import FrameRef
from app.widgets.bulk_edit_dialog import BulkKind, BulkRequest


@dataclass
class BulkReport:
    changed: list[FrameRef] = field(default_factory=list)
    unchanged: int = 0
    unsegmented: int = 0  # no prediction (keep) or nothing labelled either (replace)
    skipped: int = 0  # not editable (a locked or unreadable frame)

    def summary(self) -> str:
        text = f"Changed {len(self.changed)} frame(s)"
        if self.unchanged:
            text += f", {self.unchanged} unchanged"
        if self.unsegmented:  # the way on, said (a user's check took them for done)
            text += (f", {self.unsegmented} skipped: not segmented yet (Segment all, "
                     "Ctrl+Shift+A, first to include them)")
        if self.skipped:
            text += f", {self.skipped} skipped: not editable"
        return text


def describe(request: BulkRequest, label_set: LabelSet) -> str:
    if request.kind == BulkKind.KEEP:
        return f"Keep prediction above {request.threshold:.2f}"
    return f"Replace {_name(request.a, label_set)} by {_name(request.b, label_set)}"


def _name(index: int, label_set: LabelSet) -> str:
    return label_set.names[index] if index < label_set.num_classes else "void"


def apply_bulk(request: BulkRequest, refs: Iterable[FrameRef], store: LabelStore,
               prediction_of: Callable[[FrameRef], Prediction | None],
               shown: FrameRef | None = None,
               unreadable: Callable[[FrameRef], bool] = lambda _ref: False) -> BulkReport:
    """Apply `request` to each frame of `refs`; frames without what it needs are skipped.
    `shown`: the frame on screen, which the user sees changed (a considered correction);
    `unreadable`: whether a frame is known not to read (skipped as not editable: Segment
    all would not help it)."""
    report = BulkReport()
    text = describe(request, store.label_set)
    for ref in refs:
        prediction = prediction_of(ref)
        labels = store.open_for_edit(ref, None if prediction is None else prediction.labels.shape)
        if labels is None or (prediction is not None and prediction.labels.shape != labels.shape):
            prediction = None
        if labels is None:  # locked, or no size to edit at: no prediction and no mask
            held = store.get(ref)
            if prediction is None and (held is None or not held.locked) and \
                    not unreadable(ref):
                report.unsegmented += 1
            else:
                report.skipped += 1
        elif not _applicable(labels, request, prediction):
            report.unsegmented += 1
        elif _edit(labels, request, prediction, text, store.label_set.void_index,
                   unseen=ref != shown):
            report.changed.append(ref)
        else:
            report.unchanged += 1
    return report


def _applicable(labels: FrameLabels, request: BulkRequest,
                prediction: Prediction | None) -> bool:
    if request.kind == BulkKind.KEEP:
        return prediction is not None
    return labels.started or prediction is not None


def _edit(labels: FrameLabels, request: BulkRequest, prediction: Prediction | None,
          text: str, void: int, unseen: bool) -> bool:
    if request.kind == BulkKind.KEEP:
        return labels.apply(keep_confident(labels.mask, prediction.labels,
                                           prediction.confidence, request.threshold), text)
    shown = labels.mask if labels.started else prediction.labels
    if not (shown == request.a).any():
        return False
    # the model's guess with a class renamed, on a frame nobody may have looked at, is no
    # evidence of how right the model is (a user's check: frames never opened said "model
    # 98 % right" and moved every estimate up): a frame other than the one shown that
    # showed the prediction, or labels (nearly) the model's own (a prediction accepted, a
    # guess renamed before: a review found a second Replace class made it evidence)
    own = labels.latest_guess() if labels.started else None
    models_own = unseen and (not labels.started or any(
        guess is not None and is_as_predicted(guess, labels.mask, void)
        for guess in (own, None if prediction is None else prediction.labels)))
    if not labels.started:  # start from the prediction shown
        labels.paint(replace_mask(labels.mask, prediction.labels))
    labels.paint(replace_class(labels.mask, request.a, request.b))
    if not labels.commit(text):
        return False
    if models_own:
        labels.mark_guess(labels.mask.copy())
    return True
