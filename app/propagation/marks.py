"""Which frames hold propagated labels the user has not accepted yet.

A frame is marked when its propagation step is pushed onto its undo history, and stays
marked while that step is the frame's latest: undoing it takes the mark off (redoing it puts
the mark back), an edit on top of it accepts the labels, and so does `accept`.

The marks outlast the session: each labels folder lists its marked frames in
`labels/propagated.txt` (`app.name_lists`: written off the GUI thread, waited for on close).
When frames are opened, those listed that have a saved mask are marked again (without an
undo history now); the first edit of such a frame accepts its labels, as `accept` does.
A listed frame without a mask (its propagated labels were discarded) is not marked.
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
        self._marked: set[FrameRef] = set()
        self.files = NameListFiles(PROPAGATED, context, self)
        context.labels.stateChanged.connect(self._on_labels_state)

    def frames_opened(self) -> None:
        """Mark the open frames that their labels folder lists as propagated and not accepted
        (in an earlier session) and that still have their saved mask."""
        for ref in self.context.frames:
            folder, name = location(ref)
            if ref not in self._marked and name in self.files.names(folder) and \
                    self.context.labels.mask_exists(ref):
                self._marked.add(ref)
                self.changed.emit(ref, True)

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
            self.accept(ref)
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
        """Take the mark off `ref` for good; False when it was not marked."""
        watch = self._watches.pop(ref, None)
        if watch is not None:
            watch.labels.undo_stack.indexChanged.disconnect(watch.slot)
        elif ref not in self._marked:
            return False
        self._set(ref, False)
        return True

    def _on_labels_state(self, ref) -> None:
        """A frame marked from its folder's list (no undo history to watch) is accepted by
        its first edit."""
        if ref in self._marked and ref not in self._watches:
            labels = self.context.labels.get(ref)
            if labels is not None and labels.dirty:
                self.accept(ref)

    def _update(self, ref: FrameRef) -> None:
        try:
            state = self._watches[ref].state()
        except RuntimeError:  # the frame's labels are going (the window closes)
            self._watches.pop(ref, None)
            self._marked.discard(ref)
            return
        if state is None:
            self.accept(ref)
        else:
            self._set(ref, state)

    def _set(self, ref: FrameRef, marked: bool) -> None:
        if marked == (ref in self._marked):
            return
        if marked:
            self._marked.add(ref)
        else:
            self._marked.discard(ref)
        folder, name = location(ref)
        self.files.set(folder, name, marked)
        self.changed.emit(ref, marked)
