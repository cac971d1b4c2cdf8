"""The window, driven as a user would: open, segment in the background, look, switch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.frames import FrameStatus
from app.widgets.class_panel import SOLO, VISIBLE
from segnet_core.labels import LabelSet
from segnet_core.io.images import read_image
from segnet_core.inference import Predictor

from tests.app.conftest import LABELS, scene_image, settle, write_png

RESULT_TIMEOUT = 60000


@pytest.fixture(scope="module")
def reference(tiny_checkpoint):
    """The prediction a frame should get, computed here with the same kind of Predictor."""
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu", precision="fp32")
    return lambda path: predictor.predict(read_image(path))


def open_and_wait(qtbot, window, paths):
    with qtbot.waitSignal(window.display.overlayDrawn, timeout=RESULT_TIMEOUT):
        window.open_paths(paths)


def test_open_folder_skips_corrupt_file_and_draws_the_frames_prediction(
        qtbot, make_window, image_folder, reference):
    window = make_window()
    assert window.display.label_set == LABELS  # followed the model, away from CamVid
    assert "follow" in window.statusBar().currentMessage()
    assert window.class_panel.rowCount() == 3

    open_and_wait(qtbot, window, [image_folder])
    assert [ref.path.name for ref in window.frames] == ["a.png", "b.png", "c.png", "d.png"]
    problems = window.problems.entries()
    assert any(e.startswith("broken.png: not a readable image") for e in problems)
    assert window.problems.isVisible()

    expected = reference(image_folder / "a.png")
    assert window.current_key.path.name == "a.png"
    drawn = window.display.overlay_rgba
    assert (drawn[..., :3] == LABELS.colorize(expected.labels)).all()
    assert (drawn[..., 3] == 255).all()
    assert len(np.unique(expected.labels)) >= 2  # the checks below need more than one class
    assert window.frames.status(window.current_key) == FrameStatus.SEGMENTED
    assert window.status.timing.text().endswith(" ms")
    assert window.status.device.text() == "CPU"  # short: messages need the room (a
    assert window.status.device.toolTip().startswith("CPU (")  # user's check), details here
    assert window.status.precision.text() == "fp32"
    shares = window.display.shares
    assert shares.sum() == pytest.approx(1.0)
    assert window.class_panel.item(0, 1).text() == f"{100 * shares[0]:.1f} %"


def test_problems_about_files_of_one_name_in_two_folders_name_their_folders(
        qtbot, make_window, image_folder):
    """Two drives' folders each hold a broken.png (a user's check: frames of one name in
    several folders read alike in the dock): both lines name the folder too, the first
    renamed when the second comes; a file whose name is unique keeps the short form."""
    window = make_window(model=None)
    window.open_paths([image_folder])
    assert "broken.png: not a readable image" in " ".join(window.problems.entries())
    other = image_folder.parent / "drive_b"
    other.mkdir()
    (other / "broken.png").write_bytes((image_folder / "broken.png").read_bytes())
    (other / "only_here.png").write_bytes(b"not a png either")
    window.open_paths([other])
    lines = window.problems.entries()
    assert sum(line.startswith("images/broken.png: not a readable image") for line in lines) == 1
    assert sum(line.startswith("drive_b/broken.png: not a readable image") for line in lines) == 1
    assert any(line.startswith("only_here.png: ") for line in lines)
    assert not any(line.startswith("broken.png") for line in lines)


def test_a_problem_with_a_file_read_after_all_since_stays_in_the_log_marked_resolved(
        qtbot, make_window, image_folder):
    """b.png damaged after opening: clicking its row says so in Problems; mended and clicked
    again, the line stays (a log) but ends "(readable again)"; broken.png's does not."""
    window = make_window()
    open_and_wait(qtbot, window, [image_folder])
    good = (image_folder / "b.png").read_bytes()
    (image_folder / "b.png").write_bytes(b"damaged")
    view = window.frame_view

    def click(row):
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.visualRect(view.model().index(row, 0)).center())

    click(1)
    qtbot.waitUntil(lambda: any(e.startswith("b.png: ") for e in window.problems.entries()),
                    timeout=5000)
    assert window.canvas.placeholder.startswith("b.png cannot be read: ")  # on the canvas too
    assert str(image_folder / "b.png") in window.canvas.placeholder
    (image_folder.parent / "empty").mkdir()
    window.open_paths([image_folder.parent / "empty"])  # nothing new: b.png still shown
    assert window.canvas.placeholder.startswith("b.png cannot be read: ")
    window.problems.add(image_folder / "b.png", "not exported: a test's other line")
    (image_folder / "b.png").write_bytes(good)
    click(0)
    qtbot.waitUntil(lambda: window.display.document is not None
                    and window.display.document.key == window.frames[0], timeout=5000)
    assert window.canvas.placeholder == ""
    click(1)
    qtbot.waitUntil(lambda: window.display.document is not None
                    and window.display.document.key == window.frames[1], timeout=5000)
    lines = window.problems.entries()
    assert [e.endswith("(readable again)") for e in lines if e.startswith("b.png: ")] == [
        True, False]  # only the line saying it cannot be read
    assert not any(e.endswith("(readable again)") for e in lines if e.startswith("broken.png"))


