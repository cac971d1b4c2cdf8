"""The estimated accuracy of every segmented frame.

Estimates come from the inference worker (`estimated(key, value)`, computed on its thread
from the prediction's confidence map, and with the shipped model from the frame's scale
agreement too, by the loaded model's calibration; a frame a video plays past may come without
one, and is asked for again when shown at rest, `app.navigation`). Each shows as a
note in the frame list ("est. 87 %"), as a colour in the strip along the video timeline
(warm = low), and orders the list when View > Sort frames by estimated accuracy is on.
A new model (a fine-tune round's, or File > Load model) makes them stale: they are dropped
and come back as the frames are segmented again (a fine-tune round segments them all).

Frames the user has corrected and saved, that the loaded model was not trained on, show how
right the model really is on these streets: the share of the saved mask its prediction got
right (measured by the inference worker from the mask file the first time it segments the
frame with this model, and here from the labels in memory when the user saves). Every
estimate moves by how far off the estimates of those frames were, with three or more of
them tilts where they spread more or less than the real accuracy, and frames near a
corrected one within the same video or folder (a video's neighbouring frames, an image
sequence's; `FrameList.place_of`) also move by what is left of its miss
(`segnet_core.quality.levelling`); a new model starts again from its own fit. A mask that
another program (or an import) writes, changes or deletes is measured from the file again
off the GUI thread, for a frame segmented already, or stops counting. Propagated labels
the user has not accepted are no evidence (where the flow was not trusted they are the
model's own prediction) until accepted, nor are frames carried to by a propagation once
accepted: their labels are partly the model's prediction still (`carried`).

Go > Next suggested frame is `app.quality.suggest`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, KeysView

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from segnet_core.kept_estimates import EstimateStore
from segnet_core.quality import (AccuracyCalibration, Levelling, counts_as_correction,
                                 labelled_accuracy, levelling)
from segnet_core.ranking import is_trained_on, saved_labelled_accuracy

from app.context import FeatureContext
from app.document import FrameDocument
from app.frames import LABELLED, FrameRef
from app.menus import Place
from app.quality.colors import strip_image, strip_tip
from app.quality.kept import KeptEstimates, estimates_folder
from app.widgets.frame_list import FrameListView
from app.widgets.timeline import Timeline
from app.workers.inference import ModelInfo
from app.workers.serial_executor import SerialExecutor

NOTE = "quality"  # this feature's note in the frame list


def estimate_note(value: float) -> str:
    return f"est. {100 * value:.0f} %"


def measured_note(value: float) -> str:
    """A corrected frame's note: how right the model really was there."""
    return f"model {100 * value:.0f} % right"


#: After the estimate of a frame whose saved mask is the model's prediction taken as it is
#: (`quality.counts_as_correction`): corrected, but no evidence of how right the model is.
AS_PREDICTED_NOTE = "as predicted"

#: The note of a frame the model in use was trained on: how right it is there says nothing.
TRAINED_NOTE = "trained on"
#: how long closing waits for a mask being read to measure it (a PNG: only a hung disk is
#: slower)
MEASURE_WAIT_S = 10.0


