"""The label mask of one frame with its undo history.

The mask starts as the saved mask file, or all void (then the frame shows the model's
prediction until the first edit, and again once every edit is undone). Edits arrive as
`Patch`es from `segnet_core.masks.edits`: `paint` applies one at once (a stroke shows as it is drawn) and
`commit` folds those of one stroke into a single undo step holding only the merged patch
(the changed box, its old and its new values), never a copy of the mask.
"""

from __future__ import annotations

import weakref
from typing import Callable, Hashable

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from segnet_core.masks.edits import Patch, merge_patches

UNDO_LIMIT = 300


#: the attribute of an undo step holding the labels it left when they were a model's own
#: guess (`FrameLabels.mark_guess`)
GUESS = "models_guess"


class PatchCommand(QUndoCommand):
    """One undo step: a patch of one frame's mask, put on and taken off by `change(patch,
    forward)`. `applied`: the patch is on the mask already (a stroke painted live), so the
    first redo that QUndoStack.push runs does nothing."""

    def __init__(self, change: Callable[[Patch, bool], None], patch: Patch, text: str,
                 applied: bool) -> None:
        super().__init__(text)
        self.patch = patch
        # Weak: the stack (a child of the labels' QObject) owns the command, so a strong
        # reference back would make a cycle through Qt objects that only the garbage
        # collector can break, and breaking it deletes C++ objects twice (a crash).
        self._change = weakref.WeakMethod(change) if hasattr(change, "__self__") else (
            lambda: change)
        self._skip_redo = applied

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self._apply(True)

    def undo(self) -> None:
        self._apply(False)

    @property
    def changes_nothing(self) -> bool:
        """A step that changes no pixel (Accept propagated labels)."""
        return not self.patch.old.size

    def _apply(self, forward: bool) -> None:
        change = self._change()
        if change is not None and not self.changes_nothing:
            change(self.patch, forward)