def test_switching_quickly_runs_only_the_newest_request_and_draws_no_stale_result(
        qtbot, make_window, image_folder, reference):
    window = make_window()
    open_and_wait(qtbot, window, [image_folder])
    started, drawn = [], []
    window.worker.requestStarted.connect(started.append)
    window.display.overlayDrawn.connect(drawn.append)

    busy = scene_image(9, 1080, 1440)  # keeps the worker busy while the user moves on
    window.worker.request("busy", busy)
    qtbot.waitUntil(lambda: "busy" in started, timeout=RESULT_TIMEOUT)
    for row in (1, 2, 3):  # b, c, then d: the user stops at d
        window.show_row(row)
    last = window.frames[3]
    qtbot.waitUntil(lambda: last in drawn, timeout=RESULT_TIMEOUT)
    settle(window.loader.tasks, window.worker.tasks)  # all asked for has run and arrived

    assert started == ["busy", last]  # b and c were dropped before they ran
    assert drawn == [last]  # the busy result was cached, never drawn over d
    assert "busy" in window.cache
    expected = reference(image_folder / "d.png")
    assert (window.display.overlay_rgba[..., :3] == LABELS.colorize(expected.labels)).all()
    for row in (1, 2):
        assert window.frames.status(window.frames[row]) == FrameStatus.NOT_SEGMENTED


def test_hiding_a_class_and_solo_change_the_overlay(qtbot, make_window, image_folder, reference):
    window = make_window()
    open_and_wait(qtbot, window, [image_folder])
    labels = reference(image_folder / "a.png").labels
    common = int(np.bincount(labels.ravel()).argmax())
    panel = window.class_panel

    panel.set_visible(common, False)
    alpha = window.display.overlay_rgba[..., 3]
    assert (alpha == np.where(labels == common, 0, 255)).all()

    other = next(c for c in np.unique(labels) if c != common)
    panel.set_solo(int(other))
    assert panel.solo() == other
    alpha = window.display.overlay_rgba[..., 3]
    assert (alpha == np.where(labels == other, 255, 0)).all()

    panel.set_solo(-1)
    alpha = window.display.overlay_rgba[..., 3]
    assert (alpha == np.where(labels == common, 0, 255)).all()

    window.actions.confidence.trigger()  # the heat map covers every pixel
    assert (window.display.overlay_rgba[..., 3] == 255).all()
    window.actions.confidence.trigger()
    window.actions.overlay.trigger()
    assert not window.canvas._overlay_item.isVisible()


def test_solo_greys_the_show_boxes_and_gives_them_back(qtbot, make_window, image_folder):
    """A user took the Show boxes, all ticked under Solo, for classes shown: they grey while
    a class is soloed, take no click, and come back as they were."""
    window = make_window()
    open_and_wait(qtbot, window, [image_folder])
    panel = window.class_panel
    window.show()
    panel.set_visible(2, False)

    def click_box(row, column):
        rect = panel.visualItemRect(panel.item(row, column))
        QTest.mouseClick(panel.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPointF(rect.left() + 10, rect.center().y()).toPoint())

    def enabled(row):
        return bool(panel.item(row, VISIBLE).flags() & Qt.ItemFlag.ItemIsEnabled)

    click_box(1, SOLO)
    assert panel.solo() == 1
    assert not any(enabled(row) for row in range(3))
    assert panel.item(0, VISIBLE).toolTip().startswith(f"Solo shows {LABELS.names[1]} only")
    click_box(0, VISIBLE)  # greyed: the click changes nothing
    assert panel.visible() == [True, True, False]
    click_box(1, SOLO)
    assert panel.solo() == -1
    assert all(enabled(row) for row in range(3)) and panel.item(0, VISIBLE).toolTip() == ""
    assert panel.visible() == [True, True, False]  # as they were before Solo
    click_box(0, VISIBLE)
    assert panel.visible() == [False, True, False]


