"""The frame list: a thumbnail, the name and the status of every open frame ("saved, to
review" for saved labels still to be looked over), and the short notes features add to a
frame (its estimated accuracy, "propagated").

`FrameListModel` is the Qt face of `app.frames.FrameList`; thumbnails are asked for only
when a row is drawn, and made off the GUI thread by a ThumbnailLoader. The view shows the
rows in frame order, or sorted by a key a feature gives (`FrameListView.set_sort_key`).
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

import numpy as np
from PySide6.QtCore import (QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt,
                            QTimer, Signal)
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView

from segnet_core.masks.labels_folder import mask_name

from app.canvas.qimage import array_to_qimage
from app.frames import LABELLED, FrameList, FrameRef, FrameStatus, OpenReport
from app.widgets.sorted_rows import SortedRows, SortKey
from app.workers.thumbnails import THUMB_HEIGHT, THUMB_WIDTH, ThumbnailLoader

MAX_THUMBNAILS = 2000  # 64x48 RGBA: 24 MiB at most

_STATUS_COLORS = {
    FrameStatus.NOT_SEGMENTED: None,
    FrameStatus.SEGMENTED: QColor(40, 140, 60),
    FrameStatus.CORRECTED: QColor(30, 90, 200),
    FrameStatus.UNSAVED: QColor(200, 120, 0),
    FrameStatus.UNREADABLE: QColor(190, 40, 40),
}


#: a saved frame whose labels are still to be reviewed (propagated, not accepted): not
#: "corrected" in the corrected frames' blue
TO_REVIEW_WORD = "saved, to review"
TO_REVIEW_COLOR = QColor(150, 60, 170)
#: a frame not segmented now whose estimate is known (kept from an earlier session or a
#: `rank` run, or its result let go of): "not segmented" above "est. 82 %" read as a
#: contradiction to a newcomer
SEGMENTED_BEFORE_WORD = "segmented before"


class FrameListModel(QAbstractListModel):
    """Rows of a FrameList. Change the list through this model so views follow.
    `correctedChanged`: a frame became corrected (saved or not) or stopped being so;
    `readAgain(ref)`: a frame whose reading had failed was read (its file mended)."""

    correctedChanged = Signal()
    readAgain = Signal(object)

    def __init__(self, frames: FrameList, thumbnails: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.frames = frames
        self._thumbnails = thumbnails
        # the most recently made thumbnails (a row drawn again after its thumbnail went out
        # asks for it again): playing a long video draws a new row every frame
        self._pixmaps: OrderedDict[FrameRef, QPixmap] = OrderedDict()
        self._shown = len(frames)
        self._placeholder = QPixmap(THUMB_WIDTH, THUMB_HEIGHT)
        self._placeholder.fill(QColor(90, 90, 90))
        self._notes: dict[FrameRef, dict[str, str]] = {}  # ref -> {feature: note}
        self._note_places: dict[str, int] = {}  # feature -> where its note goes in a row
        self._to_review: set[FrameRef] = set()  # `set_to_review`
        self._segmented_before: set[FrameRef] = set()  # `set_segmented_before`
        #: file names open from more than one folder (their rows name the folder too) ->
        #: whether the folders' names tell them apart (else their paths are shown)
        self._ambiguous: dict[str, bool] = {}
        thumbnails.thumbnailReady.connect(self._on_thumbnail)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._shown

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= self._shown:
            return None
        ref = self.frames[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            # the notes' line is there when empty too: every row has the same height
            return f"{self.shown_name(ref)}\n{self._status_word(ref)}\n{self._notes_text(ref)}"
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._pixmaps.get(ref)
            if pixmap is not None:
                self._pixmaps.move_to_end(ref)
            else:
                self._thumbnails.request(ref)
                return self._placeholder
            return pixmap
        if role == Qt.ItemDataRole.ToolTipRole:
            where = str(ref.path) if ref.index is None else f"{ref.path}, frame {ref.number}"
            mask = mask_name(ref.path, ref.index)
            return (f"{where}\n{self._status_word(ref)}; mask labels/{mask}\n"
                    f"{self._notes_text(ref)}").strip()
        if role == Qt.ItemDataRole.ForegroundRole:
            if self._reviewing(ref):
                return TO_REVIEW_COLOR
            return _STATUS_COLORS[self.frames.status(ref)]
        return None

    def add_paths(self, paths: Iterable[str | Path]) -> OpenReport:
        report = self.frames.add_paths(paths)
        if len(self.frames) > self._shown:
            self.beginInsertRows(QModelIndex(), self._shown, len(self.frames) - 1)
            self._shown = len(self.frames)
            self.endInsertRows()
            self._find_ambiguous()
        return report

    def shown_name(self, ref: FrameRef) -> str:
        """The row's name: the frame's, with its folder when files of that name are open
        from several folders (two copies of one shot list, say): the folder's name, or its
        whole path when those names are the same too."""
        where = self._ambiguous.get(ref.path.name)
        if where is None:
            return ref.name
        folder = ref.path.parent.name if where else str(ref.path.parent)
        return f"{folder}/{ref.name}"

    def _find_ambiguous(self) -> None:
        folders: dict[str, set[Path]] = {}
        for ref in self.frames:
            folders.setdefault(ref.path.name, set()).add(ref.path.parent)
        # a name open from several folders -> whether their names tell them apart
        ambiguous = {name: len({folder.name for folder in where}) == len(where)
                     for name, where in folders.items() if len(where) > 1}
        if ambiguous != self._ambiguous:
            self._ambiguous = ambiguous
            self.dataChanged.emit(self.index(0), self.index(self._shown - 1),
                                  [Qt.ItemDataRole.DisplayRole])

    def set_status(self, ref: FrameRef, status: FrameStatus) -> None:
        before = self.frames.status(ref) if self.frames.row_of(ref) is not None else None
        if self.frames.set_status(ref, status):
            self._changed(ref)
            if (before in LABELLED) != (status in LABELLED):
                self.correctedChanged.emit()

    def mark_read(self, ref: FrameRef) -> bool:
        """`FrameList.mark_read`; emits `readAgain(ref)` when reading it had failed."""
        mended = self.frames.mark_read(ref)
        if mended:
            self.readAgain.emit(ref)
        return mended

    def mark_unreadable(self, ref: FrameRef) -> bool:
        """`FrameList.mark_unreadable`, with the frame's row redrawn."""
        before = self.frames.status(ref) if self.frames.row_of(ref) is not None else None
        news = self.frames.mark_unreadable(ref)
        if before is not None and self.frames.status(ref) != before:
            self._changed(ref)
        return news

    def reserve_note(self, feature: str) -> None:
        """Give `feature`'s notes their place in every row: after those of the features that
        reserved theirs before (a feature that did not goes after all, when it first notes a
        frame). So a row reads the same whichever note came first ("est. 90 % · propagated"
        both before and after a model change)."""
        self._note_places.setdefault(feature, len(self._note_places))

    def set_note(self, ref: FrameRef, feature: str, note: str = "") -> None:
        """Show `note` under the frame's status (one note per feature; "" removes it)."""
        self.reserve_note(feature)
        notes = self._notes.get(ref, {})
        if notes.get(feature, "") == note:
            return
        if note:
            self._notes.setdefault(ref, notes)[feature] = note
        else:
            notes.pop(feature, None)
            if not notes:
                self._notes.pop(ref, None)
        self._changed(ref)

    def set_to_review(self, ref: FrameRef, on: bool) -> None:
        """Whether the frame's labels are still to be reviewed (propagated, not accepted):
        saved, it says `TO_REVIEW_WORD` instead of "corrected"."""
        if (ref in self._to_review) != on:
            (self._to_review.add if on else self._to_review.discard)(ref)
            self._changed(ref)

    def set_segmented_before(self, ref: FrameRef, on: bool) -> None:
        """Whether what the frame's segmentation told is known (its estimate): while it is
        not segmented now, it says `SEGMENTED_BEFORE_WORD` instead of "not segmented"."""
        if (ref in self._segmented_before) != on:
            (self._segmented_before.add if on else self._segmented_before.discard)(ref)
            self._changed(ref)

    def clear_segmented_before(self) -> None:
        for ref in list(self._segmented_before):
            self.set_segmented_before(ref, False)

    def _reviewing(self, ref: FrameRef) -> bool:
        return ref in self._to_review and self.frames.status(ref) == FrameStatus.CORRECTED

    def _status_word(self, ref: FrameRef) -> str:
        if self._reviewing(ref):
            return TO_REVIEW_WORD
        status = self.frames.status(ref)
        if status == FrameStatus.NOT_SEGMENTED and ref in self._segmented_before:
            return SEGMENTED_BEFORE_WORD
        return status.value

    def note(self, ref: FrameRef, feature: str) -> str:
        return self._notes.get(ref, {}).get(feature, "")

    def clear_notes(self, feature: str) -> None:
        for ref in [ref for ref, notes in self._notes.items() if feature in notes]:
            self.set_note(ref, feature, "")

    def _notes_text(self, ref: FrameRef) -> str:
        notes = self._notes.get(ref, {})
        return " · ".join(notes[feature] for feature in
                          sorted(notes, key=self._note_places.__getitem__))

    def _on_thumbnail(self, ref: FrameRef, thumbnail: np.ndarray) -> None:
        self._pixmaps[ref] = QPixmap.fromImage(array_to_qimage(thumbnail))
        while len(self._pixmaps) > MAX_THUMBNAILS:
            old, _ = self._pixmaps.popitem(last=False)
            self._thumbnails.forget(old)
        self._changed(ref)

    def _changed(self, ref: FrameRef) -> None:
        row = self.frames.row_of(ref)
        if row is not None and row < self._shown:
            index = self.index(row)
            self.dataChanged.emit(index, index)


