"""Go > Flag frame to correct first: the user marks frames that show something the model must
learn (a cyclist, a road sign it misses); Next suggested frame offers the flagged frames it
has not seen corrected before its plan (`segnet_core.frame_order.next_plan_pick`). A flagged
frame says "flagged" in the frame list and is marked at the top of its video's timeline.

Why: the model cannot point at what it has not learnt to see. Fine-tuned on ten frames of a
drive it had never seen, which frames showed the rare objects decided more than any rule
built on the model's own estimates (docs/training.md); only the user knows where those are.

Flags live in the labels folder beside the frames (`labels/flagged.txt`, one mask name per
line), so they outlast the session and `segnet-studio rank` reads them too. They are read
when frames are opened and written off the GUI thread after each change (one write at a
time, in order); a file that cannot be read or written goes to View > Problems, naming it.
A file that cannot be read is moved aside to `flagged.txt.broken` before the folder's flags
are next written, so nothing in it is lost. The flag key acts on the frame asked for (shown
or still loading, or unreadable), as Next suggested frame does.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, Signal

from segnet_core.errors import SegNetError
from segnet_core.masks.labels_folder import FLAGS_FILE, LabelsFolder

from app.context import FeatureContext, MessageTime
from app.editing.store import location
from app.frames import FrameRef
from app.menus import Place
from app.navigation import NavigationController
from app.quality.controller import NOT_OFFERED
from app.widgets.timeline import Timeline

NOTE = "flag"  # this feature's note in the frame list
FLAGGED_NOTE = "flagged"
BROKEN_SUFFIX = ".broken"  # a flags file that cannot be read is kept under its name + this


class FrameFlags(QObject):
    """The flagged frames of the open folders and videos."""

    _writeFailed = Signal(object, str)  # from the writing thread: path, reason

    def __init__(self, context: FeatureContext, navigation: NavigationController,
                 timeline: Timeline, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.navigation = navigation
        self.timeline = timeline
        self._flagged: set[FrameRef] = set()
        self._folders: dict[LabelsFolder, set[str]] = {}  # as on disk (or being written)
        self._broken: set[LabelsFolder] = set()  # flags file unreadable: moved aside on write
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flags")
        self.action = context.host.action(
            "&Flag frame to correct first", "Ctrl+B", checkable=True,
            tip="Mark this frame as showing something the model must learn (a rare object "
                "it misses): Next suggested frame offers flagged frames first. Saved in the "
                "labels folder (flagged.txt)")
        context.menus.add(Place.GO_SUGGEST, self.action)
        self.action.triggered.connect(self._on_triggered)
        context.display.documentShown.connect(lambda _document: self._sync_view())
        self._writeFailed.connect(self._on_write_failed)

    # ------------------------------------------------------------ what others use

    def refs(self) -> set[FrameRef]:
        return set(self._flagged)

    def set_flagged(self, ref: FrameRef, flagged: bool) -> None:
        """Flag or unflag `ref`, show it in the list and save the folder's flags."""
        if (ref in self._flagged) == flagged:
            return
        (self._flagged.add if flagged else self._flagged.discard)(ref)
        self.context.frames_model.set_note(ref, NOTE, FLAGGED_NOTE if flagged else "")
        self._sync_view()
        folder, name = location(ref)
        names = self._folders.setdefault(folder, set())
        (names.add if flagged else names.discard)(name)
        aside = folder in self._broken
        self._broken.discard(folder)
        self._writer.submit(self._write, folder, set(names), aside)

    def frames_opened(self) -> None:
        """Read the flags of the labels folders of frames newly opened."""
        found = False
        new_folders: dict[LabelsFolder, set[str]] = {}
        for ref in self.context.frames:
            folder, name = location(ref)
            if folder not in self._folders and folder not in new_folders:
                try:
                    new_folders[folder] = folder.read_flags()
                except SegNetError as error:
                    self.context.problems.add(
                        error.path, f"{error.reason} (no frame there counts as flagged; "
                                    f"flagging one moves the file to {error.path.name}"
                                    f"{BROKEN_SUFFIX})")
                    self._broken.add(folder)
                    new_folders[folder] = set()
            names = self._folders.get(folder, new_folders.get(folder))
            if name in names and ref not in self._flagged:
                self._flagged.add(ref)
                self.context.frames_model.set_note(ref, NOTE, FLAGGED_NOTE)
                found = True
        self._folders.update(new_folders)
        if found:
            self._sync_view()

    def shutdown(self) -> None:
        """Finish the writes queued (small files)."""
        self._writer.shutdown(wait=True)

    # ------------------------------------------------------------ inside

    def _target(self) -> FrameRef | None:
        """The frame the flag key acts on: the one asked for (shown, loading or unreadable)."""
        ref = self.navigation.wanted
        return ref if ref is not None else self.context.display.current_key

    def _on_triggered(self, checked: bool) -> None:
        ref = self._target()
        if ref is None:
            self.action.setChecked(False)
            self.context.host.show_message("No frame to flag: open images or a video first",
                                           MessageTime.NORMAL)
            return
        self.set_flagged(ref, checked)
        status = self.context.frames.status(ref)
        if not checked:
            text = f"{ref.name} is not flagged any more"
        elif status in NOT_OFFERED:
            text = (f"Flagged {ref.name}; it is {status.value}, so Next suggested frame "
                    "does not offer it")
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

    def _write(self, folder: LabelsFolder, names: set[str],
               aside: bool) -> None:  # writing thread
        try:
            if aside:
                path = folder.root / FLAGS_FILE
                try:
                    os.replace(path, path.with_name(path.name + BROKEN_SUFFIX))
                except FileNotFoundError:
                    pass  # gone meanwhile
            folder.write_flags(names)
        except (OSError, SegNetError) as error:
            self._writeFailed.emit(folder.root / FLAGS_FILE, f"flags not saved: {error}")

    def _on_write_failed(self, path, reason: str) -> None:
        self.context.problems.add(path, reason)
        self.context.host.show_message(f"Could not save the flagged frames: {path}",
                                       MessageTime.LONG)
