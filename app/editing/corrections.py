"""The one source of "corrected": every frame's status in the frame list, which the list,
the timeline's ticks, fine-tuning and export all read (`FrameList.corrected()`).

A frame is UNSAVED while it has edits not saved, CORRECTED when its mask file is in its
labels folder (or a save of it is on its way there), else SEGMENTED or NOT_SEGMENTED as the
prediction cache says. Masks that appear, change or go while the window is open (imported,
copied in, written by another program) are picked up: a QFileSystemWatcher on each labels
folder (on the images' folder until `labels/` exists), a check of the frame shown each time
one is shown, a check of every folder when the window becomes active again, and `rescan()`
for writers in this process. Labels held in memory that hold nothing unsaved follow the file
(their undo history goes); unsaved edits are kept, and the Problems dock says the file
changed under them. Our own writes are told from another program's by the stamp each one
left (modification time, size and inode, taken from the file it wrote: a file put on top of
ours right after is theirs); a change seen while our write of that mask is on its way is
looked at again once the write is done.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from segnet_core.atomic import FileStamp
from segnet_core.masks.labels_folder import LabelsFolder

from app.context import FeatureContext
from app.document import FrameDocument
from app.editing.store import location
from app.frames import FrameRef, FrameStatus

SETTLE_MS = 150  # a burst of file events (an import writes many masks) is read once


class CorrectionStatus(QObject):
    """Keeps the frame statuses in step with the label store and the labels folders. Emits
    `maskChanged(ref)` when a frame's mask file appeared, changed or went behind our back
    (not for the masks found when a folder is read the first time)."""

    maskChanged = Signal(object)

    def __init__(self, context: FeatureContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.store = context.labels
        self.watcher = QFileSystemWatcher(self)
        #: the masks on disk and their stamps, as last read
        self._stamps: dict[LabelsFolder, dict[str, FileStamp]] = {}
        self._refs: dict[LabelsFolder, dict[str, FrameRef]] = {}
        self._waiting: set[LabelsFolder] = set()
        # frames whose mask changed while our own write of it was on its way: their folder
        # is read again once it is done (its news tells which file is ours)
        self._after_write: set[FrameRef] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self._rescan_waiting)
        self._shown_file: str | None = None  # the mask of the frame shown, watched too
        self.watcher.directoryChanged.connect(self._on_directory)
        self.watcher.fileChanged.connect(lambda path: self._on_directory(str(Path(path).parent)))
        self.store.stateChanged.connect(self.update)
        self.store.writeDone.connect(self._on_write_done)
        context.display.documentShown.connect(self._on_shown)
        QGuiApplication.instance().applicationStateChanged.connect(self._on_application_state)

    def status_of(self, ref: FrameRef) -> FrameStatus:
        labels = self.store.get(ref)
        # every edit undone since a save: the frame shows the prediction and saving removes
        # its mask, so meanwhile it counts as corrected nowhere
        removing = labels is not None and labels.undone_to_nothing
        if labels is not None and labels.dirty and not removing:
            return FrameStatus.UNSAVED
        if not removing and (self.store.saving(ref) or self.store.mask_exists(ref)):
            return FrameStatus.CORRECTED
        return FrameStatus.SEGMENTED if ref in self.context.cache else FrameStatus.NOT_SEGMENTED

    def update(self, ref: FrameRef) -> None:
        """Set the frame's status from its labels and its mask file."""
        if self.context.frames.row_of(ref) is not None:
            self.context.frames_model.set_status(ref, self.status_of(ref))

    def frames_opened(self) -> None:
        """Know the labels folders of the open frames, watch them and read them."""
        new = []
        for ref in self.context.frames:
            folder, name = location(ref)
            known = self._refs.setdefault(folder, {})
            if name not in known:
                known[name] = ref
                new.append(ref)
        for folder in {location(ref)[0] for ref in new}:
            self._watch(folder)
            self.rescan(folder)
        for ref in new:
            self.update(ref)

    def rescan(self, folder: LabelsFolder | Path | None = None) -> int:
        """Read a labels folder (a LabelsFolder or its root; None: every folder) again and
        take in the masks that appeared, changed or went; how many frames that touched."""
        if folder is None:
            return sum(self.rescan(known) for known in list(self._refs))
        folder = folder if isinstance(folder, LabelsFolder) else LabelsFolder(folder)
        refs = self._refs.get(folder)
        if refs is None:
            return 0
        first = folder not in self._stamps  # what is there was found, not changed
        old, new = self._stamps.get(folder, {}), folder.mask_stamps()
        names = {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}
        changed = [(name, refs[name], new.get(name)) for name in names if name in refs]
        for name, ref, stamp in changed:  # appeared, changed or gone
            if self.store.saving(ref):  # ours on its way, maybe another program's on top:
                if name in old:  # looked at again once our write is done
                    new[name] = old[name]
                else:
                    del new[name]
                self._after_write.add(ref)
            else:
                self._take_in(ref, stamp, announce=not first)
        self._stamps[folder] = new
        return len(changed)

    def _take_in(self, ref: FrameRef, stamp: FileStamp, announce: bool = True) -> None:
        """A mask file appeared, changed or went; `announce`: say so (`maskChanged`), unless
        it was only found (the folder read the first time)."""
        store, frames = self.store, self.context.frames
        if frames.status(ref) == FrameStatus.UNREADABLE:
            return
        ours = store.wrote(ref, stamp)
        labels = store.get(ref)
        if not ours:
            store.disown(ref)
            if labels is not None and labels.dirty:
                labels.mark_unsaved()  # no step of their history holds the file's labels
            if announce:
                self.maskChanged.emit(ref)
        if labels is not None and not ours:
            if store.forget(ref):
                self._show_again(ref)
            elif labels.dirty:
                folder, name = location(ref)
                self.context.problems.add(folder.mask_path(name),
                                          "changed on disk while it has unsaved edits; the "
                                          "edits are kept (saving them replaces the file)")
        self.update(ref)

    def _show_again(self, ref: FrameRef) -> None:
        """The frame shown lost its labels to a new file: show it with the file's."""
        display = self.context.display
        document = display.document
        if document is None or document.key != ref:
            return
        labels = self.store.open(ref, document.size)
        display.show(FrameDocument(ref, document.image, document.prediction, labels))

    # ------------------------------------------------------------ watching

    def _watch(self, folder: LabelsFolder) -> None:
        root = folder.root if folder.root.is_dir() else folder.root.parent
        if str(root) not in self.watcher.directories() and root.is_dir():
            self.watcher.addPath(str(root))

    def _on_shown(self, document: FrameDocument | None) -> None:
        """Check the frame shown, and watch its mask file (a program that rewrites a file
        in place changes no folder entry)."""
        if self._shown_file is not None:
            self.watcher.removePath(self._shown_file)
            self._shown_file = None
        if document is None:
            return
        self.update(document.key)
        folder, name = location(document.key)
        path = folder.mask_path(name)
        if folder.has_mask(name) and self.watcher.addPath(str(path)):
            self._shown_file = str(path)

    def _on_directory(self, path: str) -> None:
        changed = Path(path)
        for folder in self._refs:
            if folder.root == changed:
                self._waiting.add(folder)
            elif folder.root.parent == changed and folder.root.is_dir():
                self._watch(folder)  # labels/ was made: watch it from now on
                self._waiting.add(folder)
        self._timer.start()

    def _on_write_done(self, ref: FrameRef) -> None:
        """A write of the frame's mask is done (or failed): its folder is read again if a
        change of its mask was put off for it."""
        if ref in self._after_write and not self.store.saving(ref):
            self._after_write.discard(ref)
            self._waiting.add(location(ref)[0])
            self._timer.start()

    def _rescan_waiting(self) -> None:
        waiting, self._waiting = self._waiting, set()
        for folder in waiting:
            self.rescan(folder)

    def _on_application_state(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationActive:
            self.rescan()

    def stop(self) -> None:
        """The window closes: watch nothing more (the application lives on, other windows
        may make it active again, other programs may still write masks)."""
        QGuiApplication.instance().applicationStateChanged.disconnect(
            self._on_application_state)
        self._timer.stop()
        self._waiting.clear()
        paths = self.watcher.files() + self.watcher.directories()
        if paths:
            self.watcher.removePaths(paths)
        self._shown_file = None
        self._refs.clear()
        self._after_write.clear()