class QualityController(QObject):
    """Emits `estimatesChanged()` after estimates arrive or are dropped."""

    estimatesChanged = Signal()
    _fileMeasured = Signal(object)  # from the measuring thread: (ref, model number, Future)

    def __init__(self, context: FeatureContext, frame_view: FrameListView,
                 timeline: Timeline, model_ready, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.frame_view = frame_view
        self.timeline = timeline
        context.frames_model.reserve_note(NOTE)  # its place in the list's rows
        self.calibration = AccuracyCalibration()
        self.trained_on: frozenset[str] = frozenset()  # the loaded model's training frames
        #: whether a frame holds propagated labels the user has not accepted (the window sets
        #: `PropagatedMarks.is_marked`): part of them is the model's own prediction (filled in
        #: where the flow is not trusted), so they are no evidence of how right the model is
        self.unreviewed: Callable[[FrameRef], bool] = lambda _ref: False
        #: whether labels were carried to a frame by a propagation, accepted or not (the
        #: window sets `PropagationController.is_carried`): where the flow was not trusted
        #: they are the model's prediction (a user's check: 98 % "right" on a frame the
        #: model got 75 % right), so they are no evidence either
        self.carried: Callable[[FrameRef], bool] = lambda _ref: False
        #: whether a frame's saved mask was a model's prediction taken as it is when it was
        #: saved (the window sets `AsPredictedList.is_listed`): no evidence, whatever the
        #: model in use now predicts there
        self.saved_as_predicted: Callable[[FrameRef], bool] = lambda _ref: False
        self.estimates: dict[FrameRef, float] = {}  # as shown: moved by `level`
        self._raw: dict[FrameRef, float] = {}  # as the model's calibration gives them
        self._measured: dict[FrameRef, float] = {}  # real accuracy on saved corrections
        #: every real accuracy measured, evidence or not (as predicted, carried): kept
        self._reals: dict[FrameRef, float] = {}
        self._as_predicted: set[FrameRef] = set()  # saved masks that are the prediction
        #: corrected frames measured but not taken as evidence because labels were carried to
        #: them (`carried`): measured again should a hand edit of the links free them
        self._carried_measures: set[FrameRef] = set()
        self.level = Levelling()
        # re-levels once after the signals now queued (a batch's frames); a timer of ours, so
        # it goes with us (a bare singleShot could fire after the window's widgets are gone)
        self._relevel_timer = QTimer(self)
        self._relevel_timer.setSingleShot(True)
        self._relevel_timer.setInterval(0)
        self._relevel_timer.timeout.connect(self._relevel)
        self._videos: dict[Path, np.ndarray] = {}  # a video's estimates by frame, NaN: none
        self._strip_video: Path | None = None  # the video whose strip the timeline shows
        self.sort_action = context.host.action(
            "Sort frames by estimated &accuracy", checkable=True,
            tip="List the frames still to correct from the lowest estimated accuracy up, then "
                "the corrected ones, then those without an estimate (not segmented yet)")
        context.menus.add(Place.VIEW_FRAMES, self.sort_action)
        self.sort_action.toggled.connect(self.set_sorted)
        self.sort_action.setChecked(context.settings.sort_by_estimate)  # as last time
        context.inference.estimated.connect(self._on_estimated)
        context.inference.measured.connect(self._on_measured)
        context.labels.stateChanged.connect(self.labels_changed)
        context.display.documentShown.connect(self._on_document)
        model_ready.connect(self._on_model_ready)
        self._model_number = 0  # which loaded model the measurements from files are for
        self._model_info: ModelInfo | None = None  # the model the estimates are of
        self._measurer = SerialExecutor("measure")
        self._fileMeasured.connect(self._on_file_measured)
        # estimates kept between sessions (`app.quality.kept`)
        folder = estimates_folder()
        self.kept = KeptEstimates(
            None if folder is None else EstimateStore(folder),
            lambda: (dict(self._raw), dict(self._reals)),
            context.problems.add, self)
        self.kept.restored.connect(self._on_restored)

    # ------------------------------------------------------------ estimates

    def estimate(self, ref: FrameRef) -> float | None:
        return self.estimates.get(ref)

    def estimated_frames(self) -> tuple[ModelInfo | None, KeysView[FrameRef]]:
        """The model the estimates held are of (None before one is ready) and the frames that
        have one (computed, or kept): a live view, not a copy (asked for as a video plays)."""
        return self._model_info, self._raw.keys()

    def video_estimates(self, path: Path) -> np.ndarray | None:
        """The estimates of an open video's frames by index (NaN where none); None when it
        has none."""
        return self._videos.get(Path(path))

    @property
    def offset(self) -> float:
        """How far the corrected frames moved the estimates at their mean estimate."""
        return self.level.offset

    @property
    def model_number(self) -> int:
        """Which model loaded this is (1, 2, ...): it changes when the estimates start over."""
        return self._model_number

    @property
    def measured_frames(self) -> int:
        """How many corrected frames the estimates are levelled by."""
        return len(self._measured.keys() & self._raw.keys())

    def _on_estimated(self, key, value: float) -> None:
        if not isinstance(key, FrameRef) or self.context.frames.row_of(key) is None:
            return
        self._raw[key] = float(value)
        self.kept.changed(key)
        self._show_estimate(key)
        if key in self._measured:
            self._relevel_soon()
        self.estimatesChanged.emit()

    def _on_measured(self, key, real: float) -> None:
        """The worker read a segmented frame's saved mask: the model's real accuracy there."""
        if isinstance(key, FrameRef) and not self.unreviewed(key):
            self._take_measure(key, real)

    def _take_measure(self, ref: FrameRef, real: float | None) -> None:
        """How right the model is by a frame's saved mask (`quality.labelled_accuracy`; None:
        no evidence): evidence, or the prediction saved as it is, which is none, as are
        labels carried to the frame by a propagation (`carried`)."""
        if self._reals.get(ref) != real:  # kept for the next session (`app.quality.kept`)
            if real is None:
                self._reals.pop(ref, None)
            else:
                self._reals[ref] = float(real)
            self.kept.changed(ref)
        as_predicted = real is not None and (not counts_as_correction(real)
                                             or self.saved_as_predicted(ref))
        if as_predicted != (ref in self._as_predicted):
            if as_predicted:
                self._as_predicted.add(ref)
            else:
                self._as_predicted.discard(ref)
            if ref in self._raw:
                self._show_estimate(ref)
        carried = real is not None and self.carried(ref)
        if carried:
            self._carried_measures.add(ref)
        else:
            self._carried_measures.discard(ref)
        if as_predicted or real is None or carried:
            if self._measured.pop(ref, None) is not None:
                self._relevel_soon()
        elif self._measured.get(ref) != real:
            self._measured[ref] = float(real)
            self._relevel_soon()

    def labels_changed(self, ref) -> None:
        """A frame's labels were saved (measure them against the cached prediction), or its
        mask is gone, is to go (every edit undone since it was saved) or holds propagated
        labels not accepted yet (no evidence, or not yet); the window calls it too when a
        frame's propagated labels are accepted."""
        labels = self.context.labels.get(ref)
        if labels is None:
            return
        # saving removes its mask, or its labels are propagated ones not accepted (again: an
        # accept undone): evidence of nothing now, saved or not
        if labels.undone_to_nothing or self.unreviewed(ref):
            self._take_measure(ref, None)
            return
        if labels.dirty:
            return
        if not labels.from_file:
            self._take_measure(ref, None)
            return
        prediction = self.context.cache.get(ref)
        if prediction is None or is_trained_on(self.trained_on, ref.path, ref.index):
            return
        self._take_measure(ref, labelled_accuracy(prediction.labels, labels.mask,
                                                  self.context.display.label_set.void_index))

    def links_changed(self) -> None:
        """Which frames labels were carried to changed (a propagation noted its frames, an
        accept during it, a hand edit of `propagated_from.txt`): those measured stop counting
        at once; those no longer carried to are measured again from their files."""
        for ref in [ref for ref in self._measured if self.carried(ref)]:
            self._take_measure(ref, None)
            self._carried_measures.add(ref)
        for ref in [ref for ref in self._carried_measures if not self.carried(ref)]:
            self._carried_measures.discard(ref)
            self.mask_changed(ref)

    def mask_changed(self, ref: FrameRef) -> None:
        """A frame's mask file appeared, changed or went behind our back (another program,
        an import): no evidence any more, until it is measured from the file again (off this
        thread: an import may bring hundreds), when the frame is segmented and the model was
        not trained on it."""
        self._take_measure(ref, None)
        if ref in self._raw:  # its note: listed as predicted or not now
            self._show_estimate(ref, strip=False)
        prediction = self.context.cache.get(ref)
        if prediction is None or self.unreviewed(ref):
            return
        future = self._measurer.submit(saved_labelled_accuracy, ref.path, ref.index,
                                       prediction.labels, self.context.display.label_set,
                                       self.trained_on)
        number = self._model_number
        future.add_done_callback(lambda done: self._fileMeasured.emit((ref, number, done)))

    def shutdown(self) -> None:
        """Finish the measurements under way (a PNG each; those a hung disk holds past
        `MEASURE_WAIT_S` are left behind, not the window's close), and keep the estimates."""
        self._measurer.shutdown(MEASURE_WAIT_S)
        self.kept.shutdown()

    def frames_opened(self) -> None:
        """Frames opened: say which the model was trained on, and read what is kept of them."""
        self.note_trained_frames()
        self.kept.load(self.context.frames)

    def _on_restored(self, estimates: dict[FrameRef, float],
                     measured: dict[FrameRef, float]) -> None:
        """What a previous session (or this one, under this model before) kept: taken where
        nothing newer is held, levelled as any estimate."""
        frames = self.context.frames
        new = [ref for ref in estimates if ref not in self._raw and frames.row_of(ref)
               is not None]
        for ref in new:
            self._raw[ref] = estimates[ref]
        for ref, real in measured.items():
            labels = self.context.labels.get(ref)
            if ref in self._reals or frames.row_of(ref) is None or self.unreviewed(ref) or \
                    self.trained(ref) or (labels is not None and labels.dirty):
                continue
            self._reals[ref] = real  # as kept: nothing to write again
            self._take_measure(ref, real)
        if new:
            self._relevel_soon()  # once for the sources read together

    def _on_file_measured(self, measured: tuple) -> None:
        ref, model_number, future = measured
        real, labels = future.result(), self.context.labels.get(ref)
        if real is None or model_number != self._model_number or self.unreviewed(ref) or \
                (labels is not None and labels.dirty):
            return  # unreadable, of another model, or no evidence (yet)
        self._take_measure(ref, real)

    def _relevel_soon(self) -> None:
        """Re-level once after the signals now queued (a batch's frames) are handled."""
        if not self._relevel_timer.isActive():
            self._relevel_timer.start()

    def _relevel(self) -> None:
        places = self.context.frames.place_of  # the local part stays within one source
        measured = [ref for ref in self._measured
                    if ref in self._raw and places(ref) is not None]
        self.level = levelling([self._raw[ref] for ref in measured],
                               [self._measured[ref] for ref in measured],
                               positions=[places(ref) for ref in measured],
                               length=len(self.context.frames))
        keys = list(self._raw)
        moved = self.level.apply_all([self._raw[key] for key in keys],
                                     [np.nan if places(key) is None else places(key)
                                      for key in keys])
        with self.frame_view.keys_changing():
            for key, value in zip(keys, moved):
                self._show_estimate(key, strip=False, value=float(value))
        self._show_strip(self._strip_video)
        self.estimatesChanged.emit()

    def _show_estimate(self, key: FrameRef, strip: bool = True,
                       value: float | None = None) -> None:
        """Show a frame's estimate: `value` when levelled already, else its levelled raw one."""
        if value is None:
            value = self.level.apply(self._raw[key], self.context.frames.place_of(key))
        self.estimates[key] = value
        real = self._measured.get(key)
        note = estimate_note(value) if real is None else measured_note(real)
        if self._said_as_predicted(key):
            note = f"{note}, {AS_PREDICTED_NOTE}"  # the figure first: the list is narrow
        self.context.frames_model.set_note(
            key, NOTE, TRAINED_NOTE if self.trained(key) else note)
        self.context.frames_model.set_segmented_before(key, True)
        row = self.context.frames.row_of(key)
        if row is not None:  # sorted, placed by the estimate, whatever the note says
            self.frame_view.key_changed(row)
        if key.is_video_frame:
            values = self._videos.get(key.path)
            span = self.context.frames.video_span(key.path)
            if values is None and span is not None:
                values = self._videos[key.path] = np.full(span[1], np.nan)
            if values is not None and key.index < len(values):
                # a frame the model was trained on: no colour (its estimate means little, and
                # high, it would set the strip's blue end over the frames that matter)
                values[key.index] = np.nan if self.trained(key) else value
            if strip and key.path == self._strip_video:
                self._show_strip(key.path)

    def _said_as_predicted(self, ref: FrameRef) -> bool:
        """Whether the frame's saved mask is called a prediction taken as it is: measured so,
        or, not measured (too little of it labelled: `quality.labelled_accuracy`), listed so,
        as `rank` says it (a user's check: `rank` said "as predicted", the list nothing)."""
        return ref in self._as_predicted or (
            ref not in self._measured and self.context.frames.status(ref) in LABELLED
            and self.saved_as_predicted(ref))

    def _on_model_ready(self, info: ModelInfo) -> None:
        self.kept.set_model(info.path)  # the previous model's values saved first
        self._model_info = info
        self._model_number += 1
        self.calibration = info.calibration
        self.trained_on = info.trained_on
        self._measured.clear()
        self._reals.clear()
        self._as_predicted.clear()
        self._carried_measures.clear()
        self.level = Levelling()
        had_estimates = bool(self.estimates or self._raw)
        self.estimates.clear()
        self._raw.clear()
        self._videos.clear()
        self.context.frames_model.clear_notes(NOTE)
        self.context.frames_model.clear_segmented_before()
        self.note_trained_frames()
        if had_estimates:
            self._show_strip(self._strip_video)
            self.estimatesChanged.emit()
        self.kept.load(self.context.frames)

    def note_trained_frames(self) -> None:
        """Note the open frames the model was trained on (segmented or not), as a model
        comes or frames open."""
        if not self.trained_on:
            return
        for ref in self.context.frames:
            if self.trained(ref):
                self.context.frames_model.set_note(ref, NOTE, TRAINED_NOTE)

    def trained(self, ref: FrameRef) -> bool:
        """Whether the model in use was trained on the frame (it gets no estimate there)."""
        return bool(self.trained_on) and is_trained_on(self.trained_on, ref.path, ref.index)

    # ------------------------------------------------------------ list and timeline

    def set_sorted(self, on: bool) -> None:
        if self.sort_action.isChecked() != on:
            self.sort_action.setChecked(on)  # comes back here through `toggled`
            return
        self.frame_view.set_sort_key(self._sort_key if on else None)
        self.context.settings.sort_by_estimate = on

    def _sort_key(self, ref: FrameRef) -> tuple[int, float]:
        """Frames still to correct with an estimate first (propagated labels to review among
        them), then the corrected, then the rest (not segmented, or cannot be read), each
        from the lowest figure shown up: the corrected by how right the model really was
        where that is measured (a user's check: sorted by estimates their notes did not
        show, they looked in no order)."""
        if self.context.frames.status(ref) in LABELLED and not self.unreviewed(ref):
            return 1, self._measured.get(ref, self.estimates.get(ref, 2.0))
        return (0 if ref in self.estimates else 2), self.estimates.get(ref, 2.0)

    def _on_document(self, document: FrameDocument | None) -> None:
        ref = None if document is None else document.key
        path = ref.path if ref is not None and ref.is_video_frame else None
        if path != self._strip_video:
            self._strip_video = path
            self._show_strip(path)

    def _show_strip(self, path: Path | None) -> None:
        values = None if path is None else self._videos.get(path)
        if values is None:
            self.timeline.slider.set_strip(None)
            return
        frames = self.context.frames
        self.timeline.slider.set_strip(strip_image(values), lambda index: strip_tip(
            values, index, frames.unreadable(FrameRef(path, index)),
            self.trained(FrameRef(path, index)), self._labels_said(FrameRef(path, index))))

    def _labels_said(self, ref: FrameRef) -> str:
        """What a frame's labels are, for the strip's tooltip (a user's check: it said only
        the estimate over a frame the list called "model 72 % right")."""
        if self.unreviewed(ref):
            return "propagated labels, not accepted yet"
        if self.context.frames.status(ref) not in LABELLED:
            return ""
        real = self._measured.get(ref)
        if real is not None:
            return f"corrected: {measured_note(real)}"
        if self._said_as_predicted(ref):
            return f"corrected, {AS_PREDICTED_NOTE}"
        return "corrected"