#: pixels the list keeps beside the thumbnails at the least, for "est. 91 % · propagated"
NAME_ROOM = 130
#: ms after the pointer leaves the list (no button held) before a sorted list that kept its
#: order under the pointer puts its rows in order again
RESORT_AFTER_LEAVING_MS = 250


class FrameListView(QListView):
    """Emits `rowChosen(row)` when the current row changes (click or keys). Rows in and out
    are frame rows, however the view is sorted.

    Sorted, the rows keep their order while the pointer is over the list: estimates arriving
    (Segment all) moved rows under it, so a click could take another frame than the one
    aimed at. Changes made meanwhile show in their rows, and the rows are put in order once
    the pointer has left (`RESORT_AFTER_LEAVING_MS`, no button held)."""

    rowChosen = Signal(int)

    def __init__(self, model: FrameListModel, parent=None) -> None:
        super().__init__(parent)
        self._sorted = SortedRows(model)
        self.setModel(self._sorted)
        self.setIconSize(QSize(THUMB_WIDTH, THUMB_HEIGHT))
        # a narrow window squeezes the canvas, not the names (a check saw thumbnails only,
        # kept so by the saved window state)
        self.setMinimumWidth(THUMB_WIDTH + NAME_ROOM)
        self.setUniformItemSizes(True)
        # Laid out in batches between events: in one pass, every change (a new current row
        # at each video frame, a status, a thumbnail) walked all rows of a 9,000-frame
        # video, ~17,000 model calls and 15 ms on the GUI thread; batched, 0.5 ms. A change
        # of a row's data now lays out no row (`dataChanged`), and a scroll past the first
        # batch lays out the rows the batches have not reached yet (`scrollTo`).
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.rowChosen.emit(self._sorted.mapToSource(
                current).row()) if current.isValid() else None)
        # sorted, a change (a save, a new estimate) may move the current row far away: it
        # stays in view if it was (a row the user scrolled away from stays out of it)
        self._current_in_view = False
        self._sorted.layoutAboutToBeChanged.connect(self._note_current_in_view)
        self._sorted.layoutChanged.connect(self._keep_current_in_view)
        self._holds: set[str] = set()  # why the rows keep their order now ("pointer", ...)
        self._leave_timer = QTimer(self)
        self._leave_timer.setSingleShot(True)
        self._leave_timer.setInterval(RESORT_AFTER_LEAVING_MS)
        self._leave_timer.timeout.connect(self._pointer_gone)
        #: while a button is held on the rows, scrolling waits for its release (the index and
        #: hint asked for last; None: none asked)
        self._pressed = False
        self._scroll_after: tuple | None = None

    def scrollTo(self, index, hint=QAbstractItemView.ScrollHint.EnsureVisible) -> None:
        """Show `index`; while a button is held on the rows, once it is released: a click on
        the half-shown last row scrolled it into view under the held button, and the release
        landed on the row below (a user's check: that row highlighted, the one clicked
        shown)."""
        if self._pressed and QApplication.mouseButtons() != Qt.MouseButton.NoButton:
            self._scroll_after = (QPersistentModelIndex(index), hint)
            return  # (a release never seen, a dialog in between, leaves no stuck list)
        self._lay_out_for(index)
        super().scrollTo(index, hint)

    def _lay_out_for(self, index) -> None:
        """Lay out now the rows the batches have not reached yet, unless `index` is among the
        first rows: until the last batch is done, the list scrolls only as far as the first
        batch let it (a user's End in a 2,000-image folder stopped at row ~190). A list
        opened at its first row is still laid out in batches."""
        count = self.model().rowCount()
        if index.row() >= self.batchSize() // 2 and \
                not self.visualRect(self.model().index(count - 1, 0)).isValid():
            self.setLayoutMode(QListView.LayoutMode.SinglePass)
            self.doItemsLayout()
            self.setLayoutMode(QListView.LayoutMode.Batched)

    def dataChanged(self, top, bottom, roles=()) -> None:
        """Rows whose data changed are drawn again. QListView lays out every row again
        as well, which a change cannot move (the rows all have one size): batched, from the
        first row, and a scroll meanwhile reached only the rows laid out."""
        QAbstractItemView.dataChanged(self, top, bottom, roles)

    def mousePressEvent(self, event) -> None:
        self._pressed = True
        super().mousePressEvent(event)

    def focusOutEvent(self, event) -> None:
        """A release never seen (a box opened under a held button) leaves nothing waiting."""
        if QApplication.mouseButtons() == Qt.MouseButton.NoButton:
            self._pressed = False
            self._scroll_after = None
        super().focusOutEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        if event.buttons() == Qt.MouseButton.NoButton:
            self._pressed = False
            pending, self._scroll_after = self._scroll_after, None
            if pending is not None and pending[0].isValid():
                index = QModelIndex(pending[0])
                self._lay_out_for(index)
                super().scrollTo(index, pending[1])

    def _note_current_in_view(self) -> None:
        current = self.currentIndex()
        self._current_in_view = current.isValid() and \
            self.visualRect(current).intersects(self.viewport().rect())

    def _keep_current_in_view(self) -> None:
        if self._current_in_view and self.currentIndex().isValid():
            self.scrollTo(self.currentIndex())

    def set_sort_key(self, key: SortKey | None) -> None:
        """Order the rows by `key(ref)`, smallest first (None: frame order); the order
        follows changes to the rows."""
        self._sorted.set_key(key)
        if key is not None:
            if self.underMouse():  # sorted by a key press with the pointer on the list
                self._hold("pointer")
        self.scrollTo(self.currentIndex())

    def key_changed(self, row: int) -> None:
        """Frame `row`'s sort key may have changed though its row's text did not (a new
        estimate with the same rounded note, or none shown): it is placed again."""
        self._sorted.key_changed(row)

    @contextmanager
    def keys_changing(self):
        """Within it, many rows' keys change at once (a levelling moves every estimate), some
        without their text: the rows are ordered once, after, not row by row among rows
        whose keys are stale."""
        self._hold("keys")
        try:
            yield
        finally:
            self._sorted.keys_changed()  # some without their row's text
            self._release("keys")

    def _hold(self, why: str) -> None:
        self._holds.add(why)
        self._sorted.hold(True)

    def _release(self, why: str) -> None:
        self._holds.discard(why)
        if not self._holds:
            self._sorted.hold(False)

    def enterEvent(self, event) -> None:
        self._leave_timer.stop()
        if self._sorted.key is not None:
            self._hold("pointer")
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:
        self._leave_timer.start()
        super().leaveEvent(event)

    def _pointer_gone(self) -> None:
        """The pointer left a while ago: the rows go in order, unless it came back or a
        button is still held (a drag of the scroll bar that went past the list)."""
        if self.underMouse():
            return
        if QApplication.mouseButtons() != Qt.MouseButton.NoButton:
            self._leave_timer.start()
            return
        self._release("pointer")

    @property
    def sorted(self) -> bool:
        return self._sorted.key is not None

    def frame_row(self, view_row: int) -> int:
        """The frame row shown at `view_row`."""
        self._sorted.sort_if_stale()
        return self._sorted.mapToSource(self._sorted.index(view_row, 0)).row()

    def view_row(self, row: int) -> int:
        """Where frame `row` is shown in the list (its row unless sorted)."""
        self._sorted.sort_if_stale()
        return self._sorted.mapFromSource(self._sorted.sourceModel().index(row, 0)).row()

    def neighbours(self, row: int) -> tuple[int | None, int | None]:
        """The frame rows shown just above and below frame `row` (None at an end)."""
        now = self.view_row(row)
        count = self._sorted.rowCount()
        return (self.frame_row(now - 1) if now > 0 else None,
                self.frame_row(now + 1) if now + 1 < count else None)

    def step_from(self, row: int, delta: int,
                  neighbours: tuple[int | None, int | None] | None = None) -> int:
        """The frame row `delta` (+1 or -1) rows from frame `row` as the list shows them
        (sorted or not); `row` itself at either end. `neighbours`: the frame rows shown above
        and below `row` when the user went to it (`neighbours`), given where an edit of the
        frame may have moved it since (sorted, a frame corrected goes after those still to
        correct): where it is no longer beside them, the step goes to the one below (D) or
        above (A), where the user was, wherever the re-sorting put it. Without them (rows
        moving around a frame not edited), the step is from where it is shown now (a
        user's check: A after other rows moved went down a row)."""
        now = self.view_row(row)
        if neighbours is not None and any(other is not None for other in neighbours):
            above, below = neighbours
            at = {other: self.view_row(other) for other in neighbours if other is not None}
            beside = (above is not None and at[above] == now - 1) or \
                (below is not None and at[below] == now + 1)
            if not beside:
                target = below if delta > 0 else above
                return row if target is None else target
        k = now + delta
        if not 0 <= k < self._sorted.rowCount():
            return row
        return self.frame_row(k)

    def end_row(self, last: bool) -> int | None:
        """The frame row shown first (`last`: last) in the list, sorted or not; None when
        the list is empty."""
        count = self._sorted.rowCount()
        return None if count == 0 else self.frame_row(count - 1 if last else 0)

    def select_row(self, row: int) -> None:
        """Make frame `row` current without emitting rowChosen again when it already is."""
        index = self._sorted.mapFromSource(self._sorted.sourceModel().index(row, 0))
        if index.isValid() and self.currentIndex() != index:
            self.setCurrentIndex(index)
        self.scrollTo(index)