class FrameLabels(QObject):
    """Emits `regionChanged(y0, x0, height, width)` whenever pixels change (live strokes,
    undo, redo), `edited()` when a step is done, undone or redone, `dirtyChanged(bool)`, and
    `startedChanged(bool)` when the frame switches between its mask and the prediction."""

    regionChanged = Signal(int, int, int, int)
    edited = Signal()
    dirtyChanged = Signal(bool)
    startedChanged = Signal(bool)

    def __init__(self, key: Hashable, mask: np.ndarray, *, from_file: bool,
                 locked: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.mask = mask
        self.from_file = from_file  # a saved mask of this frame exists
        self.opened_with_mask = from_file  # the history starts from a saved mask, not void
        self._trimmed = False  # the undo limit dropped the oldest steps: index 0 is not void
        self.locked = locked  # why this frame cannot be edited ("" when it can)
        self.revision = 0  # counts changes, so autosave knows what it wrote
        self.autosaved_revision: int | None = None  # None: no autosave file of ours
        #: how that autosave is marked: (propagated, carried from the model's prediction)
        self.autosaved_propagated = (False, False)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.undo_stack.indexChanged.connect(self._after_step)
        self._pending: list[Patch] = []
        self._was_started = self.started
        self._counts: np.ndarray | None = None  # pixels per value, kept up to date

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.mask.shape[0]), int(self.mask.shape[1])

    @property
    def started(self) -> bool:
        """Whether the mask is what the frame shows: the saved file it was opened from, an
        edit, or one in progress. Until then (and once every edit of a frame opened without
        a mask is undone, even one saved since) the frame shows the model's prediction."""
        return (self.opened_with_mask or self._trimmed or self.undo_stack.index() > 0
                or bool(self._pending))

    @property
    def trimmed(self) -> bool:
        """Whether the undo limit dropped the oldest steps: index 0 is not the labels as
        opened."""
        return self._trimmed

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def holds_saved(self) -> bool:
        """Whether the labels hold their saved mask's pixels, as far as the undo history
        tells: at the saved point, or away from it by steps that change no pixel (accepts,
        done or undone). False where no step is the saved point (a save failed, the file
        changed on disk, or the saved point was dropped from the history)."""
        stack = self.undo_stack
        clean, index = stack.cleanIndex(), stack.index()
        return clean >= 0 and not self._pending and all(
            stack.command(i).changes_nothing for i in range(min(clean, index), max(clean, index)))

    @property
    def undone_to_nothing(self) -> bool:
        """Every edit of a frame opened without a mask is undone since one was saved: it
        shows the prediction again, and saving it removes that mask."""
        return self.dirty and not self.started

    @property
    def editing(self) -> bool:
        return bool(self._pending)

    @property
    def untouched(self) -> bool:
        """Nothing of it is the user's: no undo history, no edit in progress, nothing
        unsaved (it is what was read, or all void)."""
        return self.undo_stack.count() == 0 and not self._pending and not self.dirty

    def value_counts(self) -> np.ndarray:
        """Pixels of each value 0..255 (counted once, then updated patch by patch)."""
        if self._counts is None:
            self._counts = np.bincount(self.mask.ravel(), minlength=256)
        return self._counts

    # ------------------------------------------------------------ edits

    def paint(self, patch: Patch | None) -> None:
        """Apply `patch` now, as part of the edit that `commit` will close."""
        if patch is None:
            return
        self._pending.append(patch)
        self._change(patch, forward=True)
        self._was_started = True

    def commit(self, text: str) -> bool:
        """Close the edit: its patches become one undo step. False when nothing changed."""
        patches, self._pending = self._pending, []
        merged = merge_patches(patches, self.mask)
        if merged is None:
            self._after_step()
            return False
        self._push(merged, text)
        return True

    def mark_guess(self, guess: np.ndarray | None) -> None:
        """The latest step left labels that are a model's own guess, `guess` (its
        prediction carried by a propagation, or changed by a rule over frames nobody labelled:
        `app.editing.bulk`); None: it did not. Saved (nearly) as that guess, they are no
        evidence of how right a model is (`app.editing.as_predicted`)."""
        setattr(self.undo_stack.command(self.undo_stack.index() - 1), GUESS, guess)

    def latest_guess(self) -> np.ndarray | None:
        """The guess the latest step up to where the history stands that said what its
        labels rest on left (`mark_guess`): the model's own labels, or None (a person's, as a
        propagation of a person's labels); None without such a step."""
        stack = self.undo_stack
        for index in range(stack.index() - 1, -1, -1):
            step = stack.command(index)
            if hasattr(step, GUESS):
                return getattr(step, GUESS)
        return None

    def add_step(self, text: str) -> None:
        """An undo step that changes no pixel (Accept propagated labels): undoing it takes
        back what it stands for. Labels saved before it stay saved (the mask is the same);
        undone, the frame differs from what is saved."""
        saved = self.holds_saved  # also after an accept undone: the push drops it
        nothing = np.zeros((0, 0), self.mask.dtype)
        self._push(Patch(0, 0, nothing, nothing), text)
        if saved:
            self.undo_stack.setClean()

    def _push(self, patch: Patch, text: str) -> None:
        index = self.undo_stack.index()
        # the push drops the steps undone (redo's) first, then, past the limit, the oldest,
        # which undo can no longer reach
        if index >= self.undo_stack.undoLimit() > 0:
            self._trimmed = True
        self.undo_stack.push(PatchCommand(self._change, patch, text, applied=True))
        if self.undo_stack.index() == index:  # at the undo limit the index stays put
            self._after_step()

    def cancel(self) -> None:
        """Take back the edit in progress."""
        patches, self._pending = self._pending, []
        for patch in reversed(patches):
            self._change(patch, forward=False)
        self._after_step()

    def apply(self, patch: Patch | None, text: str) -> bool:
        """One whole operation (fill, polygon, replace...) as one undo step."""
        self.paint(patch)
        return self.commit(text)

    # ------------------------------------------------------------ saving

    def saved_mask(self) -> np.ndarray | None:
        """The mask last read from the frame's file or marked saved (written, or on its way:
        `mark_saved`), rebuilt from the mask by taking back the steps done (or done again)
        since: None when the frame has no saved file yet (also while its first save is on
        its way), or the history no longer reaches it (trimmed by the undo limit, a failed
        save). A full copy of the mask."""
        clean, index = self.undo_stack.cleanIndex(), self.undo_stack.index()
        if not self.from_file or clean < 0:
            return None
        mask = self.mask.copy()
        for patch in reversed(self._pending):
            patch.revert(mask)
        for step in range(index - 1, clean - 1, -1):  # done since the save: take back
            self.undo_stack.command(step).patch.revert(mask)
        for step in range(index, clean):  # undone since the save: do again
            self.undo_stack.command(step).patch.apply(mask)
        return mask

    def mark_saved(self) -> None:
        """The mask as it is now is being written as the frame's saved mask."""
        self.undo_stack.setClean()
        self.autosaved_revision = None  # saving removes the autosave
        self.autosaved_propagated = (False, False)

    def mark_unsaved(self) -> None:
        """A save failed: the frame has unsaved changes whatever the undo index."""
        self.undo_stack.resetClean()

    # ------------------------------------------------------------ internals

    @Slot(bool)
    def _on_clean_changed(self, clean: bool) -> None:
        self.dirtyChanged.emit(not clean)

    def _change(self, patch: Patch, forward: bool) -> None:
        (patch.apply if forward else patch.revert)(self.mask)
        self.revision += 1
        if self._counts is not None:
            gone, come = (patch.old, patch.new) if forward else (patch.new, patch.old)
            self._counts -= np.bincount(gone.ravel(), minlength=256)
            self._counts += np.bincount(come.ravel(), minlength=256)
        self.regionChanged.emit(patch.y0, patch.x0, patch.height, patch.width)

    @Slot()
    def _after_step(self) -> None:
        """A step was done, undone or redone (the undo index is up to date here)."""
        if self.started != self._was_started:  # the frame switches between mask and
            self._was_started = self.started   # prediction: all of it is redrawn
            self.regionChanged.emit(0, 0, *self.shape)
            self.startedChanged.emit(self.started)
        self.edited.emit()
