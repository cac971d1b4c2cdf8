"""Which frames hold propagated labels the user has not accepted yet.

A frame is marked while the latest step of its undo history is a propagation (`mark` tags
the step): undoing it takes the mark off, redoing it puts the mark back, and an edit on top
of it accepts the labels, as does `accept`, which adds an undo step of its own (Accept
propagated labels, no pixel changed); undoing either marks the labels again. With no step
done (the labels as opened), the frame is marked when the mask it was opened from is listed.

The marks outlast the session: each labels folder lists, in `labels/propagated.txt`
(`app.name_lists`: written off the GUI thread, waited for on close), the frames whose *saved*
mask holds propagated labels not accepted. So the list changes when a mask is saved (listed if
the frame is marked then: its line is written before the mask, so that a crash between the two
never leaves propagated labels saved unlisted, where they would count as a person's), when the
user accepts a frame whose labels are saved (or not open) or undoes or redoes such an accept
(the labels differ from the saved mask by accept steps only), and when another program replaces
or deletes the mask; a propagation that is never saved, or undone and discarded, leaves it as
it was. Autosaves note the mark too (a marker beside the autosave,
`labels/.autosave/<name>.propagated`), so labels propagated and lost in a crash come back
marked when their autosave is restored; one that holds what the saved mask holds (an accept of
saved labels undone, its list write lost in the crash) lists that mask again. When frames are
opened, the listed ones that have their mask are marked again (without an undo history), until
other labels are saved, or the same labels once accepted.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from segnet_core.masks.labels_folder import PROPAGATED
from segnet_core.quality import is_as_predicted

from app.context import FeatureContext
from app.editing.frame_labels import FrameLabels
from app.editing.store import location
from app.frames import FrameRef
from app.name_lists import NameListFiles

#: the undo step Accept propagated labels adds
ACCEPT_STEP = "Accept propagated labels"
#: the attribute `mark` sets on a propagation's undo step: that it is one (with the labels
#: it carried when they were the model's own guess, else None: `FrameLabels.mark_guess`)
_PROPAGATION = "propagation"
#: the attribute that says whether a frame's labels were opened from a listed mask
_OPENED_LISTED = "opened_from_propagated"


def holds_propagation(labels: FrameLabels) -> bool:
    """Whether a propagation of this session is among the steps of the labels' history
    (done or undone)."""
    stack = labels.undo_stack
    return any(getattr(stack.command(index), _PROPAGATION, False)
               for index in range(stack.count()))


class PropagatedMarks(QObject):
    """Emits `changed(ref, marked)` when a frame's mark comes or goes."""

    changed = Signal(object, bool)

    def __init__(self, context: FeatureContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        #: the labels whose history is watched (propagated in this session), with the slot
        #: connected to their history's indexChanged
        self._watches: dict[FrameRef, tuple[FrameLabels, object]] = {}
        self._listed: set[FrameRef] = set()  # saved masks listed as propagated, not accepted
        self._marked: set[FrameRef] = set()
        self.files = NameListFiles(PROPAGATED, context, self)
        self.files.written.connect(self._on_list_written)
        context.labels.stateChanged.connect(self._update)
        context.labels.saved.connect(self._on_saved)
        context.labels.restored.connect(self._on_restored)
        context.labels.unacceptedOnDisk.connect(self._on_unaccepted_on_disk)
        context.labels.forgotten.connect(self._on_forgotten)
        context.labels.saveFailed.connect(self._on_save_failed)
        context.labels.before_save.append(self._before_save)
        context.labels.unaccepted = self.is_marked
        context.labels.guessed = self.still_guess

    def frames_opened(self) -> None:
        """Mark the open frames that their labels folder lists as propagated and not accepted
        (in an earlier session) and that still have their saved mask."""
        listed: dict = {}  # by folder, read once
        for ref in self.context.frames:
            folder, name = location(ref)
            if folder not in listed:
                listed[folder] = self.files.names(folder)
            if ref not in self._listed and name in listed[folder] and \
                    self.context.labels.mask_exists(ref):
                self._listed.add(ref)
                self._update(ref)

    def refs(self) -> list[FrameRef]:
        return list(self._marked)

    def is_marked(self, ref: FrameRef) -> bool:
        return ref in self._marked

    def mark(self, labels: FrameLabels, guess: np.ndarray | None = None) -> None:
        """The latest step of `labels` is a propagation: marked while it is the latest.
        `guess`: the labels it carried, when they were the model's own (`carried_guess`)."""
        stack = labels.undo_stack
        step = stack.command(stack.index() - 1)
        setattr(step, _PROPAGATION, True)
        labels.mark_guess(guess)
        self._watch(labels)
        self._update(labels.key)

    def carried_guess(self, ref: FrameRef) -> np.ndarray | None:
        """The labels the latest propagation in the frame's history (up to where it stands)
        carried, when they were the model's own guess: what they are, edited or not, rests
        on them. None without such a step, or when it carried a person's labels."""
        labels = self.context.labels.get(ref)
        return None if labels is None else labels.latest_guess()  # or a restore's, or a
        # rule's over a prediction (`app.editing.bulk`)

    def still_guess(self, ref: FrameRef) -> bool:
        """Whether the frame's labels are (nearly) the model's guess they rest on
        (`carried_guess`), not a correction made on top of it: what its autosave says, so
        that a correction restored after a crash stays a correction (a review)."""
        guess, labels = self.carried_guess(ref), self.context.labels.get(ref)
        return guess is not None and labels is not None and is_as_predicted(
            guess, labels.mask, self.context.labels.label_set.void_index)

    def accept(self, ref: FrameRef) -> bool:
        """Take the mark off `ref`: an undo step on its labels, and in its folder's list at
        once when they are saved (else when they are); False when it was not marked."""
        if ref not in self._marked:
            return False
        labels = self.context.labels.get(ref)
        if labels is None:  # not open: its saved labels, accepted
            self._listed.discard(ref)
            self._list(ref, False)
        else:  # saved labels stay saved, now accepted: the list follows (`_follow_saved`)
            self._opened_listed(labels)  # before the step: undone, the labels as opened
            self._watch(labels)
            labels.add_step(ACCEPT_STEP)
        self._update(ref)
        return True

    def mask_changed(self, ref: FrameRef) -> None:
        """Another program (or an import) replaced or deleted the frame's mask: what is saved
        there is not the propagated labels any more."""
        if ref in self._listed:
            self._listed.discard(ref)
            self._list(ref, False)
            self._update(ref)

    # ------------------------------------------------------------ inside

    def _on_saved(self, ref: FrameRef) -> None:
        """The frame's labels were saved: listed as propagated if they are marked now."""
        labels = self.context.labels.get(ref)
        if labels is not None:
            self._opened_listed(labels)  # what the labels were opened from, before the save
        self._listed.discard(ref)
        self._update(ref)
        if ref in self._marked:
            self._listed.add(ref)
        self._list(ref, ref in self._marked)

    def _before_save(self, ref: FrameRef):
        """A marked frame's mask is about to be written: its line goes in the folder's list
        first (the write to wait for; None when there is none to wait for). Killed between
        the two, the saved mask is listed (the labels before it, if any, come back marked
        for review); the other way round, propagated labels would come back accepted."""
        if ref not in self._marked:
            return None  # an accepted frame's line goes after its mask (`_on_saved`)
        self._list(ref, True)
        return self.files.write_first(location(ref)[0])

    def _on_save_failed(self, ref: FrameRef) -> None:
        """A save failed: the list goes back to what the saved mask holds (a line put in
        before it, `_before_save`, is taken out again)."""
        if not self.context.labels.saving(ref):
            self._list(ref, ref in self._listed)

    def _on_restored(self, ref: FrameRef, propagated: bool, guess: bool) -> None:
        """An autosave came back as the frame's latest step: marked again when it held
        propagated labels not accepted (undoing the restore takes the mark off), and its
        labels the model's guess again (accepted or not) when they rested on its prediction
        carried."""
        labels = self.context.labels.get(ref)
        if labels is None:
            return
        if propagated:
            self.mark(labels, labels.mask.copy() if guess else None)
        elif guess:  # accepted before the crash: no mark, but the guess still
            labels.mark_guess(labels.mask.copy())

    def _on_unaccepted_on_disk(self, ref: FrameRef) -> None:
        """The frame's saved mask holds propagated labels not accepted (its autosave says so):
        listed, and marked while its labels stand as opened."""
        labels = self.context.labels.get(ref)
        if labels is not None:
            setattr(labels, _OPENED_LISTED, True)
        self._listed.add(ref)
        self._list(ref, True)
        self._update(ref)

    def _on_forgotten(self, ref: FrameRef) -> None:
        """The frame's labels and undo history are gone (a new mask file replaced them): its
        propagation step with them; marked now only if its saved labels are listed."""
        self._drop_watch(ref)
        self._update(ref)

    def _list(self, ref: FrameRef, listed: bool) -> None:
        folder, name = location(ref)
        if (name in self.files.names(folder)) != listed:
            self.files.set(folder, name, listed)

    def _watch(self, labels: FrameLabels) -> None:
        """Follow the undo index of `labels`: each step done or undone may mark or unmark."""
        ref = labels.key
        watched = self._watches.get(ref)
        if watched is not None and watched[0] is labels:
            return
        self._drop_watch(ref)
        slot = lambda _index, ref=ref: self._update(ref)  # noqa: E731
        labels.undo_stack.indexChanged.connect(slot)
        self._watches[ref] = (labels, slot)

    def _drop_watch(self, ref: FrameRef) -> None:
        watched = self._watches.pop(ref, None)
        if watched is not None:
            try:
                watched[0].undo_stack.indexChanged.disconnect(watched[1])
            except RuntimeError:
                pass  # the labels are gone already

    def _opened_listed(self, labels: FrameLabels) -> bool:
        """Whether `labels` were opened from a mask listed as propagated; known from the
        list until their first save (or accept), remembered from then on."""
        if not hasattr(labels, _OPENED_LISTED):
            setattr(labels, _OPENED_LISTED, labels.key in self._listed)
        return getattr(labels, _OPENED_LISTED)

    def _update(self, ref) -> None:
        """Whether the frame is marked: the latest step of its history is a propagation; with
        no step done, its labels were opened from a listed mask; not open, it is listed."""
        try:
            labels = self.context.labels.get(ref)
            if labels is None:
                marked = ref in self._listed
            else:
                if ref in self._listed:
                    self._watch(labels)  # undone past a save, it is marked again
                stack = labels.undo_stack
                position = stack.index()
                if position > 0:
                    marked = getattr(stack.command(position - 1), _PROPAGATION, False)
                else:  # the labels as opened (unless the undo limit trimmed that away)
                    marked = not labels.trimmed and self._opened_listed(labels)
        except RuntimeError:  # the frame's labels are going (the window closes): no news
            self._watches.pop(ref, None)
            self._marked.discard(ref)
            return
        self._set(ref, marked)
        if labels is not None:
            self._follow_saved(labels, marked)

    def _follow_saved(self, labels: FrameLabels, marked: bool) -> None:
        """Where the labels hold what their saved mask holds, differing from it by accepts
        only (one undone or redone), that mask is listed or not as they are marked, at once,
        as the accept itself is: an undone accept is not kept by a Discard, nor lost in a
        crash. At the saved point itself only after an accept (one redone): elsewhere the
        list says already what the saved mask holds."""
        stack, ref = labels.undo_stack, labels.key
        position = stack.index()
        if not labels.from_file or not labels.holds_saved or self.context.labels.saving(ref):
            return
        if position == stack.cleanIndex() and not (
                position > 0 and stack.command(position - 1).changes_nothing):
            return
        if marked != (ref in self._listed):
            (self._listed.add if marked else self._listed.discard)(ref)
            self._list(ref, marked)

    def _on_list_written(self, folder) -> None:
        """The folder's list landed: a frame whose labels differ from their saved mask by
        accepts only (one undone, or redone) has nothing unsaved once the list on disk says
        what they are, and turns clean (a user's check: an accept undone read "unsaved
        changes", and closing asked about it). Until then it is dirty, so an autosave keeps
        what it is marked should the session end before the list is written."""
        on_disk = self.files.on_disk(folder)
        for ref, (labels, _slot) in list(self._watches.items()):
            where, name = location(ref)
            try:
                stack = labels.undo_stack
                if where != folder or stack.index() == stack.cleanIndex() or \
                        not labels.from_file or not labels.holds_saved or \
                        self.context.labels.saving(ref):
                    continue
            except RuntimeError:  # the labels are gone (the window closes)
                continue
            if (name in on_disk) == (ref in self._marked):
                stack.setClean()

    def _set(self, ref: FrameRef, marked: bool) -> None:
        if marked == (ref in self._marked):
            return
        if marked:
            self._marked.add(ref)
        else:
            self._marked.discard(ref)
        self.changed.emit(ref, marked)