def test_segment_all_reaches_the_end_and_cancel_stops_it(qtbot, make_window, image_folder,
                                                         tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, [image_folder])
    progress = []
    window.worker.progress.connect(lambda done, total: progress.append((done, total)))
    # a long read-out of the pointer beside it leaves the progress's text whole (a user's
    # check saw "Segmenting 31 / 43" wrapped and clipped)
    window.status.set_readout("x 373, y 282: Pavement (label); model: Road, confidence 100 %")
    with qtbot.waitSignal(window.batchFinished, timeout=RESULT_TIMEOUT) as finished:
        QTest.keyClick(window, Qt.Key.Key_A,  # Segment > Segment all
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        assert window.status.progress.isVisibleTo(window)
        bar = window.status.progress
        bar.setFormat("Segmenting 9999 / 9999")
        window.resize(700, window.height())  # a narrow window: the read-out takes the room
        QApplication.processEvents()
        assert bar.width() >= bar.fontMetrics().horizontalAdvance(bar.text())
    assert finished.args == [3, 3, False]  # a.png was segmented when shown
    assert progress[-1] == (3, 3)
    assert all(window.frames.status(ref) == FrameStatus.SEGMENTED for ref in window.frames)
    assert not window.status.progress.isVisibleTo(window)

    more = tmp_path / "more"
    more.mkdir()
    for i in range(6):
        write_png(more / f"m{i}.png", scene_image(20 + i))
    open_and_wait(qtbot, window, [more])
    with qtbot.waitSignal(window.batchFinished, timeout=RESULT_TIMEOUT) as finished:
        window.segment_all()
        window.status.cancel.click()
    done, total, cancelled = finished.args
    done, total, cancelled = finished.args
    assert "Cancelled" in window.statusBar().currentMessage()


def test_readout_names_class_and_confidence_under_the_cursor(qtbot, make_window, image_folder,
                                                             reference):
    window = make_window()
    open_and_wait(qtbot, window, [image_folder])
    expected = reference(image_folder / "a.png")
    x, y = 40, 30
    name = LABELS.names[expected.labels[y, x]]
    percent = f"{100 * expected.confidence[y, x]:.0f} %"
    point = window.canvas.mapFromScene(QPointF(x + 0.5, y + 0.5))
    QTest.mouseMove(window.canvas.viewport(), point)
    qtbot.waitUntil(lambda: window.status.readout.text() != "", timeout=2000)
    assert window.status.readout.text() == f"x {x}, y {y}: {name}, confidence {percent}"


def test_the_readout_follows_an_undo_and_another_frame_under_a_still_pointer(
        qtbot, make_window, image_folder):
    """A user's check: the status bar kept "Bicyclist (label)" for a frame with no mask, and
    for a pixel an undo had taken the label off, until the mouse moved."""
    from tests.app.editing_helpers import drag, key, open_folder

    CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier

    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    key(window, Qt.Key.Key_3)
    x, y = 40, 30
    drag(window, [(x - 10, y), (x, y)])  # the pointer stays on (x, y)
    name = window.display.label_set.names[2]  # key 3: the third class
    assert window.status.readout.text() == f"x {x}, y {y}: {name} (label)"
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    r, g, b = (int(v) for v in read_image(image_folder / "a.png")[y, x])
    assert window.status.readout.text() == f"x {x}, y {y}: RGB {r} {g} {b}"
    # the "Undone: ..." message hides the read-out a short while only (a user's check: 8 s)
    assert window.statusBar().currentMessage().startswith("Undone: ")
    assert not window.status.readout.isVisible()
    qtbot.waitUntil(window.status.readout.isVisible, timeout=5000)
    key(window, Qt.Key.Key_Z, CTRL_SHIFT)  # redo
    assert window.status.readout.text() == f"x {x}, y {y}: {name} (label)"
    with qtbot.waitSignal(window.display.documentShown, timeout=RESULT_TIMEOUT):
        key(window, Qt.Key.Key_Right)  # the next frame, b.png: no labels
    r, g, b = (int(v) for v in read_image(image_folder / "b.png")[y, x])
    assert window.status.readout.text() == f"x {x}, y {y}: RGB {r} {g} {b}"


def test_the_readout_follows_a_still_pointer_onto_a_frame_of_another_size(
        qtbot, make_window, tmp_path):
    """A user's check: the pointer still on the canvas, D from a 320x240 frame to a 480x1280
    portrait one kept "x 13, y 19" (read from the new frame), though the canvas fits each
    frame its own way: another pixel was under the pointer, or none."""
    import math

    from tests.app.editing_helpers import at, key, open_folder

    folder = tmp_path / "sizes"
    folder.mkdir()
    write_png(folder / "a.png", scene_image(0, 240, 320))
    write_png(folder / "b.png", scene_image(1, 1280, 480))
    window = make_window(model=None)
    open_folder(qtbot, window, folder, model=False)
    viewport = window.canvas.viewport()

    def reads(name: str, point) -> str:
        """What the read-out says with the pointer at `point` over frame `name`."""
        scene = window.canvas.mapToScene(point)
        x, y = math.floor(scene.x()), math.floor(scene.y())
        image = read_image(folder / name)
        if not (0 <= x < image.shape[1] and 0 <= y < image.shape[0]):
            return ""
        r, g, b = (int(v) for v in image[y, x])
        return f"x {x}, y {y}: RGB {r} {g} {b}"

    for x, y, shown in ((160, 120, True), (4, 120, False)):  # mid-frame; beside the portrait
        point = at(window, x, y)
        QTest.mouseMove(viewport, point)
        assert window.status.readout.text() == reads("a.png", point)
        assert reads("a.png", point).startswith(f"x {x}, y {y}: ")
        with qtbot.waitSignal(window.display.documentShown, timeout=RESULT_TIMEOUT):
            key(window, Qt.Key.Key_D)  # the next frame, b.png
        assert window.display.current_key == window.frames[1]
        assert (reads("b.png", point) != "") == shown
        assert window.status.readout.text() == reads("b.png", point)
        with qtbot.waitSignal(window.display.documentShown, timeout=RESULT_TIMEOUT):
            key(window, Qt.Key.Key_A)  # back to a.png, the pointer still
        assert window.status.readout.text() == reads("a.png", point)


def test_painting_with_a_hidden_class_says_it_does_not_show(qtbot, make_window, image_folder):
    """A user's check: with Building's Show box unticked, a Building stroke showed nothing and
    nothing said why."""
    from tests.app.editing_helpers import drag, key, open_folder

    window = make_window(model=None)
    open_folder(qtbot, window, image_folder, model=False)
    names = window.display.label_set.names
    key(window, Qt.Key.Key_2)  # paint with the second class
    window.class_panel.set_visible(1, False)  # its Show box unticked
    drag(window, [(5, 5), (30, 5)])
    assert window.statusBar().currentMessage() == (
        f"Painting {names[1]}, hidden: its Show box is unticked (Classes panel): what you "
        "paint does not show")
    window.class_panel.set_visible(1, True)
    window.class_panel.set_solo(3)
    drag(window, [(5, 15), (30, 15)])
    assert window.statusBar().currentMessage() == (
        f"Painting {names[1]}, hidden: Solo shows {names[3]} only (Classes panel): what you "
        "paint does not show")
    window.class_panel.set_solo(-1)
    window.statusBar().clearMessage()
    drag(window, [(5, 25), (30, 25)])  # shown: nothing to say
    assert "does not show" not in window.statusBar().currentMessage()


def test_a_model_that_cannot_load_is_reported(qtbot, make_window, tmp_path):
    window = make_window(model=None)
    assert window.status.model.text() == "no model"
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"nothing")
    window.load_model(bogus)
    qtbot.waitUntil(lambda: len(window.problems.entries()) > 0, timeout=RESULT_TIMEOUT)
    assert any("model not loaded" in e and "bogus.pt" in e for e in window.problems.entries())
    assert window.display.label_set.num_classes == 11  # still CamVid's


