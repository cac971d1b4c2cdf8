"""The open-frame list (Qt-free) and the prediction cache."""

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.frames import FrameList, FrameReader, FrameRef, FrameStatus
from app.prediction_cache import PredictionCache
from tests.app.conftest import scene_image, write_png
from segnet_core.inference import Prediction


def test_folder_opens_sorted_images_and_reports_the_corrupt_one(image_folder):
    frames = FrameList()
    report = frames.add_paths([image_folder, image_folder / "missing.png",
                               image_folder / "notes.txt"])
    assert [ref.path.name for ref in frames] == ["a.png", "b.png", "c.png", "d.png"]
    assert report.added == 4 and report.first_row == 0 and report.opened == [image_folder]
    problems = {p.path.name: p.reason for p in report.problems}
    assert set(problems) == {"broken.png", "missing.png", "notes.txt"}
    assert "not a readable image" in problems["broken.png"]
    assert all(frames.status(ref) == FrameStatus.NOT_SEGMENTED for ref in frames)
    again = frames.add_paths([image_folder / "c.png"])
    assert again.added == 0 and again.first_row == 2 and len(frames) == 4


def test_a_frame_whose_labels_would_share_a_mask_file_is_refused_naming_both(
        image_folder, tmp_path):
    """A user's check: good.jpg and good.png both saved to labels/good.png, each correction
    overwriting the other's; a still clip_000000.png took the mask of clip.avi's frame 1."""
    import cv2

    from tests.app.conftest import scene_image
    from tests.app.test_playback import write_clip

    cv2.imwrite(str(image_folder / "b.jpg"), scene_image(7)[..., ::-1])
    write_clip(image_folder / "c_000001.avi", frames=3)  # frames c_000001_00000N: no clash
    frames = FrameList()
    report = frames.add_paths([image_folder])
    assert [ref.name for ref in frames] == ["a.png", "b.jpg", "c.png", "d.png"] + [
        f"c_000001.avi · frame {n}" for n in (1, 2, 3)]  # by name: b.jpg first
    problems = {p.path.name: p.reason for p in report.problems}
    assert problems["b.png"] == ("its labels would be saved as labels/b.png, the mask file "
                                 "of b.jpg; rename one of them")
    # a video whose frame 2 would take a still's mask, opened after it: refused whole
    other = tmp_path / "other"
    other.mkdir()
    (other / "clip_000001.png").write_bytes((image_folder / "a.png").read_bytes())
    write_clip(other / "clip.avi", frames=3)
    report = frames.add_paths([other / "clip_000001.png", other / "clip.avi"])
    assert [ref.name for ref in frames][-1] == "clip_000001.png"
    assert [(p.path.name, p.reason) for p in report.problems] == [(
        "clip.avi", "a frame's labels would be saved as labels/clip_000001.png, the mask "
                    "file of clip_000001.png; rename one of them")]
    # and the other way round: the still is refused once the video is open
    frames = FrameList()
    frames.add_paths([other / "clip.avi"])
    report = frames.add_paths([other / "clip_000001.png"])
    assert report.added == 0 and "the mask file of clip.avi · frame 2" in \
        report.problems[0].reason


def test_frames_whose_masks_differ_only_in_case_clash_where_the_file_system_ignores_case(
        tmp_path, monkeypatch):
    """A review: Good.jpg and good.png share labels/good.png on macOS and Windows (their file
    systems ignore case by default), unnoticed; on this one they are two files."""
    import segnet_core.masks.labels_folder as labels_folder

    folder = tmp_path / "shots"
    folder.mkdir()
    for name in ("Good.jpg", "good.png", "other.png"):
        write_png(folder / name, np.zeros((8, 8, 3), np.uint8))
    assert labels_folder.ignores_case(folder / "Good.jpg") is False  # this file system
    assert labels_folder.ignores_case(folder / "123") is None  # no letter to tell by
    assert FrameList().add_paths([folder]).added == 3
    monkeypatch.setattr(labels_folder, "ignores_case", lambda path: True)  # as on macOS
    frames = FrameList()
    report = frames.add_paths([folder])
    assert [ref.name for ref in frames] == ["Good.jpg", "other.png"]
    assert [(p.path.name, p.reason) for p in report.problems] == [(
        "good.png", "its labels would be saved as labels/good.png, one file with Good.jpg's "
                    "labels/Good.png on this file system (it ignores case); rename one of "
                    "them")]


