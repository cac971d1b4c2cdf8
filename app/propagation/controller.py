"""Edit > Propagate labels to the next (or previous) frames: the labels on screen (the frame's
mask, or its prediction when it has none) are carried along its video, or along the image
files of its folder in list order, by dense optical flow in the propagation worker.

Where the flow is not trusted the model's prediction for that frame fills in (the worker
never runs the model): the frames without one at hand are segmented first, as a Segment all
of those alone, or after the Segment all running ends (then the frames it did not reach).
Without a model those pixels are void, and the summary says on how many frames that
happened. Propagation stops before a frame
with labels of its own (corrected, or edited and not propagated). Each propagated frame gets
one undo step in its own history and the note "propagated" in the frame list until the user
accepts it (Edit > Accept propagated labels, or any edit of the frame). A propagated frame
is an unsaved edit like any other (written when left with autosave on, by Save, or on close).
Closing the window cancels a running propagation and waits for it (a frame's worth) before
asking about unsaved frames, so the frames carried so far are among those asked about.
Labels carried from the model's own (the prediction shown, or labels that are a prediction
taken as it is) stay the model's guess: each such step keeps them (`PropagatedMarks.mark`),
and the window lists the frame as predicted when they are saved as carried
(`app.editing.as_predicted`), so that accepting them does not make them evidence of how
right the model is. Every frame carried to is noted in its labels folder's
`propagated_from.txt` with the frame it was carried from (`app.propagation.links`: for good
once its mask is saved with the propagation's step, taken back when it never is): a
fine-tune holds such frames out together or not at all.
Labels carried from a person's correction are the model's prediction too, where the flow
was not trusted (often most of the frame): accepted or not, a frame carried to is no evidence
of how right the model is (`is_carried`; the estimates are not levelled by it, and a
fine-tune does not score a model on it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QInputDialog, QProgressBar, QPushButton

from segnet_core.masks.edits import replace_mask

from app.context import FeatureContext, MessageTime
from app.editing.frame_labels import FrameLabels
from app.frames import LABELLED, FrameList, FrameRef
from app.menus import Place
from app.propagation.links import CarriedLinks
from app.propagation.marks import PropagatedMarks
from app.propagation.worker import PropagationEnd, PropagationJob, PropagationWorker
from app.widgets.canvas_badge import CanvasBadge
from app.widgets.frame_list import TO_REVIEW_COLOR
from app.workers.task import Task
from app.wording import frame_ranges, loading_text, some_names

NOTE = "propagation"  # this feature's note in the frame list
#: what the canvas says over a frame whose propagated labels are not accepted yet
BADGE = "Propagated labels, not accepted yet: Ctrl+Shift+Return accepts them (so does an edit)"
DEFAULT_STEPS = 5
MAX_STEPS = 10000


def sequence_from(frames: FrameList, ref: FrameRef, direction: int, steps: int) -> list[FrameRef]:
    """`ref` and up to `steps` frames after it (`direction` +1) or before it (-1) in its
    sequence: the frames of its video, or the image files of its folder in adjacent rows."""
    row = frames.row_of(ref)
    refs = [ref]
    while row is not None and len(refs) <= steps:
        row += direction
        if not 0 <= row < len(frames):
            break
        other = frames[row]
        same = (other.path == ref.path if ref.is_video_frame else
                not other.is_video_frame and other.path.parent == ref.path.parent)
        if not same:
            break
        refs.append(other)
    return refs


def frame_names(refs: list[FrameRef]) -> str:
    """Frames for a sentence: "frames 11-16" of one video, else the first few names."""
    if refs and all(ref.index is not None and ref.path == refs[0].path for ref in refs):
        return f"frames {frame_ranges([ref.index for ref in refs])}"
    return some_names([ref.name for ref in refs])


@dataclass
class PropagationSummary:
    """What a propagation did, for the status bar and tests."""

    direction: int
    asked: int
    changed: list[FrameRef] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[FrameRef] = field(default_factory=list)  # own labels, locked, being edited
    #: of `changed`, those whose labels an earlier propagation had carried, not accepted
    replaced: list[FrameRef] = field(default_factory=list)
    untrusted: list[float] = field(default_factory=list)  # share of pixels per frame
    void_filled: int = 0  # frames with untrusted pixels and no cached prediction
    #: the labels carried were the model's own (its prediction, taken as it is)
    from_models_own: bool = False
    source: FrameRef | None = None  # the frame they were carried from
    #: changed or unchanged, each with the step it got in its history (None: unchanged)
    carried_to: list[tuple[FrameRef, object]] = field(default_factory=list)
    stopped_by: str = ""  # why fewer frames than asked were propagated
    end: PropagationEnd | None = None

    def text(self) -> str:
        end = self.end
        cancelled = end is not None and end.cancelled
        if self.from_models_own and self.changed:  # first: the status bar cuts the rest
            head = ("Propagation of the model's prediction cancelled" if cancelled else
                    "Propagated the model's prediction")
            head += " (no evidence of how right it is until corrected)"
        else:
            head = "Propagation cancelled" if cancelled else "Propagated"
        where = "next" if self.direction > 0 else "previous"
        text = f"{head}: labels carried to {len(self.changed)} {where} frame(s)"
        if self.untrusted:
            text += f"; flow not trusted on {100 * float(np.mean(self.untrusted)):.1f} % " \
                    "of the pixels"
            if self.void_filled >= len(self.untrusted):
                text += (", left void there: no prediction of these frames was at hand (with "
                         "a model loaded, they are segmented first)")
            elif self.void_filled:
                text += (f", filled by the model's prediction (void on {self.void_filled} "
                         "frame(s) without one at hand)")
            else:
                text += ", filled by the model's prediction"
        if self.replaced:
            text += (f"; on {len(self.replaced)} of them it replaced labels an earlier "
                     f"propagation carried ({frame_names(self.replaced)}; Ctrl+Z there takes "
                     f"them back)")
        if self.unchanged:
            text += f"; {self.unchanged} unchanged"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped (labels of their own, or not editable)"
        if self.stopped_by:
            text += f"; {self.stopped_by}"
        if end is not None and end.error:
            text += f"; stopped: {end.error}"
        if self.changed:
            text += ". Accept each with Ctrl+Shift+Return or by editing it"
        return text


class PropagationController(QObject):
    """Emits `finished(PropagationSummary)` when a propagation ends."""

    finished = Signal(object)
    #: `propagated_from.txt` changed: a propagation noted its frames, or it changed on disk
    #: (`refresh_links`): which frames are carried to (`is_carried`) may have changed
    linksChanged = Signal()

    def __init__(self, context: FeatureContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.marks = PropagatedMarks(context, self)
        context.frames_model.reserve_note(NOTE)  # its place in the list's rows
        #: `labels/propagated_from.txt`: which frame each frame's labels came from, so that
        #: a fine-tune never trains on a frame linked to one it holds out
        self.links = CarriedLinks(context, self)
        self.links.changed.connect(self.linksChanged)
        self.is_carried = self.links.is_carried
        self.carried_from = self.links.carried_from
        self.refresh_links = self.links.refresh
        self.worker = PropagationWorker(self)
        self.steps = DEFAULT_STEPS
        #: asks how many frames (gets the direction); None: cancelled. Replaceable for tests.
        self.ask_steps: Callable[[int], int | None] = self._ask_steps
        #: whether a frame's labels (None: none) are a model's prediction taken as it is
        #: (the window sets `AsPredictedList.models_own`)
        self.models_own: Callable[[FrameRef, FrameLabels | None], bool] = \
            lambda _ref, labels: labels is None or not labels.started
        self._task: Task | None = None
        self._summary: PropagationSummary | None = None
        #: segments frames as a Segment all of those alone, True once started (the window
        #: sets `SegmentationController.segment_frames`; False: no model, or one is busy)
        self.segment_frames: Callable[[list[FrameRef]], bool] = lambda refs: False
        #: whether a Segment all runs (the window sets `SegmentationController`'s
        #: `batch_running`): a propagation needing predictions waits for it to end
        self.segmenting: Callable[[], bool] = lambda: False
        #: the waiting propagation's frames are segmented by its own Segment all (else it
        #: waits behind one the user started, then segments what that one did not reach)
        self._own_batch = False
        #: a propagation waiting for its frames to be segmented first: direction, steps, and
        #: the frame and labels it carries (it starts only if they are still on screen)
        self._after_segmenting: tuple[int, int, FrameRef, np.ndarray] | None = None
        #: the labels of its frames as they are segmented (None: not yet)
        self._segmented: dict[FrameRef, np.ndarray | None] = {}
        context.inference.resultReady.connect(self._on_result)
        self._closed = False
        action = context.host.action
        self.forward_action = action(
            "Propa&gate labels to the next frames...", "Ctrl+Shift+Right",
            tip="Carry this frame's labels to the following frames by optical flow")
        self.back_action = action(
            "Propagate labels to the pre&vious frames...", "Ctrl+Shift+Left",
            tip="Carry this frame's labels to the frames before it by optical flow")
        self.accept_action = action(
            "Accep&t propagated labels", "Ctrl+Shift+Return",
            tip="Take the propagated labels of this frame as reviewed")
        context.menus.add(Place.EDIT_PROPAGATE, self.forward_action, self.back_action,
                          self.accept_action)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setFormat("propagate %v / %m")
        self.cancel_button = QPushButton("Cancel propagation")
        for widget in (self.progress, self.cancel_button):
            context.host.add_status_widget(widget)
            widget.setVisible(False)
        self.forward_action.triggered.connect(lambda: self.ask_and_propagate(1))
        self.back_action.triggered.connect(lambda: self.ask_and_propagate(-1))
        self.accept_action.triggered.connect(self.accept_current)
        self.cancel_button.clicked.connect(self.cancel)
        self.marks.changed.connect(self._show_mark)
        #: on the canvas while the frame shown is marked
        self.badge = CanvasBadge(context.display.canvas, TO_REVIEW_COLOR)
        context.display.documentShown.connect(lambda _document: self._show_badge())
        self.worker.frameReady.connect(self._on_frame)
        self.worker.progress.connect(self._on_progress)
        self.worker.ended.connect(self._on_ended)

    def _show_mark(self, ref: FrameRef, on: bool) -> None:
        """A frame's propagated labels were marked (not accepted yet) or no longer are."""
        self.context.frames_model.set_note(ref, NOTE, "propagated" if on else "")
        self.context.frames_model.set_to_review(ref, on)
        if ref == self.context.display.current_key:
            self._show_badge()

    def _show_badge(self) -> None:
        ref = self.context.display.current_key
        self.badge.say(BADGE if ref is not None and self.marks.is_marked(ref) else "")

    @property
    def running(self) -> bool:
        return self._task is not None

    # ------------------------------------------------------------ starting

    def ask_and_propagate(self, direction: int) -> bool:
        """Ask how many frames, then propagate; said at once, without asking, when not even
        the first frame could take the labels."""
        if self.context.said_nothing_open():
            return False
        planned = self._plan(direction, 1)
        if isinstance(planned, str):
            self._message(planned)
            return False
        steps = self.ask_steps(direction)
        return steps is not None and self.propagate(direction, steps)

    def _ask_steps(self, direction: int) -> int | None:
        """How many frames, at most as many as the labels can reach (a user was offered 5
        previous frames on a video's second frame)."""
        where = "following" if direction > 0 else "previous"
        reach, why = self.reach(direction)
        question = f"Carry this frame's labels to how many {where} frames?"
        if reach < MAX_STEPS:
            question += f"\n(at most {reach}: {why})"
        planned = self._plan(direction, reach)
        waiting = [] if isinstance(planned, str) else \
            [ref for ref in planned[0][1:] if self.marks.is_marked(ref)]
        if waiting:  # a user's check: better carried labels were replaced unwarned
            question += (f"\n{len(waiting)} of them hold labels an earlier propagation "
                         f"carried, not accepted yet (the first: {waiting[0].name}): carried "
                         "to, they are replaced (Ctrl+Z there takes them back)")
        steps, ok = QInputDialog.getInt(self.context.host.widget, "Propagate labels", question,
                                        min(self.steps, reach), 1, max(1, reach))
        return steps if ok else None

    def reach(self, direction: int) -> tuple[int, str]:
        """How many frames the labels shown can be carried to that way (0: none, or nothing
        to carry), and what stops them there ("" when nothing does up to `MAX_STEPS`)."""
        planned = self._plan(direction, MAX_STEPS)
        if isinstance(planned, str):
            return 0, planned
        refs, summary = planned
        return len(refs) - 1, summary.stopped_by or ""

    def propagate(self, direction: int, steps: int,
                  segmented: dict[FrameRef, np.ndarray | None] | None = None,
                  segment_rest: bool = True) -> bool:
        """Carry the labels on screen `steps` frames forward (+1) or back (-1), in the
        worker, once the frames without a prediction at hand (in the cache or `segmented`,
        their labels as segmented meanwhile) are segmented, unless not `segment_rest`; False
        (and a message why) when it does not start."""
        why = self._start(direction, int(steps), segmented or {}, segment_rest)
        if why:
            self._message(why)
        return not why

    def _plan(self, direction: int, steps: int) -> tuple[list, PropagationSummary] | str:
        """The frames the labels shown would go to (the frame shown first) and the summary
        to say at the end; or why they go nowhere."""
        context = self.context
        if self.running:
            return "A propagation is running already"
        if self._after_segmenting is not None:
            return "A propagation is waiting for its frames to be segmented (Esc cancels it)"
        document = context.display.document
        if document is None:
            return ("Nothing to propagate: no frame is shown (View > Problems says why if it "
                    "cannot be read)")
        if document.shown_labels() is None:
            return "Nothing to propagate: this frame has no labels or prediction yet"
        refs = sequence_from(context.frames, document.key, direction, steps)
        summary = PropagationSummary(direction, steps)
        for count, ref in enumerate(refs[1:], start=1):
            why = ("has labels of its own" if self._has_own_labels(ref)
                   else "cannot be read" if context.frames.unreadable(ref) else "")
            if why:
                if count == 1:  # not even one frame: nothing to stop
                    return (f"Cannot propagate: the {'next' if direction > 0 else 'previous'} "
                            f"frame, {ref.name}, {why}")
                refs = refs[:count]
                summary.stopped_by = f"stopped before {ref.name}: it {why}"
                break
        if len(refs) < 2:
            return f"No {'next' if direction > 0 else 'previous'} frame in this sequence"
        if len(refs) - 1 < steps and not summary.stopped_by:
            summary.stopped_by = "the sequence ends there"
        return refs, summary

    def _start(self, direction: int, steps: int, segmented: dict[FrameRef, np.ndarray | None],
               segment_rest: bool) -> str:
        context = self.context
        steps = max(1, steps)
        planned = self._plan(direction, steps)
        if isinstance(planned, str):
            return planned
        refs, summary = planned
        self.steps = steps  # what the next question offers
        document = context.display.document
        source = document.shown_labels()
        # frames with no prediction at hand (not segmented in this session: a frame that
        # says "segmented before" has its estimate kept, not its prediction) are segmented
        # first, else the pixels where the flow is not trusted were left void (a user's
        # check: 8.7 % of three frames after reopening a video, with "segmented before")
        missing = [ref for ref in refs[1:]
                   if context.cache.get(ref) is None and segmented.get(ref) is None]
        # as many as their labels fit the prediction cache's budget, the nearest first
        missing = missing[:max(1, context.cache.max_bytes // max(1, source.nbytes))]
        if missing and segment_rest:
            # segmented by a Segment all of their own, or after the one running (it left
            # them void where the flow was not trusted: the last note's leftover)
            own = self.segment_frames(missing)
            if own or self.segmenting():
                self._wait(direction, steps, document.key, source, own,
                           {**segmented, **dict.fromkeys(missing)})
                return ""
        summary.from_models_own = self.models_own(document.key, document.labels)
        summary.source = document.key
        fallbacks = {}
        for index, ref in enumerate(refs[1:], start=1):
            prediction = context.cache.get(ref)
            labels = (prediction.labels if prediction is not None
                      else segmented.get(ref))
            if labels is not None and labels.shape == source.shape:
                fallbacks[index] = labels
        job = PropagationJob(refs, source.copy(), context.display.label_set.void_index,
                             fallbacks)
        self._summary = summary
        self._task = self.worker.run(job)
        self.progress.setRange(0, job.steps)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        for widget in (self.progress, self.cancel_button):
            widget.setVisible(True)
        for item in (self.forward_action, self.back_action):
            item.setEnabled(False)
        self._message(f"Propagating labels to {job.steps} frame(s)...", MessageTime.UNTIL_REPLACED)
        return ""

    def _wait(self, direction: int, steps: int, key: FrameRef, source: np.ndarray, own: bool,
              segmented: dict[FrameRef, np.ndarray | None]) -> None:
        """Start once the Segment all running ends (`segmenting_done`): this propagation's
        own (`own`), or the user's."""
        self._after_segmenting = (direction, steps, key, source.copy())
        self._own_batch = own
        self._segmented = segmented
        for item in (self.forward_action, self.back_action):
            item.setEnabled(False)
        count = sum(labels is None for labels in segmented.values())
        # the key first: the status bar cuts a long message beside Segment all's progress
        self._message(f"Segmenting {count} frame(s) first (Esc cancels), so that the model's "
                      "prediction fills where the flow is not trusted..." if own else
                      f"Propagating once Segment all ends (Esc cancels both): {count} of the "
                      "frames have no prediction yet, and the model's fills where the flow "
                      "is not trusted...", MessageTime.UNTIL_REPLACED)

    def segmenting_done(self, cancelled: bool, loading: str | None = None) -> None:
        """A Segment all ended (the window connects its `batchFinished`): a propagation
        waiting for its frames starts, if the frame it carries is still shown as it was. One
        cancelled while its frames' estimates were made (their labels all in) starts too; one
        that waited behind the user's Segment all first segments what that did not reach.
        `loading`: the model file whose load stopped the Segment all, if one did."""
        waiting = self._after_segmenting
        if waiting is None or self._closed:
            return
        segmented, own = self._segmented, self._own_batch
        self._drop_waiting()
        direction, steps, key, source = waiting
        document = self.context.display.document
        shown = None if document is None or document.key != key else document.shown_labels()
        all_in = all(labels is not None for labels in segmented.values())
        if cancelled and loading is not None:  # said with the load, not in its place
            self._message(f"{loading_text(loading)} (the propagation waiting for Segment all "
                          "stopped for it: propagate again once the model is in)",
                          MessageTime.UNTIL_REPLACED)
        elif cancelled and not (own and all_in):
            self._message("Propagation not started: segmenting its frames was cancelled",
                          MessageTime.LONG)
        elif shown is None or not np.array_equal(shown, source):
            self._message(f"Propagation not started: {key.name} is no longer shown as it was "
                          "while its frames were segmented; propagate again from it",
                          MessageTime.LONG)
        else:
            self.propagate(direction, steps, segmented, segment_rest=not own)

    def _drop_waiting(self) -> None:
        self._after_segmenting, self._segmented = None, {}
        for item in (self.forward_action, self.back_action):
            item.setEnabled(True)

    def _on_result(self, key, labels: np.ndarray, *_rest) -> None:
        """A frame segmented: a propagation waiting for it keeps its labels (the prediction
        cache may drop them before the last of a long run's frames is done: a review)."""
        if self._after_segmenting is not None and key in self._segmented:
            self._segmented[key] = labels

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)

    def stop(self, timeout_ms: int = 10000) -> None:
        """Cancel a running propagation and wait for it to end, taking in the frames it
        finished first (they become unsaved frames, so the window's close question counts them:
        otherwise frames carried while the question is open would be left out of its Save).
        The worker checks for the cancel before each frame (tens of ms on a CPU)."""
        if self._after_segmenting is not None:  # not started: it never will (a review:
            self._drop_waiting()  # it started while the close question was open)
            self._message("Propagation not started: the window is closing", MessageTime.LONG)
        if not self.running:
            return
        self.cancel()
        loop, limit = QEventLoop(), QTimer()
        self.worker.ended.connect(loop.quit)  # after `_on_ended`, connected first
        limit.setSingleShot(True)
        limit.timeout.connect(loop.quit)
        limit.start(timeout_ms)
        if self.running:
            loop.exec()
        limit.stop()
        self.worker.ended.disconnect(loop.quit)

    def confirm_close(self, ask) -> bool:
        """Whether the window may close: the lists of propagated frames are written (or the
        user chose to close anyway); `NameListFiles.confirm_close`."""
        return self.marks.files.confirm_close(ask) and self.links.files.confirm_close(ask)

    def shutdown(self, keep_links: bool = False) -> None:
        """The window closes (every question answered): the links of labels never saved are
        taken back once every save has said so (a slow disk: left as they are). Closed for
        the system (`keep_links`), the labels wait in their autosaves: the links stay, as
        after a crash."""
        self._closed = True
        self.cancel()
        self.worker.shutdown()
        self._summary = None
        self.links.flush()  # a run that did not stop in time: its frames were asked about
        if self.context.labels.finish_writes() and not keep_links:
            self.links.close()
        self.marks.files.shutdown()
        self.links.files.shutdown()

    # ------------------------------------------------------------ results

    def _has_own_labels(self, ref: FrameRef) -> bool:
        if self.marks.is_marked(ref):
            return False
        if self.context.frames.status(ref) in LABELLED:
            return True
        labels = self.context.labels.get(ref)
        return labels is not None and labels.started

    def _on_frame(self, ref: FrameRef, mask: np.ndarray, untrusted: float,
                  filled_by_model: bool) -> None:
        summary = self._summary
        if self._closed or summary is None:
            return
        labels = None if self._has_own_labels(ref) else \
            self.context.labels.open_for_edit(ref, mask.shape)
        if labels is None or labels.editing or labels.shape != mask.shape or \
                self._has_own_labels(ref):
            summary.skipped.append(ref)
            return
        earlier = self.marks.is_marked(ref)  # another propagation's labels, not accepted
        step = None
        if labels.apply(replace_mask(labels.mask, mask), "Propagate labels"):
            self.marks.mark(labels, mask if summary.from_models_own else None)
            step = labels.undo_stack.command(labels.undo_stack.index() - 1)
            summary.changed.append(ref)
            if earlier:
                summary.replaced.append(ref)
        else:
            summary.unchanged += 1
        summary.carried_to.append((ref, step))  # unchanged too: its labels are the carried
        self.links.carrying(summary.source, ref, step)
        summary.untrusted.append(untrusted)
        if untrusted > 0 and not filled_by_model:
            summary.void_filled += 1

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _on_ended(self, end: PropagationEnd) -> None:
        summary, self._summary, self._task = self._summary, None, None
        for widget in (self.progress, self.cancel_button):
            widget.setVisible(False)
        for item in (self.forward_action, self.back_action):
            item.setEnabled(True)
        if summary is None or self._closed:
            return
        self.links.flush()
        summary.end = end
        self._message(summary.text(), MessageTime.LONG)
        self.finished.emit(summary)

    # ------------------------------------------------------------ accepting

    def accept_current(self) -> bool:
        if self.context.said_nothing_open():
            return False
        ref = self.context.display.current_key
        if ref is None or not self.marks.accept(ref):
            self._message("This frame holds no propagated labels to accept")
            return False
        self._message(f"Accepted the propagated labels of {ref.name}")
        return True

    def _message(self, text: str, time: MessageTime = MessageTime.NORMAL) -> None:
        self.context.host.show_message(text, time)