def test_loading_another_model_segments_the_frame_again(qtbot, make_window, image_folder,
                                                        tiny_checkpoint):
    window = make_window()
    open_and_wait(qtbot, window, [image_folder])
    with qtbot.waitSignal(window.display.overlayDrawn, timeout=RESULT_TIMEOUT):
        window.load_model(tiny_checkpoint)
    assert window.current_key in window.cache
    assert isinstance(window.display.label_set, LabelSet)


def test_the_frame_on_screen_goes_before_the_rest_of_segment_all(qtbot, make_window, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(8):
        write_png(folder / f"f{i}.png", scene_image(40 + i))
    window = make_window()
    open_and_wait(qtbot, window, [folder])
    progress, started, results = [], [], []
    window.worker.progress.connect(lambda done, total: progress.append(done))
    window.worker.requestStarted.connect(started.append)
    window.worker.resultReady.connect(lambda key, *_: results.append(key))
    last = window.frames[7]
    with qtbot.waitSignal(window.batchFinished, timeout=RESULT_TIMEOUT) as finished:
        window.segment_all()  # f1 .. f7
        with qtbot.waitSignal(window.display.overlayDrawn, timeout=RESULT_TIMEOUT):
            window.show_row(7)
        assert window.current_key == last
        frames_done_when_drawn = len(progress)
    assert frames_done_when_drawn <= 3 < 7  # it did not wait for the batch
    assert started == [last] and results.count(last) == 1  # not segmented twice
    assert len(results) == 7
    assert finished.args == [7, 7, False]
    assert all(window.frames.status(ref) == FrameStatus.SEGMENTED for ref in window.frames)


def test_the_cache_holds_labels_and_half_precision_confidence(qtbot, make_window,
                                                              image_folder, reference):
    window = make_window()
    open_and_wait(qtbot, window, [image_folder])
    held = window.cache.get(window.current_key)
    expected = reference(image_folder / "a.png")
    assert held.labels.dtype == np.uint8 and held.confidence.dtype == np.float16
    assert np.array_equal(held.labels, expected.labels)
    assert np.allclose(held.confidence, expected.confidence, atol=1e-3)
    assert window.cache.bytes_used == 3 * held.labels.size  # 1 + 2 bytes a pixel


def test_objects_alive_when_a_model_loads_are_kept_out_of_full_collections(qtbot, make_window):
    import gc

    gc.unfreeze()
    window = make_window()  # waits for modelReady
    frozen = gc.get_freeze_count()
    assert frozen > 10000  # torch, the Qt bindings, the window: all out of the collector's way
    assert not any(o is window for o in gc.get_objects())  # not walked any more
    gc.unfreeze()


def test_thumbnails_kept_are_bounded_and_an_evicted_one_comes_back(
        qtbot, make_window, image_folder, monkeypatch):
    import app.widgets.frame_list as frame_list

    monkeypatch.setattr(frame_list, "MAX_THUMBNAILS", 2)
    window = make_window()
    open_and_wait(qtbot, window, [image_folder])
    model = window.frames_model
    decoration = Qt.ItemDataRole.DecorationRole
    rows = [model.index(row, 0) for row in range(4)]  # a.png .. d.png
    made = []
    window.thumbnails.thumbnailReady.connect(lambda ref, _: made.append(ref))
    for index in rows:
        model.data(index, decoration)
        qtbot.waitUntil(lambda: model.frames[index.row()] in model._pixmaps, timeout=10000)
    assert len(model._pixmaps) == 2 and model.frames[3] in model._pixmaps  # the last made
    model.data(rows[0], decoration)  # drawn again: asked for again, and made again
    qtbot.waitUntil(lambda: model.frames[0] in model._pixmaps, timeout=10000)
    assert made.count(model.frames[0]) >= 2 and len(model._pixmaps) == 2


@pytest.fixture
def fine_tuned_projects(tiny_checkpoint, tmp_path):
    """Three folders: "street", fine-tuned on with its fine-tuned v002 made current (the
    user's "Use this model"); "untouched", fine-tuned on but v001 still current (the model
    the first fine-tune started from, which nobody chose there); "plain", never fine-tuned
    on. Returns them and street's current version."""
    from dataclasses import replace
    from segnet_core.checkpoint import load_checkpoint
    from segnet_core.finetune import ModelVersions

    base = load_checkpoint(tiny_checkpoint)
    fine_tuned = replace(base, training={**base.training, "fine_tune": {
        "recipe": {"epochs": 1}, "frames": {"train": ["a.png"], "held_out": []}}})

    def project(name: str, tuned: bool) -> tuple:
        folder = tmp_path / name
        folder.mkdir()
        write_png(folder / "x.png", scene_image(len(name)))
        versions = ModelVersions(folder / "labels" / "models")
        versions.save(base, make_current=True)  # v001, as the first fine-tune keeps it
        version = versions.save(fine_tuned)  # v002
        if tuned:
            versions.set_current(version.id)  # "Use this model"
        return folder, version

    street, tuned = project("street", tuned=True)
    untouched, _ = project("untouched", tuned=False)
    plain = tmp_path / "plain"
    plain.mkdir()
    write_png(plain / "x.png", scene_image(7))
    return street, tuned, untouched, plain


@pytest.fixture
def start_window(qtbot):
    """A window started on `model` as `app.main_window.run` starts it, and the loads it asks
    of its worker from then on."""
    from app.editing.saving import CloseAnswer
    from app.main_window import MainWindow

    def start(model, model_chosen: bool, wait: bool = True):
        window = MainWindow(model, device="cpu", precision="fp32", model_chosen=model_chosen)
        window.editing.saving.ask_unsaved = lambda count, failed=(): CloseAnswer.DISCARD
        qtbot.addWidget(window)
        if wait:
            with qtbot.waitSignal(window.modelReady, timeout=RESULT_TIMEOUT):
                window.show()
        else:  # the failure may come before a wait on the worker's signal could begin
            window.show()
            qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(
                "Model not loaded"), timeout=RESULT_TIMEOUT)
        loads = []
        load = window.worker.load_model
        window.worker.load_model = lambda path: (loads.append(Path(path)), load(path))
        return window, loads

    return start


