"""Which frames labels were carried to by a propagation: `labels/propagated_from.txt`, a line
`<mask> <- <mask it was carried from>` for each frame carried to (`segnet_core.finetune.links`).
A frame carried to is no evidence of how right the model is (where the flow was not trusted its
labels are the model's prediction, often most of the frame), and a fine-tune holds linked
frames out together or not at all.

A propagation's lines are written as soon as it ends, so that a crash keeps them (the
autosaves bring its labels back). They hold for good once the frame's mask is saved with the
propagation's step in its history (edited on top or not). A line this session added is taken
back when the frame's saved mask does not hold the step: saved with it undone (a hand
correction instead), or never saved when the window closes (Discard). A user's check: a
discarded propagation left 37 frames "carried", and the hand correction of one of them, saved
the next day, never counted as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from segnet_core.masks.labels_folder import (PROPAGATED_FROM, LabelsFolder, carried_sources,
                                             link_line)

from app.context import FeatureContext
from app.editing.frame_labels import FrameLabels
from app.editing.store import location
from app.frames import FrameRef
from app.name_lists import NameListFiles


@dataclass
class _Carried:
    """A line this session added for a frame whose saved mask does not hold it yet: the
    propagation steps (in the frame's history) that carried its labels, and whether this
    session took the line back (saved with them undone)."""

    steps: list = field(default_factory=list)
    taken_back: bool = False


class CarriedLinks(QObject):
    """Emits `changed()` when which frames are carried to may have changed (lines noted or
    taken back, or the file changed on disk: `refresh`)."""

    changed = Signal()

    def __init__(self, context: FeatureContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.files = NameListFiles(PROPAGATED_FROM, context, self)
        self.files.changed.connect(lambda _folders: self.changed.emit())
        #: by labels folder: its list as last read (`files.names`) and the masks it names as
        #: carried to, with where from (`carried_from`)
        self._carried: dict = {}
        #: the lines this session added, by frame carried to
        self._session: dict[FrameRef, dict[str, _Carried]] = {}
        context.labels.saved.connect(self._on_saved)

    # ------------------------------------------------------------ reading

    def names(self, folder: LabelsFolder) -> frozenset[str]:
        return self.files.names(folder)

    def refresh(self) -> None:
        """Read again the files changed on disk (a stat per folder; a hand edit)."""
        if self.files.refresh():
            self.changed.emit()

    def is_carried(self, ref: FrameRef) -> bool:
        """Whether labels were carried to the frame by a propagation (accepted or not, edited
        since or not): its line in its labels folder's `propagated_from.txt`."""
        return bool(self.carried_from(ref))

    def carried_from(self, ref: FrameRef) -> tuple[str, ...]:
        """The masks (names in its labels folder) the frame's labels were carried from by a
        propagation; () for none."""
        folder, name = location(ref)
        names = self.files.names(folder)
        memo = self._carried.get(folder)
        if memo is None or memo[0] is not names:  # the list changed: worked out again
            memo = self._carried[folder] = (names, carried_sources(names))
        return memo[1].get(name, ())

    # ------------------------------------------------------------ noting

    def note(self, source: FrameRef, carried: list[tuple[FrameRef, object]]) -> None:
        """The labels of the frames `carried` (each with the step a propagation put in its
        history, None when its labels were the carried ones already) came from `source`
        (the same labels folder: a propagation stays in one video or one folder): noted in
        one write."""
        folder, source_name = location(source)
        known = self.files.names(folder)
        new = []
        for ref, step in carried:
            line = link_line(location(ref)[1], source_name)
            held = self._session.get(ref, {}).get(line)
            if line not in known:
                new.append(line)
            elif held is None:
                continue  # noted before this session, or saved with it since: for good
            if step is None:
                continue  # its labels were the carried ones (an earlier step's, if held)
            if held is None:
                held = self._session.setdefault(ref, {})[line] = _Carried()
            held.steps.append(step)
        self.files.set_all(folder, new, True)
        if new:
            self.changed.emit()
        for ref in {ref for ref, step in carried if step is not None}:
            self._settle(ref, take_back=False)  # saved while it ran (leaving autosaves)

    def _on_saved(self, ref: FrameRef) -> None:
        """The frame's mask was written (or removed)."""
        self._settle(ref, take_back=True)

    def _settle(self, ref: FrameRef, take_back: bool) -> None:
        """A session line whose step the frame's saved mask holds holds for good (put back
        if this session took it back: redone, then saved); with `take_back` (a save just
        written), one whose steps it does not hold is taken back."""
        lines = self._session.get(ref)
        labels = self.context.labels.get(ref)
        if not lines or labels is None:
            return
        saved = _saved_steps(labels)
        holds = [line for line, held in lines.items() if saved is None or any(
            step is done for step in held.steps for done in saved)]
        if take_back:
            self._take_back(ref, [line for line in lines if line not in holds])
        self._list(ref, [line for line in holds if lines[line].taken_back], True)
        for line in holds:
            del lines[line]
        if not lines:
            del self._session[ref]

    def close(self) -> None:
        """The window closes, its unsaved labels saved or discarded and its writes done: the
        lines whose frame's saved mask never held their propagation are taken back. Before
        it, they stay: a crash keeps them with the autosaves."""
        for ref, lines in self._session.items():
            self._take_back(ref, list(lines))
        self._session = {}

    def _take_back(self, ref: FrameRef, lines: list[str]) -> None:
        lines = [line for line in lines if not self._session[ref][line].taken_back]
        for line in lines:
            self._session[ref][line].taken_back = True
        self._list(ref, lines, False)

    def _list(self, ref: FrameRef, lines: list[str], listed: bool) -> None:
        if lines:
            self.files.set_all(location(ref)[0], lines, listed)
            self.changed.emit()


def _saved_steps(labels: FrameLabels) -> list | None:
    """The steps in the history of the labels as last saved ([] when the save removed the
    mask); None when that cannot be told (the undo limit dropped the oldest steps, a failed
    save)."""
    if not labels.from_file:
        return []
    stack = labels.undo_stack
    clean = stack.cleanIndex()
    if clean < 0 or labels.trimmed:
        return None
    return [stack.command(index) for index in range(clean)]
