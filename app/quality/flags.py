"""Go > Flag frame to correct first: the user marks frames that show something the model must
learn (a cyclist, a road sign it misses); Next suggested frame offers the flagged frames it
has not seen corrected before its plan (`segnet_core.frame_order.next_plan_pick`). A flagged
frame says "flagged" in the frame list and is marked at the top of its video's timeline.

Why: the model cannot point at what it has not learnt to see. Fine-tuned on ten frames of a
drive it had never seen, which frames showed the rare objects decided more than any rule
built on the model's own estimates (docs/training.md); only the user knows where those are.

Flags live in the labels folder beside the frames (`labels/flagged.txt`, one mask name per
line), so they outlast the session and `segnet-studio rank` reads them too; how the files are
read, written, merged with hand edits and waited for on close is `app.name_lists`. They are
read when frames are opened, and looked at again (a stat per folder) when frames are opened,
when the window becomes active again (the user is back from the editor or the other window)
and before Next suggested frame uses the flags: the frame list and the timeline then show
the file's flags. The flag key acts on the frame asked for (shown or still loading, or
unreadable), as Next suggested frame does.
"""

from __future__ import annotations

from typing import Callable, Iterable

from PySide6.QtCore import QObject

from segnet_core.masks.labels_folder import FLAGGED, LabelsFolder

from app.context import FeatureContext, MessageTime
from app.editing.saving import CloseAnswer
from app.editing.store import location
from app.frames import FrameRef, FrameStatus
from app.menus import Place
from app.name_lists import NameListFiles
from app.navigation import NavigationController
from app.quality.suggest import NOT_OFFERED
from app.widgets.timeline import Timeline

NOTE = "flag"  # this feature's note in the frame list
FLAGGED_NOTE = "flagged"


class FrameFlags(QObject):
    """The flagged frames of the open folders and videos."""

    def __init__(self, context: FeatureContext, navigation: NavigationController,
                 timeline: Timeline, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.navigation = navigation
        self.timeline = timeline
        self._flagged: set[FrameRef] = set()
        context.frames_model.reserve_note(NOTE)  # its place in the list's rows
        self.files = NameListFiles(FLAGGED, context, self)
        self.action = context.host.action(
            "&Flag frame to correct first", "Ctrl+B", checkable=True,
            tip="Mark this frame as showing something the model must learn (a rare object "
                "it misses): Next suggested frame offers flagged frames first. Saved in the "
                "labels folder (flagged.txt)")
        context.menus.add(Place.GO_SUGGEST, self.action)
        self.action.triggered.connect(self._on_triggered)
        context.display.documentShown.connect(lambda _document: self._sync_view())
        self.files.changed.connect(self._show)

    # ------------------------------------------------------------ what others use

    def refs(self) -> set[FrameRef]:
        """The flagged frames, after reading again the flags files changed on disk."""
        self.refresh()
        return set(self._flagged)

    def set_flagged(self, ref: FrameRef, flagged: bool) -> None:
        """Flag or unflag `ref`, show it in the list and save the folder's flags."""
        if not self._mark(ref, flagged):
            return
        self._sync_view()
        folder, name = location(ref)
        self.files.set(folder, name, flagged)

    def frames_opened(self) -> None:
        """Read the flags of the labels folders of frames newly opened, and again those
        changed on disk."""
        self.refresh()
        self._show({location(ref)[0] for ref in self.context.frames})

    def refresh(self) -> None:
        """Read again the flags files changed on disk since we last read or wrote them (a
        stat per folder) and show what they say."""
        changed = self.files.refresh()
        if changed and self._show(changed):
            self.context.host.show_message(
                f"Flagged frames read again: {self.files.path(changed[0])} changed on disk",
                MessageTime.NORMAL)

    def confirm_close(self, ask: Callable[..., CloseAnswer]) -> bool:
        """Whether the window may close (`NameListFiles.confirm_close`)."""
        return self.files.confirm_close(ask)

    def shutdown(self) -> None:
        self.files.shutdown()

    # ------------------------------------------------------------ inside

    def _target(self) -> FrameRef | None:
        """The frame the flag key acts on: the one asked for (shown, loading or unreadable)."""
        ref = self.navigation.wanted
        return ref if ref is not None else self.context.display.current_key

    def _on_triggered(self, checked: bool) -> None:
        ref = self._target()
        if ref is None:
            self.action.setChecked(False)
            if not self.context.said_nothing_open():
                self.context.host.show_message("No frame to flag: none is shown",
                                               MessageTime.NORMAL)
            return
        self.set_flagged(ref, checked)
        status = self.context.frames.status(ref)
        if not checked:
            text = f"{ref.name} is not flagged any more"
        elif status in NOT_OFFERED:  # "it is unsaved changes" read badly (a user's check)
            why = {FrameStatus.CORRECTED: "corrected", FrameStatus.UNSAVED: "edited already",
                   FrameStatus.UNREADABLE: "unreadable"}.get(status, status.value)
            text = (f"Flagged {ref.name}; it is {why}, so Next suggested frame does not "
                    "offer it")
        else:
            text = f"Flagged {ref.name}: Next suggested frame (N) offers it first"
        self.context.host.show_message(text, MessageTime.NORMAL)

    def _sync_view(self) -> None:
        """The action's check for the frame asked for; the marks on its video's timeline."""
        ref = self._target()
        self.action.setChecked(ref is not None and ref in self._flagged)
        video = ref.path if ref is not None and ref.is_video_frame else None
        self.timeline.slider.set_flags([] if video is None else
                                       [f.index for f in self._flagged if f.path == video])

    def _mark(self, ref: FrameRef, flagged: bool) -> bool:
        """Flag or unflag `ref` in the list; whether that changed anything."""
        if (ref in self._flagged) == flagged:
            return False
        (self._flagged.add if flagged else self._flagged.discard)(ref)
        self.context.frames_model.set_note(ref, NOTE, FLAGGED_NOTE if flagged else "")
        return True

    def _show(self, folders: Iterable[LabelsFolder]) -> bool:
        """Flag the open frames of `folders` as the folders' flags say; whether any changed."""
        names = {folder: self.files.names(folder) for folder in folders}
        changed = False
        for ref in self.context.frames:
            folder, name = location(ref)
            if folder in names:
                changed |= self._mark(ref, name in names[folder])
        if changed:
            self._sync_view()
        return changed