def test_a_project_opened_brings_its_current_fine_tuned_model_unless_one_was_chosen(
        qtbot, tiny_checkpoint, fine_tuned_projects, start_window):
    """A folder fine-tuned on keeps its models in labels/models/, one current (the user's
    "Use this model"). Opened into an empty window started on the default model, that
    version segments it. A model the user named or loaded stays; so does the model of frames
    already open; a folder without models, or whose current version is only the model the
    first fine-tune started from (v001), changes nothing; a version that will not load is
    said so, and the model stays."""
    street, tuned, untouched, plain = fine_tuned_projects
    for folder in (plain, untouched):
        window, loads = start_window(tiny_checkpoint, model_chosen=False)
        open_and_wait(qtbot, window, [folder])
        assert loads == [], folder.name  # nothing there to follow
        window.close()

    window, loads = start_window(tiny_checkpoint, model_chosen=False)
    with qtbot.waitSignal(window.modelReady, timeout=RESULT_TIMEOUT):
        window.open_paths([street])
    assert loads == [tuned.path] and window.model_info.path == str(tuned.path)
    assert window.statusBar().currentMessage().startswith(
        "Segmenting with the fine-tuned model v002 of street, its current version")
    qtbot.waitUntil(lambda: window.current_key in window.cache, timeout=RESULT_TIMEOUT)
    window.open_paths([plain])  # beside it: the model stays, said (a user's check: only
    message = window.statusBar().currentMessage()  # "Opened 1 frame(s)")
    assert loads == [tuned.path] and message.startswith("Opened 1 frame(s)")  # kept, then
    assert message.endswith(". Segmented with v002.pt, the fine-tuned model of another "
                            "project open (File > Models to choose another)")
    window.open_paths([plain / "gone.png"])  # nothing opened: nothing said of the model
    assert "another project" not in window.statusBar().currentMessage()
    window.close()

    window, loads = start_window(tiny_checkpoint, model_chosen=False)  # frames open: no swap
    open_and_wait(qtbot, window, [plain])
    open_and_wait(qtbot, window, [street])
    assert loads == []
    window.close()

    window, loads = start_window(tiny_checkpoint, model_chosen=True)  # --model, or the env
    open_and_wait(qtbot, window, [street])
    assert loads == []
    window.close()

    tuned.path.unlink()  # the version's file is gone
    window, loads = start_window(tiny_checkpoint, model_chosen=False)
    with qtbot.waitSignal(window.worker.modelFailed, timeout=RESULT_TIMEOUT):
        window.open_paths([street])
    qtbot.waitUntil(lambda: "could not be loaded" in window.statusBar().currentMessage(),
                    timeout=5000)
    assert window.statusBar().currentMessage().startswith(
        "The fine-tuned model v002 of street could not be loaded")
    assert window.model_info.path == str(tiny_checkpoint)  # the model stays
    window.close()

    index = street / "labels" / "models" / "index.json"
    index.write_text("{ damaged")  # the versions index will not read: said, model stays
    window, loads = start_window(tiny_checkpoint, model_chosen=False)
    open_and_wait(qtbot, window, [street])
    assert loads == [] and window.model_info.path == str(tiny_checkpoint)
    assert any(entry.startswith("index.json: unreadable model index")
               for entry in window.problems.entries()), window.problems.entries()
    assert window.statusBar().currentMessage() == ("The fine-tuned models of street cannot be "
                                                   "read (View > Problems); segmenting with "
                                                   "tiny.pt")