def test_links_that_lead_to_no_file_are_problems_and_the_folder_still_opens(image_folder):
    (image_folder / "loop1.png").symlink_to("loop2.png")
    (image_folder / "loop2.png").symlink_to("loop1.png")
    (image_folder / "gone.png").symlink_to(image_folder / "nowhere.png")
    frames = FrameList()
    report = frames.add_paths([image_folder])
    assert [ref.path.name for ref in frames] == ["a.png", "b.png", "c.png", "d.png"]
    assert report.opened == [image_folder]
    problems = {p.path.name: p.reason for p in report.problems}
    assert set(problems) == {"broken.png", "gone.png", "loop1.png", "loop2.png"}
    assert problems["loop1.png"] == "cannot be read: a symbolic link that loops back on itself"
    assert problems["gone.png"] == (f"cannot be read: a symbolic link to "
                                    f"{image_folder / 'nowhere.png'}, which does not exist")


def test_reader_reads_images_and_statuses_change(image_folder):
    frames = FrameList()
    frames.add_paths([image_folder / "b.png"])
    ref = frames[0]
    assert FrameReader().read(ref).shape == (64, 96, 3)
    assert frames.set_status(ref, FrameStatus.SEGMENTED)
    assert not frames.set_status(ref, FrameStatus.SEGMENTED)
    assert frames.with_status(FrameStatus.SEGMENTED) == [ref]
    assert not frames.set_status(FrameRef(Path("/elsewhere.png")), FrameStatus.SEGMENTED)


def test_a_frame_that_cannot_be_read_is_said_once_and_keeps_its_labels(image_folder):
    """Reading a frame failed: it is news once (until read again); an unlabelled frame
    turns UNREADABLE, a corrected one stays CORRECTED, and turns UNREADABLE once its labels
    are gone and it fails again."""
    frames = FrameList()
    frames.add_paths([image_folder / "a.png", image_folder / "b.png"])
    plain, corrected = frames
    frames.set_status(corrected, FrameStatus.CORRECTED)
    assert frames.mark_unreadable(plain) and not frames.mark_unreadable(plain)
    assert frames.status(plain) == FrameStatus.UNREADABLE and frames.unreadable(plain)
    assert frames.mark_unreadable(corrected)
    assert frames.status(corrected) == FrameStatus.CORRECTED and frames.unreadable(corrected)
    assert frames.corrected() == [corrected]
    frames.set_status(corrected, FrameStatus.NOT_SEGMENTED)  # its mask deleted on disk
    assert not frames.mark_unreadable(corrected)  # not news: said already
    assert frames.status(corrected) == FrameStatus.UNREADABLE
    frames.mark_read(plain)  # read again (the file is back)
    assert not frames.unreadable(plain) and frames.mark_unreadable(plain)  # news again
    assert not frames.mark_unreadable(FrameRef(Path("/elsewhere.png")))


def _prediction(pixels: int) -> Prediction:
    return Prediction(np.zeros(pixels, np.uint8), np.zeros(pixels, np.float32))


def test_cache_evicts_least_recently_used_within_its_byte_budget():
    cache = PredictionCache(max_bytes=5 * 100 * 2)  # two 100-pixel predictions
    cache.put("a", _prediction(100))
    cache.put("b", _prediction(100))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", _prediction(100))
    assert "a" in cache and "b" not in cache and "c" in cache
    assert cache.bytes_used == 1000
    cache.put("huge", _prediction(1000))
    assert "huge" not in cache and len(cache) == 2


