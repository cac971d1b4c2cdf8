"""The frame list's rows as the view shows them: in frame order, or ordered by a key a
feature gives (`FrameListView.set_sort_key`), without calling back into Python for each
comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QAbstractProxyModel, QModelIndex, QTimer

from app.frames import FrameRef

if TYPE_CHECKING:
    from app.widgets.frame_list import FrameListModel

SortKey = Callable[[FrameRef], Any]  # values that compare with <


class SortedRows(QAbstractProxyModel):
    """The rows of a FrameListModel in frame order, or ordered by `key` (ties in frame
    order), kept in order as rows change and come, except while `held`.

    The order is a Python sort of the rows' keys, each asked for once until its row changes
    (or `key_changed` says so): a QSortFilterProxyModel calls back into Python for each of the
    ~120,000 comparisons of a 9,000-frame video's rows, 0.6-0.8 s of the GUI thread at each
    levelling of the estimates. Rows that change one by one (a new model clears every note,
    frames open with their masks) are put in order once, after the signals now queued, not
    once per row. The frame list only ever adds rows at its end and changes their data
    (frames do not close), which is all this follows."""

    def __init__(self, frames: FrameListModel) -> None:
        super().__init__(frames)
        self._key: SortKey | None = None
        self._keys: dict[int, Any] = {}  # source row -> its key, until the row changes
        self._order: list[int] = list(range(frames.rowCount()))  # row shown -> source row
        self._place: list[int] = list(self._order)  # source row -> row shown
        self._held = False
        self._stale = False  # a key changed since the rows were put in order
        self._sort_timer = QTimer(self)  # the rows in order once a burst of changes is in
        self._sort_timer.setSingleShot(True)
        self._sort_timer.setInterval(0)
        self._sort_timer.timeout.connect(self.sort_if_stale)
        self.setSourceModel(frames)
        frames.dataChanged.connect(self._on_data_changed)
        frames.rowsAboutToBeInserted.connect(self._before_insert)
        frames.rowsInserted.connect(self._after_insert)

    # ------------------------------------------------------------ order

    @property
    def key(self) -> SortKey | None:
        return self._key

    def set_key(self, key: SortKey | None) -> None:
        """Order by `key(ref)` now (None: frame order), held or not."""
        self._key = key
        self._keys.clear()
        self._sort()

    def hold(self, held: bool) -> None:
        """Held, changes show in their rows but move none; released, the rows go in order
        when a key changed meanwhile."""
        self._held = held
        if not held and self._stale:
            self._sort()

    def keys_changed(self) -> None:
        """Keys may have changed though no row did (a levelling of every estimate): asked
        for again, and the rows ordered by them (once released, when held)."""
        self._keys.clear()
        self._stale = True
        if not self._held:
            self._sort()

    def key_changed(self, row: int) -> None:
        """Row `row`'s key may have changed though its data did not (a new estimate rounding
        to the note shown)."""
        self._keys.pop(row, None)
        self._changed()

    def _changed(self) -> None:
        self._stale = True
        if not self._held:
            self._sort_timer.start()

    def sort_if_stale(self) -> None:
        """The rows in order now if a change put them out of it (unless held): what the
        view's frame_row / view_row read first, so no caller sees the order a burst of
        changes left before its sort came round."""
        if self._stale and not self._held:
            self._sort()

    def _key_of(self, row: int):
        key = self._keys.get(row)
        if key is None and self._key is not None:
            key = self._keys[row] = self._key(self.sourceModel().frames[row])
        return key

    def _sort(self) -> None:
        self._stale = False
        self._sort_timer.stop()
        rows = range(len(self._place))
        order = list(rows) if self._key is None else sorted(rows, key=self._key_of)
        if order == self._order:
            return
        self.layoutAboutToBeChanged.emit()
        kept = self.persistentIndexList()  # the current row, the selection
        sources = [self._order[index.row()] for index in kept]
        self._order = order
        for shown, row in enumerate(order):
            self._place[row] = shown
        self.changePersistentIndexList(kept, [self.index(self._place[row], 0)
                                              for row in sources])
        self.layoutChanged.emit()

    def _on_data_changed(self, top: QModelIndex, bottom: QModelIndex, roles=()) -> None:
        rows = range(top.row(), bottom.row() + 1)
        if len(rows) > 64:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._order) - 1, 0), roles)
        else:
            for row in rows:
                index = self.index(self._place[row], 0)
                self.dataChanged.emit(index, index, roles)
        if self._key is None:
            return
        moved = False
        for row in rows:  # a thumbnail or a note that moves nothing sorts nothing
            before = self._keys.pop(row, None)
            moved = moved or before is None or self._key_of(row) != before
        if moved:
            self._changed()

    def _before_insert(self, _parent: QModelIndex, first: int, last: int) -> None:
        self.beginInsertRows(QModelIndex(), len(self._order),
                             len(self._order) + last - first)

    def _after_insert(self, _parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):  # at the end, as the rows are
            self._place.append(len(self._order))
            self._order.append(row)
        self.endInsertRows()
        if self._key is not None:
            self._changed()

    # ------------------------------------------------------------ the model's face

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else 1

    def index(self, row: int, column: int = 0, parent: QModelIndex = QModelIndex()):
        if parent.isValid() or column != 0 or not 0 <= row < len(self._order):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, *index):
        """A list: no item has a parent (`parent()` without an index: the QObject's)."""
        return QModelIndex() if index else super().parent()

    def mapToSource(self, index: QModelIndex) -> QModelIndex:
        if not index.isValid() or index.row() >= len(self._order):
            return QModelIndex()
        return self.sourceModel().index(self._order[index.row()], 0)

    def mapFromSource(self, index: QModelIndex) -> QModelIndex:
        if not index.isValid() or index.row() >= len(self._place):
            return QModelIndex()
        return self.index(self._place[index.row()], 0)