def test_frames_of_several_projects_opened_together_keep_the_model_as_rank_does(
        qtbot, tiny_checkpoint, fine_tuned_projects, start_window):
    """A user's check: the window segmented a folder never fine-tuned on with another
    folder's fine-tuned model, because that folder was opened with it ("the first input with
    one"), where `segnet-studio rank` on the same inputs used the shipped model and said
    why. One rule now (`project_to_follow`), said in the window too."""
    from segnet_core.finetune import project_to_follow

    street, tuned, _untouched, plain = fine_tuned_projects
    assert project_to_follow([street])[0].version.path == tuned.path
    assert project_to_follow([plain, street]) == (
        None, "the inputs are in 2 projects, and street has a fine-tuned model")
    window, loads = start_window(tiny_checkpoint, model_chosen=False)
    open_and_wait(qtbot, window, [plain, street])
    assert loads == [] and window.model_info.path == str(tiny_checkpoint)
    assert window.statusBar().currentMessage() == (
        "Segmenting with tiny.pt: the inputs are in 2 projects, and street has a fine-tuned "
        "model, meant for its own frames (File > Models to choose it)")


CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.mark.parametrize("keys", [
    (Qt.Key.Key_A, CTRL_SHIFT),  # Segment all
    (Qt.Key.Key_N, Qt.KeyboardModifier.NoModifier),  # Next suggested frame
    (Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier),  # Save
    (Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier),  # Accept prediction
    (Qt.Key.Key_Right, CTRL_SHIFT),  # Propagate labels
    (Qt.Key.Key_Return, CTRL_SHIFT),  # Accept propagated labels
    (Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier),  # Flag frame to correct first
])
def test_keys_pressed_in_the_empty_window_say_to_open_something_first(qtbot, make_window, keys):
    """A user's check: in the empty window Ctrl+Shift+A said "Every frame is segmented
    already", Ctrl+S "paint, or accept the prediction first"."""
    from app.context import NOTHING_OPEN
    from tests.app.editing_helpers import key

    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    key(window, *keys)
    assert window.statusBar().currentMessage() == NOTHING_OPEN


def test_what_was_opened_at_start_stays_said_once_the_model_has_loaded(
        qtbot, tiny_checkpoint, make_window, tmp_path):
    """A user's check: "back at ..., where you left it" showed for under a second, then
    "Model ... loaded" replaced it; the model is named in the status bar's field anyway
    (short, its name elided: messages need the room)."""
    from app.editing.saving import CloseAnswer
    from app.main_window import MainWindow
    from app.widgets.status_fields import MODEL_FIELD_PX
    from tests.app.editing_helpers import open_folder
    from tests.app.test_playback import write_clip

    video = write_clip(tmp_path / "clip.avi", frames=6)
    first = make_window(model=None)
    open_folder(qtbot, first, video, model=False)
    first.show_row(4)
    qtbot.waitUntil(lambda: first.current_key.index == 4, timeout=10000)
    first.close()
    window = MainWindow(tiny_checkpoint, device="cpu", precision="fp32")  # as `run` starts
    window.editing.saving.ask_unsaved = lambda count, failed=(): CloseAnswer.DISCARD
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.modelReady, timeout=RESULT_TIMEOUT):
        window.show()
        window.open_paths([video])
        assert "back at clip.avi · frame 5" in window.statusBar().currentMessage()
    assert "back at clip.avi · frame 5" in window.statusBar().currentMessage()
    assert window.status.model.text() == "model: tiny.pt"
    long_name = tmp_path / f"{'a-very-long-fine-tuned-model-name-' * 4}v002.pt"
    long_name.write_bytes(tiny_checkpoint.read_bytes())
    with qtbot.waitSignal(window.modelReady, timeout=RESULT_TIMEOUT):
        window.load_model(long_name)
    field = window.status.model
    assert "…" in field.text() and field.text().endswith("v002.pt")
    assert field.fontMetrics().horizontalAdvance(field.text()) <= MODEL_FIELD_PX
    assert field.toolTip().startswith(str(long_name.resolve()))
    with qtbot.waitSignal(window.modelReady, timeout=RESULT_TIMEOUT):
        window.load_model(tiny_checkpoint)  # asked for (File > Load model): said
    assert window.statusBar().currentMessage().startswith("Model tiny.pt loaded")
    # a window started with no model: the first one the user loads is said, whatever was
    # said while it loaded (a review: "Opened 3 images" stayed instead)
    bare = make_window(model=None)
    with qtbot.waitSignal(bare.modelReady, timeout=RESULT_TIMEOUT):
        bare.load_model(tiny_checkpoint)
        bare.open_paths([video])
    assert bare.statusBar().currentMessage().startswith("Model tiny.pt loaded")