def test_a_mark_for_a_missing_estimate_outlives_its_prediction_until_a_new_one_comes():
    cache = PredictionCache(max_bytes=5 * 100 * 2)
    cache.mark_unestimated("a")  # a result too large to keep still wants its estimate
    assert cache.unestimated() == ["a"] and "a" not in cache
    cache.mark_unestimated("a", False)
    assert cache.unestimated() == []
    cache.put("a", _prediction(100))
    cache.put("b", _prediction(100))
    cache.mark_unestimated("a")
    cache.mark_unestimated("b")
    cache.mark_unestimated("b", False)  # its estimate came
    assert cache.unestimated() == ["a"] and cache.is_unestimated("a")
    cache.put("a", _prediction(100))  # a new result: its estimate is on its way
    assert not cache.is_unestimated("a")
    cache.mark_unestimated("a")
    cache.put("c", _prediction(100))  # pushes out b
    cache.put("d", _prediction(100))  # pushes out a, not its mark: Segment all takes it
    assert "a" not in cache and cache.unestimated() == ["a"]
    cache.discard("a")
    assert cache.unestimated() == []
    cache.mark_unestimated("d")
    cache.clear()
    assert cache.unestimated() == []


def test_frames_by_status_in_row_order_and_a_videos_corrected_frames(image_folder, tmp_path):
    from tests.app.test_playback import write_clip

    clip = write_clip(tmp_path / "clip.avi", frames=30)
    frames = FrameList()
    frames.add_paths([image_folder, clip])
    images = [r for r in frames if r.index is None]
    video = [r for r in frames if r.index is not None]
    assert len(video) == 30
    for ref in (video[20], images[1], video[3]):
        assert frames.set_status(ref, FrameStatus.CORRECTED)
    assert not frames.set_status(video[3], FrameStatus.CORRECTED)  # already
    assert frames.set_status(video[20], FrameStatus.SEGMENTED)  # no longer corrected
    assert frames.with_status(FrameStatus.CORRECTED) == [images[1], video[3]]
    assert frames.with_status(FrameStatus.SEGMENTED) == [video[20]]
    assert len(frames.with_status(FrameStatus.NOT_SEGMENTED)) == len(frames) - 3
    assert frames.video_frames_with_status(clip.resolve(), FrameStatus.CORRECTED) == [3]
    assert frames.video_frames_with_status(tmp_path / "absent.avi", FrameStatus.CORRECTED) == []


def test_following_a_long_video_in_the_frame_list_does_not_walk_every_row(qtbot, tmp_path):
    from app.widgets.frame_list import FrameListModel, FrameListView
    from app.workers.thumbnails import ThumbnailLoader
    from tests.app.test_playback import write_clip

    class CountingModel(FrameListModel):
        calls = 0

        def rowCount(self, parent=None):
            CountingModel.calls += 1
            return super().rowCount() if parent is None else super().rowCount(parent)

    model = CountingModel(FrameList(), ThumbnailLoader())
    model.add_paths([write_clip(tmp_path / "long.avi", frames=6000)])
    view = FrameListView(model)
    qtbot.addWidget(view)
    view.resize(200, 600)
    with qtbot.waitExposed(view):  # the first layout
        view.show()
    CountingModel.calls = 0
    for row in range(1000, 1020):  # what playback does at each frame
        view.select_row(row)
        qtbot.wait(1)
    assert view.currentIndex().row() == 1019
    # a layout of every row asks ~2 per row (12,000 per frame); batched, a few hundred
    assert CountingModel.calls / 20 < 2000, CountingModel.calls / 20


def _beside_a_canvas(qtbot, view, height: int):
    """A shown window with `view` and, beside it, a label for the pointer to go to; the
    window owns the view's model (deleted with it, not by a later garbage collection)."""
    from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

    window = QWidget()
    view.model().sourceModel().setParent(window)
    layout = QHBoxLayout(window)
    beside = QLabel("the canvas")
    layout.addWidget(view)
    layout.addWidget(beside)
    qtbot.addWidget(window)
    window.resize(500, height)
    with qtbot.waitExposed(window):
        window.show()
    return window, beside


def _pointer_leaves(qtbot, view, beside) -> None:
    """The pointer beside the list, onto it, then beside it again: whatever an earlier
    test's window left Qt believing was under the pointer, the list sees it come and go."""
    QTest.mouseMove(beside, QPoint(10, 10))
    QTest.mouseMove(view.viewport(), QPoint(5, 5))
    qtbot.waitUntil(view.underMouse, timeout=5000)
    QTest.mouseMove(beside, QPoint(12, 12))
    qtbot.waitUntil(lambda: not view.underMouse(), timeout=5000)


