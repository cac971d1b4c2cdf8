"""Which frames labels were carried to by a propagation: `labels/propagated_from.txt`, a line
`<mask> <- <mask it was carried from>` for each frame carried to (`segnet_core.finetune.links`).
A frame carried to is no evidence of how right the model is (where the flow was not trusted its
labels are the model's prediction, often most of the frame), and a fine-tune holds linked
frames out together or not at all.

A propagation's lines are written as soon as it ends, so that a crash keeps them (the
autosaves bring its labels back). A line this session added holds while the frame's saved
mask holds the propagation's step in its history (edited on top or not), and is taken back
when a save is written without it (undone, corrected by hand instead, the mask removed) or
when the window closes and the frame was never saved with it (Discard). A user's check: a
discarded propagation left 37 frames "carried", and the hand correction of one of them, saved
the next day, never counted as evidence. The worse error is the other way, a mask on disk
holding carried labels without its line (it would count as evidence): so nothing is judged
while another save of the frame is on its way, and where the history no longer tells
(trimmed by the undo limit, a failed save, labels read afresh after another program's edit)
the line is left as it is, for good. For the same reason a frame's mask is written only after
its lines queued so far are (a line put back because a save holds its step again goes in
before that save). The lines of an earlier session (one that crashed, the labels left in
autosaves) go once the frame's carried labels are nowhere on disk: no mask, and its autosave
discarded (offered back and discarded, or restored and never saved: `take_back_unheld`),
and never while another window works in the folder (`segnet_core.masks.live_sessions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from segnet_core.masks.labels_folder import (PROPAGATED_FROM, LabelsFolder, carried_sources,
                                             link_line)

from app.context import FeatureContext
from app.editing.frame_labels import FrameLabels
from app.editing.store import location
from app.frames import FrameRef
from app.name_lists import NameListFiles
from app.propagation.marks import holds_propagation


#: how often a running propagation's lines are queued (ms): a few writes a second at most
CARRYING_MS = 250


@dataclass
class _Carried:
    """A line this session added for a frame: the labels whose history holds the steps that
    carried it (the frame's `FrameLabels`), those propagation steps, and whether this
    session took the line back (saved without them)."""

    labels: object
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
        context.labels.saved.connect(self._settle)  # a frame's mask written (or removed)
        context.labels.before_save.append(self._before_save)
        context.labels.before_autosave.append(self._before_save)
        #: frames a running propagation carried to, their lines not queued yet (`carrying`)
        self._carrying: tuple[FrameRef | None, list[tuple[FrameRef, object]]] = (None, [])
        self._carrying_timer = QTimer(self, singleShot=True, interval=CARRYING_MS)
        self._carrying_timer.timeout.connect(self.flush)
        context.labels.recoveryDiscarded.connect(
            lambda ref: self.take_back_unheld([ref], autosaves_gone=True))
        self._restored: set[FrameRef] = set()  # frames whose autosave came back
        context.labels.restored.connect(lambda ref, *_marks: self._restored.add(ref))

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

    def carrying(self, source: FrameRef, ref: FrameRef, step) -> None:
        """A running propagation carried `source`'s labels to `ref` (`note`'s step): its
        line is queued within `CARRYING_MS`, with the frames carried meanwhile, and at once
        when the frame is saved or autosaved first (a user's check: the lines were written
        as the run ended, so masks and autosaves made during a run came back unlinked)."""
        if source is None:
            return
        if self._carrying[0] not in (None, source):
            self.flush()
        self._carrying = (source, self._carrying[1] + [(ref, step)])
        if not self._carrying_timer.isActive():
            self._carrying_timer.start()

    def flush(self) -> None:
        """Queue the lines of the frames `carrying` was told of."""
        self._carrying_timer.stop()
        (source, carried), self._carrying = self._carrying, (None, [])
        if carried:
            self.note(source, carried)

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
            labels = self.context.labels.get(ref)
            lines = self._session.get(ref, {})
            held = lines.get(line)
            if held is not None and held.labels is not labels:  # read afresh since
                del lines[line]
                held = None
                if line in known:
                    continue  # listed when its history stopped telling: for good
            if line not in known:
                new.append(line)
            elif held is None:
                continue  # noted before this session: for good
            # labels it had already (None) are the carried ones: an earlier propagation's
            # this session (its steps count for this line too), else for good
            steps = [step] if step is not None else \
                [earlier for other in lines.values() if other.labels is labels
                 for earlier in other.steps]
            if not steps or labels is None:
                continue
            if held is None:
                held = self._session.setdefault(ref, {})[line] = _Carried(labels)
            held.taken_back = False  # listed (again)
            held.steps.extend(steps)
        self.files.set_all(folder, new, True)
        if new:
            self.changed.emit()

    def _settle(self, ref: FrameRef) -> None:
        """Each session line of the frame listed while its saved mask holds one of the line's
        steps (put back if taken back: redone, then saved), taken back while it holds none.
        Not while another save of the frame is on its way: what the disk will hold is not
        known yet (that save may fail). When the history no longer tells (trimmed by the
        undo limit, a failed save, the labels read afresh after another program's edit),
        the line is left as it is, for good."""
        lines = self._session.get(ref)
        if not lines:
            self._settle_earlier(ref)
            return
        if self.context.labels.saving(ref):
            return
        labels = self.context.labels.get(ref)
        saved = None if labels is None else _saved_steps(labels)
        back, gone = [], []
        for line, held in list(lines.items()):
            if saved is None or held.labels is not labels:
                del lines[line]
                continue
            holds = any(step is done for step in held.steps for done in saved)
            if holds == held.taken_back:
                (back if holds else gone).append(line)
                held.taken_back = not holds
        self._list(ref, back, True)
        self._list(ref, gone, False)
        if not lines:
            del self._session[ref]

    def _before_save(self, ref: FrameRef):
        """The frame's mask is about to be written: a line taken back whose step its labels
        hold again (redone) is put back first, so that a crash between the two never leaves
        the mask holding carried labels without its line (the write to wait for; None when
        there is none). The save's news settles the rest (`_settle`)."""
        if any(carried == ref for carried, _step in self._carrying[1]):
            self.flush()
        lines = self._session.get(ref)
        labels = self.context.labels.get(ref)
        if not lines or labels is None:
            return None
        stack = labels.undo_stack
        holding = [stack.command(index) for index in range(stack.index())]
        listed = self.files.names(location(ref)[0])
        back = [line for line, held in lines.items() if held.labels is labels
                and (held.taken_back or line not in listed)
                and any(step is done for step in held.steps for done in holding)]
        for line in back:
            lines[line].taken_back = False
        self._list(ref, back, True)
        return self.files.write_first(location(ref)[0])

    def _settle_earlier(self, ref: FrameRef) -> None:
        """A frame this session never carried to, saved: the lines of an earlier session
        (one that crashed before its first autosave, say) are taken back when the labels
        saved are this session's own, on a frame opened without a mask and not restored from
        an autosave (a review: such a line stayed, and the hand correction saved under it
        never counted as evidence). Taken back after the mask is written: a crash between
        leaves the line, which errs on the safe side. Not while another window works in the
        folder: the line may be its own."""
        labels = self.context.labels.get(ref)
        if labels is None or labels.opened_with_mask or labels.trimmed or \
                ref in self._restored or self.context.labels.saving(ref) or \
                holds_propagation(labels):
            return
        sources = self.carried_from(ref)
        if sources and not self.context.live.others(location(ref)[0].root):
            name = location(ref)[1]
            self._list(ref, [link_line(name, source) for source in sources], False)

    def close(self) -> None:
        """The window closes, its unsaved labels saved or discarded and its writes done: the
        lines whose frame's saved mask does not hold their propagation are taken back.
        Before it, they stay: a crash keeps them with the autosaves."""
        self.flush()
        for ref in list(self._session):
            labels = self.context.labels.get(ref)
            folder, name = location(ref)
            if labels is not None and labels.dirty and folder.has_autosave(name):
                continue  # closed without it (a save failed): kept as after a crash, with
            self._settle(ref)  # its lines (a kill -9 check: 38 masks came back unlinked)
        self._session = {}
        self.take_back_unheld(self.context.frames)

    def take_back_unheld(self, refs, autosaves_gone: bool = False) -> None:
        """Take back the lines (of earlier sessions: a crash's) of the frames among `refs`
        whose carried labels are nowhere on disk any more: no mask, and no autosave (its
        recovery discarded, `autosaves_gone`; or restored and never saved). A user's check:
        such a line stayed for good, so the frame's hand correction, saved later, never
        counted as evidence. Not for a frame this session carried to (`_settle` judges
        those) or whose save is on its way, nor in a folder another window works in: its
        labels carried and not saved yet are nowhere on disk either (a review: closing
        window A took back window B's links)."""
        gone: dict[LabelsFolder, list[str]] = {}
        refs = [ref for ref in refs if self.carried_from(ref) and ref not in self._session
                and not self.context.labels.saving(ref)]
        shared = self.context.live.others_in(location(ref)[0].root for ref in refs)
        for ref in refs:
            folder, name = location(ref)
            if shared[folder.root] or folder.has_mask(name) or (
                    not autosaves_gone and folder.has_autosave(name)):
                continue
            gone.setdefault(folder, []).extend(link_line(name, source)
                                               for source in self.carried_from(ref))
        for folder, lines in gone.items():
            self.files.set_all(folder, lines, False)
        if gone:
            self.changed.emit()

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