def test_a_folder_or_video_reopened_comes_back_to_the_frame_it_was_left_at(
        qtbot, make_window, tmp_path):
    """A user's check: reopening a 200-frame video always started at frame 1."""
    from app.frames import FrameRef
    from tests.app.editing_helpers import key, open_folder
    from tests.app.test_playback import write_clip

    video = write_clip(tmp_path / "clip.avi", frames=12)
    window = make_window(model=None)
    open_folder(qtbot, window, video, model=False)
    window.show_row(7)
    qtbot.waitUntil(lambda: window.current_key == FrameRef(video.resolve(), 7), timeout=10000)
    window.close()
    again = make_window(model=None)
    open_folder(qtbot, again, video, model=False)
    qtbot.waitUntil(lambda: again.current_key == FrameRef(video.resolve(), 7), timeout=10000)
    assert "back at clip.avi · frame 8, where you left it" in again.statusBar().currentMessage()
    key(again, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: again.current_key == FrameRef(video.resolve(), 0), timeout=10000)
    again.show_row(5)
    qtbot.waitUntil(lambda: again.current_key == FrameRef(video.resolve(), 5), timeout=10000)
    again.close()
    folder = make_window(model=None)  # its folder opened as a folder (a review)
    open_folder(qtbot, folder, tmp_path, model=False)
    qtbot.waitUntil(lambda: folder.current_key == FrameRef(video.resolve(), 5), timeout=10000)
    other = make_window(model=None)  # opened beside other frames: the first new one
    write_png(tmp_path / "still.png", scene_image(2))
    open_folder(qtbot, other, tmp_path / "still.png", model=False)
    other.open_paths([video])
    qtbot.waitUntil(lambda: other.current_key == FrameRef(video.resolve(), 0), timeout=10000)


def test_a_model_named_that_fails_to_load_chooses_nothing(
        qtbot, tiny_checkpoint, fine_tuned_projects, start_window, tmp_path):
    """`--model` naming a file that will not load leaves the window without a model, and
    not bound to that choice: a project fine-tuned on, opened next, brings its model, also
    when it was opened before the failure came (as `segnet-studio --model bad.pt street/`
    does)."""
    from app.editing.saving import CloseAnswer
    from app.main_window import MainWindow

    street, tuned, _untouched, _plain = fine_tuned_projects
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    window, loads = start_window(broken, model_chosen=True, wait=False)
    assert window.model_info is None and not window.segmentation.model_chosen
    with qtbot.waitSignal(window.modelReady, timeout=RESULT_TIMEOUT):
        window.open_paths([street])
    assert loads == [tuned.path] and window.model_info.path == str(tuned.path)

    window.load_model(broken)  # chosen in File > Load model, and failing: not chosen
    assert window.segmentation.model_chosen  # on its way, it counts (a project opened
    qtbot.waitUntil(lambda: "Model not loaded" in window.statusBar().currentMessage(),
                    timeout=RESULT_TIMEOUT)  # meanwhile keeps it)
    assert not window.segmentation.model_chosen
    assert window.model_info.path == str(tuned.path)
    with qtbot.waitSignal(window.modelReady, timeout=RESULT_TIMEOUT):
        window.load_model(tiny_checkpoint)
    assert window.segmentation.model_chosen
    window.close()

    for model, chosen in ((broken, True), (broken, False)):  # --model, or the shipped one
        window = MainWindow(model, device="cpu", precision="fp32", model_chosen=chosen)
        window.editing.saving.ask_unsaved = lambda count, failed=(): CloseAnswer.DISCARD
        qtbot.addWidget(window)
        window.show()
        window.open_paths([street])  # at once: the failure comes after the frames open
        qtbot.waitUntil(lambda: window.model_info is not None, timeout=RESULT_TIMEOUT)
        assert window.model_info.path == str(tuned.path), chosen
        window.close()


def test_a_fallback_that_fails_too_leaves_no_stale_message(
        qtbot, tiny_checkpoint, fine_tuned_projects, monkeypatch, tmp_path):
    """Started on a project's version that will not load, with a shipped model that will not
    load either: the window says both, and the model the user loads next is announced as
    theirs, not as the fallback."""
    from app import project_model
    from app.editing.saving import CloseAnswer
    from app.main_window import MainWindow

    street, tuned, _untouched, _plain = fine_tuned_projects
    tuned.path.write_bytes(b"damaged")
    broken = tmp_path / "shipped.pt"
    broken.write_bytes(b"damaged too")
    monkeypatch.setattr(project_model, "choose_model", lambda _option: (broken, ""))
    window = MainWindow(tuned.path, device="cpu", precision="fp32", model_chosen=False,
                        project="the fine-tuned model v002 of street")
    window.editing.saving.ask_unsaved = lambda count, failed=(): CloseAnswer.DISCARD
    qtbot.addWidget(window)
    window.show()
    window.open_paths([street])
    qtbot.waitUntil(lambda: sum("model not loaded" in entry
                                for entry in window.problems.entries()) == 2,
                    timeout=RESULT_TIMEOUT)
    assert window.model_info is None
    with qtbot.waitSignal(window.modelReady, timeout=RESULT_TIMEOUT):
        window.load_model(tiny_checkpoint)
    assert window.statusBar().currentMessage().startswith("Model tiny.pt loaded")


