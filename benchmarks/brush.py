"""Time to apply and redraw one brush dab, through the window's own parts (offscreen Qt).

For each image size and zoom a labelled frame is shown on a 1280x800 canvas and a stroke of
dabs is drawn along a diagonal as the mouse would (editor press/move/release, the calls the
canvas makes). A dab is timed in two parts: "apply" is the editor's move (disc patch, mask
update, overlay rectangle recoloured and pasted); "redraw" repaints the part of the view the
dab dirtied (its segment and the moved brush outline), at once, as the next screen update
would. Also timed: the stroke's release (its patches merged into one undo step) and the
first dab on a frame that showed only the prediction (the mask starts as its copy).

    python benchmarks/brush.py [--dabs 200] [--brush 25]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from segnet_core.labels import camvid_label_set  # noqa: E402
from segnet_core.inference import Prediction  # noqa: E402

from app.canvas.view import CanvasView  # noqa: E402
from app.document import FrameDocument  # noqa: E402
from app.editing.editor import Editor  # noqa: E402
from app.editing.frame_labels import FrameLabels  # noqa: E402
from app.frame_display import FrameDisplay  # noqa: E402
from app.widgets.class_panel import ClassPanel  # noqa: E402

SIZES = ((480, 640), (3000, 4000))
LEFT = Qt.MouseButton.LeftButton


def scene(height: int, width: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    labels = np.kron(rng.integers(0, 11, (height // 40 + 1, width // 40 + 1)),
                     np.ones((40, 40), np.int64))[:height, :width].astype(np.uint8)
    confidence = np.full((height, width), 0.8, np.float32)
    return image, Prediction(labels, confidence)


def ms(seconds: list[float]) -> tuple[float, float]:
    values = sorted(s * 1000 for s in seconds)
    return statistics.median(values), values[min(len(values) - 1, int(0.95 * len(values)))]


def run(app: QApplication, height: int, width: int, zoom: str, dabs: int, brush: int) -> dict:
    label_set = camvid_label_set()
    canvas = CanvasView()
    canvas.resize(1280, 800)
    canvas.show()
    display = FrameDisplay(canvas, ClassPanel(), label_set)
    editor = Editor(canvas, label_set, brush)
    image, prediction = scene(height, width)
    labels = FrameLabels("frame", np.full((height, width), label_set.void_index, np.uint8),
                         from_file=False)
    document = FrameDocument("frame", image, prediction, labels)
    display.show(document)
    editor.set_document(document)
    if zoom == "1:1":
        canvas.zoom_by(1.0 / canvas.scale_factor)
    app.processEvents()

    centre = canvas.mapToScene(canvas.viewport().rect().center())
    start = time.perf_counter()
    editor.press(centre, LEFT)  # the first edit starts the mask from the prediction
    app.processEvents()
    first = time.perf_counter() - start
    editor.release(centre, LEFT)

    span = min(canvas.viewport().width(), canvas.viewport().height()) * 0.4 / canvas.scale_factor
    step = span / dabs
    x0, y0 = centre.x() - span / 2, centre.y() - span / 2
    apply_s, redraw_s = [], []
    editor.press(QPointF(x0, y0), LEFT)
    viewport = canvas.viewport()
    for i in range(1, dabs):
        point = QPointF(x0 + i * step, y0 + i * step * 0.7)
        before = editor.marks.brush_rect()
        t0 = time.perf_counter()
        editor.move(point, LEFT)
        t1 = time.perf_counter()
        # what the next screen update paints: the dab's segment and the moved outline
        dirty = canvas.mapFromScene(before.united(editor.marks.brush_rect())).boundingRect()
        viewport.repaint(dirty.adjusted(-3, -3, 3, 3))
        t2 = time.perf_counter()
        app.processEvents()
        apply_s.append(t1 - t0)
        redraw_s.append(t2 - t1)
    t0 = time.perf_counter()
    editor.release(QPointF(x0 + span, y0 + span * 0.7), LEFT)
    release = time.perf_counter() - t0
    assert labels.undo_stack.count() == 2
    canvas.close()
    total = [a + r for a, r in zip(apply_s, redraw_s)]
    return {"size": f"{width}x{height}", "zoom": zoom, "apply": ms(apply_s),
            "redraw": ms(redraw_s), "total": ms(total), "release": release * 1000,
            "first": first * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dabs", type=int, default=200)
    parser.add_argument("--brush", type=int, default=25, help="brush diameter in pixels")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    print(f"brush {args.brush} px, {args.dabs} dabs per stroke, canvas 1280x800, "
          f"median / 95th percentile in ms")
    print(f"{'image':>10} {'zoom':>5} {'apply':>12} {'redraw':>12} {'dab total':>12} "
          f"{'release':>8} {'first dab':>9}")
    for height, width in SIZES:
        for zoom in ("fit", "1:1"):
            r = run(app, height, width, zoom, args.dabs, args.brush)
            cells = " ".join(f"{m:5.2f} /{p:5.2f}"
                             for m, p in (r["apply"], r["redraw"], r["total"]))
            print(f"{r['size']:>10} {r['zoom']:>5} {cells} {r['release']:8.1f} {r['first']:9.1f}")


if __name__ == "__main__":
    main()
