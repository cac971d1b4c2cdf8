"""Which saved masks are a model's prediction taken as it is: Accept prediction, then Save,
with (nearly) nothing changed (`segnet_core.quality.is_as_predicted`). Such a mask trains and
exports like any correction, but it is no evidence of how right a model is: not of the model
that made it (it agrees with itself), nor of another one (that would be scored against the
first model's labels).

Whether a saved mask is one is known only when it is saved, against the prediction shown
then; so each labels folder lists them in `labels/as_predicted.txt` (`app.name_lists`:
written off the GUI thread, waited for on close), which the estimates (`app.quality`),
fine-tuning (the window's and `segnet_core.finetune.find_frames`) and `rank` read, whatever
model is in use later. A mask saved again is listed or not by what it is then; one another
program writes or removes is taken off the list.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal

from segnet_core.masks.labels_folder import AS_PREDICTED
from segnet_core.quality import is_as_predicted

from app.context import FeatureContext
from app.editing.saving import CloseAnswer
from app.editing.store import location
from app.frames import FrameRef
from app.name_lists import NameListFiles


class AsPredictedList(QObject):
    """Emits `changed(ref)` when a frame goes on the list or comes off it."""

    changed = Signal(object)

    def __init__(self, context: FeatureContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.files = NameListFiles(AS_PREDICTED, context, self)
        context.labels.saved.connect(self._on_saved)

    def is_listed(self, ref: FrameRef) -> bool:
        """Whether the frame's saved mask is listed as a prediction taken as it is."""
        folder, name = location(ref)
        return name in self.files.names(folder)

    def mask_changed(self, ref: FrameRef) -> None:
        """Another program wrote or removed the frame's mask: what it holds is not known."""
        self._set(ref, False)

    def confirm_close(self, ask: Callable[..., CloseAnswer]) -> bool:
        """Whether the window may close (`NameListFiles.confirm_close`)."""
        return self.files.confirm_close(ask)

    def shutdown(self) -> None:
        """Finish the list's writes. A save whose news comes later (one queued on leaving a
        frame, finishing as the window closes) is not listed: the next session still tells
        it by comparing it with the prediction, when that model is in use."""
        self.context.labels.saved.disconnect(self._on_saved)
        self.files.shutdown()

    def _on_saved(self, ref: FrameRef) -> None:
        labels = self.context.labels.get(ref)
        if labels is None or labels.dirty:
            return  # edited again since that save: the next save says what it is
        prediction = self.context.cache.peek(ref)
        self._set(ref, labels.from_file and prediction is not None and is_as_predicted(
            prediction.labels, labels.mask, self.context.display.label_set.void_index))

    def _set(self, ref: FrameRef, listed: bool) -> None:
        if self.is_listed(ref) != listed:
            folder, name = location(ref)
            self.files.set(folder, name, listed)
            self.changed.emit(ref)
