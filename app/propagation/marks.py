"""Which frames hold propagated labels the user has not accepted yet.

A frame is marked when its propagation step is pushed onto its undo history, and stays
marked while that step is the frame's latest: undoing it takes the mark off (redoing it puts
the mark back), an edit on top of it accepts the labels, and so does `accept`.

The marks outlast the session: each labels folder lists, in `labels/propagated.txt`
(`app.name_lists`: written off the GUI thread, waited for on close), the frames whose *saved*
mask holds propagated labels not accepted. So the list changes when a mask is saved (listed
if the frame is marked then), when the user accepts a frame's labels, and when another
program replaces or deletes the mask; a propagation that is never saved, or undone and
discarded, leaves it as it was. Autosaves note the mark too (a marker beside the autosave,
`labels/.autosave/<name>.propagated`), so labels propagated and lost in a crash come back
marked when their autosave is restored. When frames are opened, the listed ones that have
their mask are marked again (without an undo history): marked while their labels are those saved
(an edit takes the mark off, undoing the edit puts it back), until different labels are
saved or the user accepts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from segnet_core.masks.labels_folder import PROPAGATED

from app.context import FeatureContext
from app.editing.frame_labels import FrameLabels
from app.editing.store import location
from app.frames import FrameRef
from app.name_lists import NameListFiles


@dataclass
class _Watch:
    labels: FrameLabels
    command: QUndoCommand  # the propagation step
    index: int  # the undo index just after it
    slot: Callable[[int], None]  # connected to the history's indexChanged

    def state(self) -> bool | None:
        """True: the step is the latest; False: it is undone (it may be redone); None: it is
        built on (accepted) or gone from the history."""
        stack = self.labels.undo_stack
        if stack.command(self.index - 1) is not self.command:
            return None
        position = stack.index()
        return True if position == self.index else (False if position < self.index else None)


class PropagatedMarks(QObject):
    """Emits `changed(ref, marked)` when a frame's mark comes or goes."""

    changed = Signal(object, bool)

    def __init__(self, context: FeatureContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._watches: dict[FrameRef, _Watch] = {}  # frames propagated in this session
        self._listed: set[FrameRef] = set()  # saved masks listed as propagated, not accepted
        self._marked: set[FrameRef] = set()
        self.files = NameListFiles(PROPAGATED, context, self)
        context.labels.stateChanged.connect(self._update)
        context.labels.saved.connect(self._on_saved)
        context.labels.restored.connect(self._on_restored)
        context.labels.forgotten.connect(self._on_forgotten)
        context.labels.unaccepted = self.is_marked

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

    def mark(self, labels: FrameLabels) -> None:
        """The latest step of `labels` is a propagation: mark the frame until accepted."""
        stack = labels.undo_stack
        ref = labels.key
        old = self._watches.get(ref)
        if old is not None and old.labels is not labels:
            self._drop_watch(ref)
            old = None
        if old is None:
            slot = lambda _index, ref=ref: self._update(ref)  # noqa: E731
            stack.indexChanged.connect(slot)
        else:
            slot = old.slot
        self._watches[ref] = _Watch(labels, stack.command(stack.index() - 1), stack.index(),
                                    slot)
        self._update(ref)

    def accept(self, ref: FrameRef) -> bool:
        """Take the mark off `ref` for good, in its folder's list too; False when it was not
        marked."""
        if ref not in self._marked:
            return False
        self._drop_watch(ref)
        self._listed.discard(ref)
        self._list(ref, False)
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
        self._listed.discard(ref)
        self._update(ref)
        if ref in self._marked:
            self._listed.add(ref)
        self._list(ref, ref in self._marked)

    def _on_restored(self, ref: FrameRef, propagated: bool) -> None:
        """An autosave came back as the frame's latest step: marked again when it held
        propagated labels not accepted (undoing the restore takes the mark off)."""
        labels = self.context.labels.get(ref)
        if propagated and labels is not None:
            self.mark(labels)

    def _on_forgotten(self, ref: FrameRef) -> None:
        """The frame's labels and undo history are gone (a new mask file replaced them): its
        propagation step with them; marked now only if its saved labels are listed."""
        self._drop_watch(ref)
        self._update(ref)

    def _list(self, ref: FrameRef, listed: bool) -> None:
        folder, name = location(ref)
        if (name in self.files.names(folder)) != listed:
            self.files.set(folder, name, listed)

    def _drop_watch(self, ref: FrameRef) -> None:
        watch = self._watches.pop(ref, None)
        if watch is not None:
            try:
                watch.labels.undo_stack.indexChanged.disconnect(watch.slot)
            except RuntimeError:
                pass  # the labels are gone already

    def _update(self, ref) -> None:
        """Whether the frame is marked: its propagation step is its latest, or its saved
        labels are listed and it has no unsaved change."""
        watch = self._watches.get(ref)
        state = None
        try:
            if watch is not None:
                state = watch.state()
                if state is None:  # built on: accepted, saved or not
                    self._drop_watch(ref)
                    self._listed.discard(ref)
            if not state and ref in self._listed:  # back to the saved, propagated labels?
                labels = self.context.labels.get(ref)
                state = labels is None or not labels.dirty
        except RuntimeError:  # the frame's labels are going (the window closes): no news
            self._watches.pop(ref, None)
            self._marked.discard(ref)
            return
        self._set(ref, bool(state))

    def _set(self, ref: FrameRef, marked: bool) -> None:
        if marked == (ref in self._marked):
            return
        if marked:
            self._marked.add(ref)
        else:
            self._marked.discard(ref)
        self.changed.emit(ref, marked)
