"""The frame list sorted by estimate: what ordering its rows costs the GUI thread, with the
list's own proxy (`_SortedRows`: one Python sort of keys asked for once per row) against a
QSortFilterProxyModel with the same key (Qt's sort, which calls back into Python for every
comparison; the list used it before), side by side in one process on the same rows.

    python benchmarks/frame_list_sort.py [--rows 300 2000 9000] [--repeats 3]

For each size, a video of that many frames is opened (tiny frames: only the rows matter) and,
for both proxies, four things are timed (best of `--repeats`): the first sort, a levelling
(every row's key moves and its note is rewritten, then the rows are ordered once), one row's
key moving (a new estimate arriving) and every row's note cleared one by one with its key
moving (a new model loaded: no levelling brackets it). Prints a table and the ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.frames import FrameList  # noqa: E402
from app.widgets.frame_list import FrameListModel, FrameListView  # noqa: E402
from app.workers.thumbnails import ThumbnailLoader  # noqa: E402


class QtSorted(QSortFilterProxyModel):
    """The list's proxy before: Qt's sort, the key asked for in each comparison."""

    def __init__(self, frames: FrameListModel, key) -> None:
        super().__init__(frames)
        self.key = key
        self.setSourceModel(frames)

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        frames = self.sourceModel().frames
        return (self.key(frames[left.row()]), left.row()) < \
            (self.key(frames[right.row()]), right.row())


def write_video(path: Path, frames: int) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (16, 16))
    for i in range(frames):
        writer.write(np.full((16, 16, 3), i % 255, np.uint8))
    writer.release()


class Ours:
    name = "the list's proxy"

    def __init__(self, model, key) -> None:
        self.view = FrameListView(model)
        self.key = key

    def first_sort(self) -> None:
        self.view.set_sort_key(self.key)

    @contextmanager
    def levelling(self):
        with self.view.keys_changing():
            yield


class Before:
    name = "QSortFilterProxyModel"

    def __init__(self, model, key) -> None:
        self.proxy = QtSorted(model, key)
        self.view = FrameListView(model)  # the list's view (batched layout), on this proxy
        self.view.setModel(self.proxy)

    def first_sort(self) -> None:
        self.proxy.sort(-1)
        self.proxy.sort(0)

    @contextmanager
    def levelling(self):  # what `keys_changing` did with it
        self.proxy.setDynamicSortFilter(False)
        try:
            yield
        finally:
            self.proxy.setDynamicSortFilter(True)
            self.proxy.invalidate()


def timed(app, action) -> float:
    start = time.perf_counter()
    action()
    app.processEvents()
    return time.perf_counter() - start


def measure(app, kind, rows: int, folder: Path, rng) -> dict[str, float]:
    path = folder / f"clip{rows}.avi"
    if not path.exists():
        write_video(path, rows)
    model = FrameListModel(FrameList(), ThumbnailLoader())
    model.add_paths([path])
    keys = {ref: (0, float(rng.random())) for ref in model.frames}
    side = kind(model, keys.__getitem__)
    side.view.resize(220, 600)
    side.view.show()
    app.processEvents()
    times = {"first sort": timed(app, side.first_sort)}

    def level() -> None:
        with side.levelling():
            for ref in model.frames:
                keys[ref] = (0, float(rng.random()))
                model.set_note(ref, "estimate", f"est. {100 * keys[ref][1]:.0f} %")

    times["levelling"] = timed(app, level)
    one = model.frames[rows // 2]

    def arrive() -> None:
        keys[one] = (0, float(rng.random()))
        model.set_note(one, "estimate", f"new {rng.random():.6f}")

    times["one estimate"] = timed(app, arrive)

    def new_model() -> None:
        for ref in model.frames:
            keys[ref] = (2, 2.0)
            model.set_note(ref, "estimate", "")

    times["notes cleared"] = timed(app, new_model)
    side.view.close()
    side.view.deleteLater()
    app.processEvents()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[300, 2000, 9000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    print(f"{'rows':>6} {'step':<13} {'QSortFilterProxyModel':>22} {'the list now':>13} "
          f"{'ratio':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            best: dict[str, dict[str, float]] = {Before.name: {}, Ours.name: {}}
            for _ in range(args.repeats):
                for kind in (Before, Ours):  # in turns: a busy moment hits both
                    for step, seconds in measure(app, kind, rows, Path(folder), rng).items():
                        best[kind.name][step] = min(seconds, best[kind.name].get(step, 1e9))
            for step in best[Ours.name]:
                before, now = best[Before.name][step], best[Ours.name][step]
                print(f"{rows:>6} {step:<13} {1000 * before:>19.1f} ms {1000 * now:>10.1f} ms "
                      f"{before / max(now, 1e-9):>5.1f}x")


if __name__ == "__main__":
    main()