def _sorted_clip_list(qtbot, tmp_path, frames: int):
    """A video's rows in a list beside a canvas, the pointer away from it, sorted by a key
    that starts in frame order (change `keys` and a row's note to move a row): the model, the
    keys, the view and its window (kept by the test: it owns them)."""
    from app.widgets.frame_list import FrameListModel, FrameListView
    from app.workers.thumbnails import ThumbnailLoader
    from tests.app.test_playback import write_clip

    model = FrameListModel(FrameList(), ThumbnailLoader())
    model.add_paths([write_clip(tmp_path / "clip.avi", frames=frames)])
    keys = {ref: float(row) for row, ref in enumerate(model.frames)}
    view = FrameListView(model)
    window, beside = _beside_a_canvas(qtbot, view, 400)
    _pointer_leaves(qtbot, view, beside)
    view.set_sort_key(keys.__getitem__)
    return model, keys, view, window


def test_sorted_the_current_row_stays_in_view_when_a_change_moves_it(qtbot, tmp_path,
                                                                     pointer_put_back):
    """With the list sorted (by estimate), a change that moves the current row far (a save
    re-levels its estimate) keeps it in view; a current row the user scrolled away from is
    not brought back."""
    model, keys, view, _window = _sorted_clip_list(qtbot, tmp_path, 60)
    view.select_row(2)

    def in_view() -> bool:
        return view.visualRect(view.currentIndex()).intersects(view.viewport().rect())

    qtbot.waitUntil(in_view, timeout=5000)
    first = model.frames[2]
    keys[first] = 1000.0  # to the bottom of the sorted list
    model.set_note(first, "test", "moved")  # a change of the row: the proxy sorts again
    QApplication.processEvents()
    assert view.frame_row(59) == 2 and view.currentIndex().row() == 59
    qtbot.waitUntil(in_view, timeout=5000)

    view.scrollToTop()  # the user looks elsewhere
    qtbot.waitUntil(lambda: not in_view(), timeout=5000)
    other = model.frames[5]
    keys[other] = -1.0
    model.set_note(other, "test", "moved")
    QApplication.processEvents()
    assert view.frame_row(0) == 5 and not in_view()


def test_sorted_rows_keep_their_order_under_the_pointer_until_it_leaves(qtbot, tmp_path,
                                                                        pointer_put_back):
    """Estimates arriving move rows of a sorted list: under the pointer they stay put (a
    click takes the row aimed at) while their text follows; once the pointer has left the
    list, the rows go in order."""
    from app.widgets.frame_list import (RESORT_AFTER_LEAVING_MS, FrameListModel,
                                        FrameListView)
    from app.workers.thumbnails import ThumbnailLoader
    from tests.app.test_playback import write_clip

    model = FrameListModel(FrameList(), ThumbnailLoader())
    model.add_paths([write_clip(tmp_path / "clip.avi", frames=8)])
    keys = {ref: float(row) for row, ref in enumerate(model.frames)}
    view = FrameListView(model)
    window, beside = _beside_a_canvas(qtbot, view, 600)
    view.set_sort_key(keys.__getitem__)
    assert [view.frame_row(r) for r in range(8)] == list(range(8))

    QTest.mouseMove(view.viewport(), QPoint(40, 40))  # the user aims at a row
    qtbot.waitUntil(view.underMouse, timeout=5000)
    last = model.frames[7]
    keys[last] = -1.0  # a new estimate: to the top, by the key
    model.set_note(last, "test", "est. 10 %")
    qtbot.wait(RESORT_AFTER_LEAVING_MS * 2)
    assert [view.frame_row(r) for r in range(8)] == list(range(8))  # not moved...
    assert "est. 10 %" in view.model().index(7, 0).data()  # ...but its text changed
    target = view.visualRect(view.model().index(3, 0)).center()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert view.currentIndex().row() == 3 and view.frame_row(3) == 3  # the row aimed at

    _pointer_leaves(qtbot, view, beside)
    qtbot.waitUntil(lambda: view.frame_row(0) == 7, timeout=5000)
    assert [view.frame_row(r) for r in range(8)] == [7, 0, 1, 2, 3, 4, 5, 6]
    assert view.frame_row(view.currentIndex().row()) == 3  # still the frame chosen
    first = model.frames[0]  # away from the list, rows move at once, as before
    keys[first] = 100.0
    model.set_note(first, "test", "est. 99 %")
    QApplication.processEvents()
    assert view.frame_row(7) == 0


