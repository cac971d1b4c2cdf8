"""Which saved masks are a model's prediction taken as it is: Accept prediction, then Save,
with (nearly) nothing changed (`segnet_core.quality.is_as_predicted`). Such a mask trains and
exports like any correction, but it is no evidence of how right a model is: not of the model
that made it (it agrees with itself), nor of another one (that would be scored against the
first model's labels).

Whether a saved mask is one is known only when it is saved, against the prediction shown
then; so each labels folder lists them in `labels/as_predicted.txt` (`app.name_lists`:
written off the GUI thread, waited for on close), which the estimates (`app.quality`),
fine-tuning (the window's and `segnet_core.finetune.find_frames`) and `rank` read, whatever
model is in use later. A mask saved again is listed or not by what it is then, except that
a touch-up of a listed mask that another model predicted stays listed while, with the touch-ups
before it this session, it changes under 0.5 % of the labelled pixels; one another program
writes or removes is taken off the list.

Labels propagated from a model's own labels (a frame showing its prediction, or one whose
labels are a prediction taken as it is) are that prediction carried on by the flow: saved
(nearly) as they were carried, accepted or not, they are listed too, so that Accept
propagated labels does not turn the model's guess into evidence. What was carried is kept
with the propagation's undo step (`carried_guess`), so undoing a correction of such labels
brings back the guess, not evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from segnet_core.masks.labels_folder import AS_PREDICTED
from segnet_core.quality import is_as_predicted

from app.context import FeatureContext
from app.editing.frame_labels import FrameLabels
from app.editing.saving import CloseAnswer
from app.editing.store import location
from app.frames import FrameRef
from app.name_lists import NameListFiles


class AsPredictedList(QObject):
    """Emits `changed(ref)` when a frame goes on the list or comes off it, or may have (its
    folder's list changed on disk): how right a model is there is to be measured again."""

    changed = Signal(object)

    def __init__(self, context: FeatureContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.files = NameListFiles(AS_PREDICTED, context, self)
        self.files.changed.connect(self._changed_folders)  # a write found a hand edit
        #: listed masks as they were listed, or first saved over this session: what a
        #: touch-up under another model is judged against
        self._anchors: dict[FrameRef, np.ndarray] = {}
        #: the labels the frame's latest propagation carried when they were a model's own
        #: guess, else None (the window sets `PropagatedMarks.carried_guess`)
        self.carried_guess: Callable[[FrameRef], np.ndarray | None] = lambda _ref: None
        context.labels.written.connect(self._on_written)
        context.labels.keeps_previous = self.is_listed  # a listed mask saved over: compared

    def is_listed(self, ref: FrameRef) -> bool:
        """Whether the frame's saved mask is listed as a prediction taken as it is."""
        folder, name = location(ref)
        return name in self.files.names(folder)

    def models_own(self, ref: FrameRef, labels: FrameLabels | None) -> bool:
        """Whether the labels `ref` shows are a model's prediction taken as it is: none
        started (the prediction is shown), its prediction (nearly) as it is, labels carried
        from such a frame (`carried_guess`), or a listed mask as saved (or nearly)."""
        if labels is None or not labels.started:
            return True
        mask, void = labels.mask, self.context.display.label_set.void_index
        prediction = self.context.cache.peek(ref)
        for own in (None if prediction is None else prediction.labels,
                    self.carried_guess(ref), self._anchors.get(ref)):
            if own is not None and is_as_predicted(own, mask, void):
                return True
        return self.is_listed(ref) and not labels.dirty

    def refresh(self) -> None:
        """Read again the lists changed on disk (edited by hand, or by a second window) and
        say which open frames they concern (`changed`), so they are measured again."""
        self._changed_folders(self.files.refresh())

    def _changed_folders(self, folders) -> None:
        if not folders:
            return
        for ref in self.context.frames:
            if location(ref)[0] in folders:
                self.changed.emit(ref)

    def list_imported(self, folder: Path, names: list[str]) -> None:
        """An import wrote masks that an export marks as saved as predicted (`names` in the
        labels folder `folder`): listed again, after the masks' change took them off."""
        wanted = set(names)
        for ref in self.context.frames:
            where, name = location(ref)
            if name in wanted and where.root == Path(folder):
                self._set(ref, True)

    def mask_changed(self, ref: FrameRef) -> None:
        """Another program wrote or removed the frame's mask: what it holds is not known
        (the window measures it again for that already: no `changed`)."""
        self._set(ref, False, announce=False)

    def confirm_close(self, ask: Callable[..., CloseAnswer]) -> bool:
        """Whether the window may close: the masks still being written are taken in (one
        queued on leaving a frame), then the list's writes waited for
        (`NameListFiles.confirm_close`)."""
        self.context.labels.finish_writes()
        return self.files.confirm_close(ask)

    def shutdown(self) -> None:
        self.context.labels.written.disconnect(self._on_written)
        self.context.labels.keeps_previous = lambda _ref: False
        self.files.shutdown()

    def _on_written(self, ref: FrameRef, mask, previous) -> None:
        """A frame's mask was written (`mask`; None: removed): listed when it is the
        prediction shown; off the list when not, except for a touch-up of a listed mask
        that another model predicted (`previous`: the saved mask it replaced, when known;
        the first one this session is the anchor later touch-ups are judged against).
        With no prediction to compare with (not segmented, or let go of), only a real
        correction of a listed mask takes it off; otherwise the list stays as it is. Labels
        propagated from a model's own (`carried_guess`) are listed while they are (nearly)
        as carried."""
        if mask is None:
            self._set(ref, False)
            return
        void = self.context.display.label_set.void_index
        guess = self.carried_guess(ref)  # propagated from a model's own labels
        if guess is not None and is_as_predicted(guess, mask, void):
            self._set(ref, True)
            self._anchors[ref] = mask  # a later touch-up is judged against it
            return
        prediction = self.context.cache.peek(ref)
        shown = None if prediction is None else prediction.labels
        if shown is not None and is_as_predicted(shown, mask, void):
            self._set(ref, True)
            self._anchors[ref] = mask
        elif self.is_listed(ref) and previous is not None:
            # still another model's prediction taken as it is, touched up: judged against
            # the mask as it was listed (or first saved over this session), so touch-ups add
            # up; a touch-up of this model's own is judged by its prediction (above)
            anchor = self._anchors.setdefault(ref, previous)
            another_models = shown is None or not is_as_predicted(shown, anchor, void)
            if not (another_models and is_as_predicted(anchor, mask, void)):
                self._set(ref, False)
        elif shown is not None:
            self._set(ref, False)

    def _set(self, ref: FrameRef, listed: bool, announce: bool = True) -> None:
        self._anchors.pop(ref, None)  # listed anew, or off the list
        if self.is_listed(ref) != listed:
            folder, name = location(ref)
            self.files.set(folder, name, listed)
            if announce:
                self.changed.emit(ref)
