"""The frame list: a thumbnail, the name and the status of every open frame.

`FrameListModel` is the Qt face of `app.frames.FrameList`; thumbnails are asked for only
when a row is drawn, and made off the GUI thread by a ThumbnailLoader.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Iterable

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView

from segnet_core.masks.labels_folder import mask_name

from app.canvas.qimage import array_to_qimage
from app.frames import FrameList, FrameRef, FrameStatus, OpenReport
from app.workers.thumbnails import THUMB_HEIGHT, THUMB_WIDTH, ThumbnailLoader

MAX_THUMBNAILS = 2000  # 64x48 RGBA: 24 MiB at most

_STATUS_COLORS = {
    FrameStatus.NOT_SEGMENTED: None,
    FrameStatus.SEGMENTED: QColor(40, 140, 60),
    FrameStatus.CORRECTED: QColor(30, 90, 200),
    FrameStatus.UNSAVED: QColor(200, 120, 0),
    FrameStatus.UNREADABLE: QColor(190, 40, 40),
}


class FrameListModel(QAbstractListModel):
    """Rows of a FrameList. Change the list through this model so views follow."""

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
        thumbnails.thumbnailReady.connect(self._on_thumbnail)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._shown

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= self._shown:
            return None
        ref = self.frames[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{ref.name}\n{self.frames.status(ref).value}"
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
            return f"{where}\n{self.frames.status(ref).value}; mask labels/{mask}"
        if role == Qt.ItemDataRole.ForegroundRole:
            return _STATUS_COLORS[self.frames.status(ref)]
        return None

    def add_paths(self, paths: Iterable[str | Path]) -> OpenReport:
        report = self.frames.add_paths(paths)
        if len(self.frames) > self._shown:
            self.beginInsertRows(QModelIndex(), self._shown, len(self.frames) - 1)
            self._shown = len(self.frames)
            self.endInsertRows()
        return report

    def set_status(self, ref: FrameRef, status: FrameStatus) -> None:
        if self.frames.set_status(ref, status):
            self._changed(ref)

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


class FrameListView(QListView):
    """Emits `rowChosen(row)` when the current row changes (click or keys)."""

    rowChosen = Signal(int)

    def __init__(self, model: FrameListModel, parent=None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setIconSize(QSize(THUMB_WIDTH, THUMB_HEIGHT))
        self.setUniformItemSizes(True)
        # Laid out in batches between events: in one pass, every change (a new current row
        # at each video frame, a status, a thumbnail) walked all rows of a 9,000-frame
        # video, ~17,000 model calls and 15 ms on the GUI thread; batched, 0.5 ms.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.rowChosen.emit(current.row())
            if current.isValid() else None)

    def select_row(self, row: int) -> None:
        """Make `row` current without emitting rowChosen again when it already is."""
        index = self.model().index(row, 0)
        if index.isValid() and self.currentIndex().row() != row:
            self.setCurrentIndex(index)
        self.scrollTo(index)