def test_sorted_rows_changed_one_by_one_are_put_in_order_once(qtbot, tmp_path,
                                                              pointer_put_back):
    """A new model clears every row's note in turn, frames open with their masks: the rows go
    in order once those changes are in, not once per row (a review measured a full sort per
    row: 50 s of a frozen window for a 9,000-frame video); a key that changes without its
    row's text (`key_changed`) is placed too."""
    model, keys, view, _window = _sorted_clip_list(qtbot, tmp_path, 60)
    sorts = []
    view.model().layoutChanged.connect(lambda *_: sorts.append(1))
    for row, ref in enumerate(model.frames):  # every key reversed, one row at a time
        keys[ref] = -float(row)
        model.set_note(ref, "test", f"moved {row}")
    assert sorts == []  # not yet: not once per row
    qtbot.waitUntil(lambda: len(sorts) == 1, timeout=5000)
    assert [view.frame_row(r) for r in range(60)] == list(range(59, -1, -1))
    QApplication.processEvents()
    assert len(sorts) == 1
    keys[model.frames[0]] = -100.0  # to the top, its text unchanged
    view.key_changed(0)
    qtbot.waitUntil(lambda: view.frame_row(0) == 0, timeout=5000)


def test_a_slow_click_on_the_half_shown_last_row_highlights_the_row_it_shows(
        qtbot, tmp_path, pointer_put_back):
    """A user's check: pressed on the half-shown bottom row, the list scrolled it into view
    under the held button, and the release landed on the next row: the frame clicked was
    shown, the one below highlighted. The list scrolls once the button is up."""
    from app.widgets.frame_list import FrameListModel, FrameListView
    from app.workers.thumbnails import ThumbnailLoader
    from tests.app.test_playback import write_clip

    model = FrameListModel(FrameList(), ThumbnailLoader())
    model.add_paths([write_clip(tmp_path / "clip.avi", frames=30)])
    view = FrameListView(model)
    chosen = []
    view.rowChosen.connect(chosen.append)
    view.rowChosen.connect(view.select_row)  # as the window's navigation does: in view
    window, beside = _beside_a_canvas(qtbot, view, 300)
    _pointer_leaves(qtbot, view, beside)
    height = view.viewport().height()
    half = next(row for row in range(30)
                if view.visualRect(view.model().index(row, 0)).bottom() >= height)
    rect = view.visualRect(view.model().index(half, 0))
    assert rect.top() < height - 4  # partly shown
    at = QPoint(rect.center().x(), rect.top() + 2)
    chosen.clear()
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    QTest.mouseMove(view.viewport(), at)  # held a moment: the pointer is still there
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert chosen == [half] and view.currentIndex().row() == half
    assert [index.row() for index in view.selectedIndexes()] == [half]
    qtbot.waitUntil(lambda: view.visualRect(view.currentIndex()).bottom() < height + 1,
                    timeout=5000)  # and then it is shown whole


def test_going_to_the_last_of_many_frames_brings_its_row_into_view(qtbot, make_window,
                                                                   tmp_path):
    """A user's check: in a 2,000-image folder, End showed the last frame but the list stayed
    at the top, and A then left it on rows ~186-200. The list laid its rows out in batches
    of 200, again from the first at each change of a row (a thumbnail come), and scrolled
    only as far as the rows laid out so far."""
    from tests.app.editing_helpers import key, open_folder

    folder = tmp_path / "many"
    folder.mkdir()
    tiny = scene_image(0, 6, 8)
    for i in range(600):
        write_png(folder / f"f{i:04d}.png", tiny)
    window = make_window(model=None)
    open_folder(qtbot, window, folder, model=False)
    view = window.frame_view
    for press, row in ((Qt.Key.Key_End, 599), (Qt.Key.Key_A, 598), (Qt.Key.Key_Home, 0),
                       (Qt.Key.Key_End, 599)):
        key(window, press)
        qtbot.waitUntil(lambda: window.current_key == window.frames[row], timeout=10000)
        assert view.currentIndex().row() == row
        assert view.viewport().rect().contains(view.visualRect(view.currentIndex())), press