def test_started_on_a_fine_tuned_folder_the_window_segments_with_its_model_from_the_start(
        qtbot, tiny_checkpoint, fine_tuned_projects, monkeypatch):
    """`segnet-studio FOLDER` with no model named, for a folder fine-tuned on, loads that
    folder's current version first, not the shipped model and then that version: one load,
    every result from the project's model, and the status bar says whose model it is. A
    version that will not load falls back to the shipped model, and says so."""
    from app import launcher, main_window, project_model
    from app.main_window import MainWindow
    from app.startup import MODEL_ENV
    from app.workers.inference import InferenceWorker

    street, tuned, _untouched, _plain = fine_tuned_projects
    monkeypatch.delenv(MODEL_ENV, raising=False)
    monkeypatch.setattr(project_model, "choose_model", lambda _option: (tiny_checkpoint, ""))
    loads, results, shown = [], [], []
    load = InferenceWorker.load_model
    monkeypatch.setattr(InferenceWorker, "load_model",
                        lambda worker, path: (loads.append(Path(path)), load(worker, path)))
    original_show = MainWindow.show
    said: list[str] = []  # every status-bar message since the window showed: a later one
    # may replace the one looked for before the wait below reads the bar (a loaded machine)

    def show(window):
        shown.append(window)
        said.clear()
        window.statusBar().messageChanged.connect(said.append)
        said.append(window.statusBar().currentMessage())
        original_show(window)
    monkeypatch.setattr(MainWindow, "show", show)

    def until_drawn(_app, says: str):
        window = shown[-1]
        window.worker.resultReady.connect(
            lambda key, *_: results.append((key, window.segmentation.requested_model)))
        qtbot.waitUntil(lambda: window.display.overlay_rgba is not None and results
                        and any(says in message for message in said), timeout=60000)
        return 0

    monkeypatch.setattr(QApplication, "exec", lambda app: until_drawn(
        app, "Segmenting with the fine-tuned model v002 of street"))
    monkeypatch.chdir(street.parent)  # named relative to here: the version as listed still
    assert launcher.main(["--device", "cpu", "street"]) == 0
    assert loads == [tuned.path]  # the shipped model never loaded
    assert results and all(model == tuned.path for _key, model in results)
    assert shown[-1].model_info.path == str(tuned.path)  # the path the version list has
    assert not shown[-1].segmentation.model_chosen  # followed, not chosen

    tuned.path.write_bytes(b"damaged")  # the version will not load: the shipped model then
    loads.clear()
    monkeypatch.setattr(QApplication, "exec", lambda app: until_drawn(
        app, "Segmenting with the shipped model tiny.pt: the fine-tuned model v002 of street "
             "could not be loaded"))
    assert launcher.main(["--device", "cpu", str(street)]) == 0
    assert loads == [tuned.path, tiny_checkpoint]
    assert shown[-1].model_info.path == str(tiny_checkpoint)

    index = street / "labels" / "models" / "index.json"
    index.write_text("{ damaged")  # said once the model segmenting instead is in, not before
    monkeypatch.setattr(main_window, "choose_model", lambda _option: (tiny_checkpoint, ""))
    monkeypatch.setattr(QApplication, "exec", lambda app: until_drawn(
        app, "The fine-tuned models of street cannot be read (View > Problems); segmenting "
             "with tiny.pt"))
    assert launcher.main(["--device", "cpu", "street"]) == 0


def test_frames_of_the_same_name_from_two_folders_name_their_folder_in_the_list(
        qtbot, make_window, tmp_path):
    """Two copies of a shot list opened together: each row of a name open from both folders
    says which folder it comes from; a name open once stays plain."""
    for folder, names in (("day", ("a.png", "b.png")), ("night", ("a.png", "c.png"))):
        (tmp_path / folder).mkdir()
        for seed, name in enumerate(names):
            write_png(tmp_path / folder / name, scene_image(seed))
    window = make_window(model=None)
    window.open_paths([tmp_path / "day"])
    qtbot.waitUntil(lambda: len(window.frames) == 2, timeout=5000)
    model = window.frames_model

    def names() -> list[str]:
        return [model.data(model.index(row), Qt.ItemDataRole.DisplayRole).split("\n")[0]
                for row in range(len(window.frames))]

    assert names() == ["a.png", "b.png"]
    window.open_paths([tmp_path / "night"])
    qtbot.waitUntil(lambda: len(window.frames) == 4, timeout=5000)
    assert names() == ["day/a.png", "b.png", "night/a.png", "c.png"]
    (tmp_path / "copy" / "day").mkdir(parents=True)  # a folder of the same name: its path
    write_png(tmp_path / "copy" / "day" / "a.png", scene_image(5))
    window.open_paths([tmp_path / "copy" / "day"])
    qtbot.waitUntil(lambda: len(window.frames) == 5, timeout=5000)
    assert names() == [f"{tmp_path / 'day'}/a.png", "b.png", f"{tmp_path / 'night'}/a.png",
                       "c.png", f"{tmp_path / 'copy' / 'day'}/a.png"]
