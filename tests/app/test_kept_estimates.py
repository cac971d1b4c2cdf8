"""Estimates kept between sessions: a folder or video opened again with the same model shows
every frame's estimate, levelled by the corrections as before, without segmenting it again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
from segnet_core.inference import Predictor
from segnet_core.models import build_model

from app.quality import kept
from app.quality.controller import estimate_note, measured_note
from tests.app.conftest import LABELS, scene_image, settle, write_png
from tests.app.editing_helpers import (RESULT_TIMEOUT, away_and_back, drag, key, labels,
                                       open_folder, show_row, wait_saved)
from tests.app.test_quality import (  # noqa: F401 - a fixture
    agreement_checkpoint, list_text, segment_everything)
from tests.app.test_video_and_canvas import write_video


def correct(qtbot, window, row: int) -> None:
    """Accept the prediction of frame `row`, paint a wide stroke over it, save."""
    show_row(qtbot, window, row)
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Accept prediction
    key(window, Qt.Key.Key_3)
    window.editing.editor.set_brush_size(15)
    drag(window, [(5, 20), (60, 20), (60, 35)])
    key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_saved(window)
    qtbot.waitUntil(lambda: window.quality.measured_frames == 1, timeout=10000)


def estimate_notes(window) -> list[str]:
    """The last line of each row of the frame list: its estimate, or the real accuracy."""
    return [list_text(window, row).split("\n")[-1] for row in range(len(window.frames))]


def reopened(qtbot, make_window, paths, model=None):
    """A new window (a new session) on `paths`, its first frame shown."""
    window = make_window() if model is None else make_window(model)
    with qtbot.waitSignal(window.display.overlayDrawn, timeout=RESULT_TIMEOUT):
        window.open_paths(paths)
    return window


def test_a_folder_opened_again_shows_every_estimate_and_the_levelling_at_once(
        qtbot, make_window, image_folder, tmp_path):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    segment_everything(qtbot, window)
    correct(qtbot, window, 1)  # not the frame shown first on opening: its figure is kept
    refs = list(window.frames)
    before = dict(window.quality.estimates)
    notes = estimate_notes(window)
    # how right the prediction is by the saved labels (no void in these labels)
    real = float(np.mean(window.cache.get(refs[1]).labels == labels(window).mask))
    assert notes[1] == measured_note(real) and len(before) == len(refs)
    window.show_row(0)  # left there: reopened, it is shown first
    qtbot.waitUntil(lambda: window.current_key == refs[0], timeout=10000)
    window.close()  # the estimates are written on closing

    window = reopened(qtbot, make_window, [image_folder])
    quality = window.quality
    qtbot.waitUntil(lambda: set(quality.estimates) == set(refs), timeout=10000)
    # nothing was segmented but the frame shown: the others' estimates were kept, and the
    # corrected frame's real accuracy, which levels the others as before
    qtbot.waitUntil(lambda: refs[0] in window.cache, timeout=RESULT_TIMEOUT)
    assert [ref for ref in refs if ref in window.cache] == [refs[0]]
    qtbot.waitUntil(lambda: quality.measured_frames == 1, timeout=5000)
    # the same notes (the others say "not segmented": they are not)
    qtbot.waitUntil(lambda: estimate_notes(window) == notes, timeout=5000)
    # and the frames not segmented now say they were, above their estimates ("not
    # segmented" over "est. 82 %" read as a contradiction to a newcomer)
    statuses = [list_text(window, row).split("\n")[1] for row in range(len(refs))]
    assert statuses == ["segmented", "corrected", "segmented before", "segmented before"]
    assert quality.estimates == pytest.approx(before, abs=1e-5)
    key(window, Qt.Key.Key_N)  # Next suggested frame works before any Segment all
    qtbot.waitUntil(lambda: window.current_key != refs[0], timeout=10000)
    assert window.statusBar().currentMessage().startswith("Suggested ")
    assert "levelled by 1 corrected frame(s)" in window.statusBar().currentMessage()
    # not "segmented": they are estimated, not segmented (a user check)
    assert "3 uncorrected frame(s) estimated" in window.statusBar().currentMessage()
    # Segment all segments the others for their labels, and does not estimate them again
    qtbot.waitUntil(lambda: window.current_key in window.cache, timeout=RESULT_TIMEOUT)
    settle(window.worker.tasks)  # the frame suggested is segmented and estimated, as shown
    estimated = []
    window.worker.estimated.connect(lambda ref, _value: estimated.append(ref))
    shown = [ref for ref in refs if ref in window.cache]
    segment_everything(qtbot, window)
    assert all(ref in window.cache for ref in refs) and estimated == []
    assert window.statusBar().currentMessage().endswith(
        f"; the estimates of {len(refs) - len(shown)} of them were kept from before (the same "
        "model)")
    assert quality.estimates == pytest.approx(before, abs=1e-5)
    # another program rewrites an image meanwhile (images are not watched): what is kept of
    # it keeps the stamp of the image it was computed from (a frame not estimated since:
    # the window writes only the values it computes, stamped as they come)
    suggested, other = sorted(refs[2:], key=lambda ref: ref not in shown)
    write_png(other.path, scene_image(78))
    show_row(qtbot, window, 0)  # left there: reopened, it is shown first
    window.close()

    # an image changed between the sessions, and the corrected frame's mask: computed again
    write_png(suggested.path, scene_image(77))
    mask = refs[1].path.parent / "labels" / f"{refs[1].path.stem}.png"
    mask.write_bytes(mask.read_bytes())  # the same labels, written again by another program
    window = reopened(qtbot, make_window, [image_folder])
    quality = window.quality
    qtbot.waitUntil(lambda: set(quality.estimates) == {refs[0], refs[1]}, timeout=10000)
    settle(window.quality.kept.tasks, window.worker.tasks)
    assert set(quality.estimates) == {refs[0], refs[1]}
    assert quality.measured_frames == 0  # the mask's figure is not taken: it is measured
    assert estimate_notes(window)[1] == estimate_note(quality.estimate(refs[1]))  # when
    show_row(qtbot, window, 1)  # the frame is segmented: the same labels, the same figure
    qtbot.waitUntil(lambda: quality.measured_frames == 1, timeout=RESULT_TIMEOUT)
    assert estimate_notes(window)[1] == measured_note(real)
    window.close()


def test_frames_of_a_folder_opened_after_one_of_its_images_get_their_kept_estimates(
        qtbot, make_window, image_folder):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    segment_everything(qtbot, window)
    before = dict(window.quality.estimates)
    window.close()
    window = reopened(qtbot, make_window, [image_folder / "a.png"])  # one image first
    qtbot.waitUntil(lambda: len(window.quality.estimates) == 1, timeout=10000)
    window.open_paths([image_folder])  # then its folder
    qtbot.waitUntil(lambda: set(window.quality.estimates) == set(before), timeout=10000)
    assert window.quality.estimates == pytest.approx(before, abs=1e-5)
    window.close()


def test_another_model_keeps_its_own_estimates(qtbot, make_window, image_folder, tmp_path):
    window = make_window()
    open_folder(qtbot, window, image_folder)
    segment_everything(qtbot, window)
    first = dict(window.quality.estimates)
    torch.manual_seed(5)  # other weights
    other = tmp_path / "other.pt"
    save_checkpoint(other, checkpoint_from_model(build_model("segnet-basic", LABELS.num_classes),
                                                 LABELS.to_dict(), (32, 48)))
    with qtbot.waitSignal(window.modelReady, timeout=RESULT_TIMEOUT):
        window.load_model(other)  # File > Load model: the first model's estimates are saved
    segment_everything(qtbot, window)
    second = dict(window.quality.estimates)
    assert second != pytest.approx(first, abs=1e-4)
    window.close()

    window = reopened(qtbot, make_window, [image_folder], model=other)
    qtbot.waitUntil(lambda: set(window.quality.estimates) == set(second), timeout=10000)
    assert window.quality.estimates == pytest.approx(second, abs=1e-5)
    window.close()
    window = reopened(qtbot, make_window, [image_folder])  # the first model again
    qtbot.waitUntil(lambda: set(window.quality.estimates) == set(first), timeout=10000)
    assert window.quality.estimates == pytest.approx(first, abs=1e-5)
    window.close()


def test_a_video_opened_again_shows_its_strip_at_once(qtbot, make_window, tmp_path):
    video = write_video(tmp_path / "clip.avi", frames=6)
    window = make_window()
    with qtbot.waitSignal(window.display.overlayDrawn, timeout=RESULT_TIMEOUT):
        window.open_paths([video])
    segment_everything(qtbot, window)
    strip = window.quality.video_estimates(window.frames[0].path).copy()
    assert not np.isnan(strip).any()
    window.close()

    window = reopened(qtbot, make_window, [video])
    path = window.frames[0].path
    qtbot.waitUntil(lambda: window.quality.video_estimates(path) is not None and
                    not np.isnan(window.quality.video_estimates(path)).any(), timeout=10000)
    assert window.quality.video_estimates(path) == pytest.approx(strip, abs=1e-5)
    assert all(list_text(window, row).endswith(estimate_note(window.quality.estimate(ref)))
               for row, ref in enumerate(window.frames))
    qtbot.waitUntil(lambda: window.frames[0] in window.cache, timeout=RESULT_TIMEOUT)
    assert [ref in window.cache for ref in window.frames] == [True] + [False] * 5
    window.close()


def test_a_store_that_cannot_be_written_is_said_once_and_loses_nothing(
        qtbot, make_window, image_folder, tmp_path, monkeypatch):
    blocked = tmp_path / "not a folder"
    blocked.write_text("a file where the store's folder should be")
    monkeypatch.setenv(kept.CACHE_ENV, str(blocked))
    monkeypatch.setattr(kept, "SAVE_EVERY_MS", 50)
    window = make_window()
    open_folder(qtbot, window, image_folder)
    segment_everything(qtbot, window)
    problems = window.problems.list

    def lines():  # broken.png's is there too
        return [problems.item(row) for row in range(problems.count())
                if "Cannot keep the estimates" in problems.item(row).text()]

    qtbot.waitUntil(lambda: len(lines()) == 1, timeout=10000)
    line = lines()[0]
    assert line.text() == (f"Cannot keep the estimates for the next session in {blocked} "
                           f"(Not a directory); they will be computed again")
    assert window.problems.isVisible()
    # more to write (a video's first frame, as it opens): said no second time
    tasks = window.quality.kept.tasks
    written = tasks.completed
    window.open_paths([write_video(tmp_path / "clip.avi", frames=2)])
    qtbot.waitUntil(lambda: len(window.quality.estimates) == len(window.frames) - 1,
                    timeout=RESULT_TIMEOUT)
    qtbot.waitUntil(lambda: tasks.completed >= written + 2, timeout=10000)  # read, written
    assert len(lines()) == 1
    # shown all the same (but the video's second frame: not segmented)
    assert len(window.quality.estimates) == len(window.frames) - 1
    assert blocked.read_text() == "a file where the store's folder should be"
    window.close()


def test_a_frame_played_past_keeps_its_kept_estimate_and_segment_all_leaves_it(
        qtbot, make_window, image_folder, agreement_checkpoint, monkeypatch):
    """With a calibration on scale agreement, a frame a newer request overtakes (a video
    playing) is shown without its extra passes and marked to be estimated later; not when
    its estimate was kept: Segment all then does not segment it again, and says how many
    frames kept theirs."""
    window = make_window(agreement_checkpoint)
    open_folder(qtbot, window, image_folder)
    segment_everything(qtbot, window)
    before = dict(window.quality.estimates)
    window.close()

    window = reopened(qtbot, make_window, [image_folder], model=agreement_checkpoint)
    qtbot.waitUntil(lambda: set(window.quality.estimates) == set(before), timeout=10000)
    settle(window.worker.tasks)
    worker, (a, b, c, d) = window.worker, list(window.frames)
    real_predict = Predictor.predict

    def predict(self, image):  # while b is in the model, c is asked for
        monkeypatch.setattr(Predictor, "predict", real_predict)
        worker.request(c, scene_image(2))
        return real_predict(self, image)

    monkeypatch.setattr(Predictor, "predict", predict)
    with qtbot.waitSignal(worker.estimated, timeout=RESULT_TIMEOUT,
                          check_params_cb=lambda key, value: key == c):
        worker.request(b, scene_image(1))
    settle(worker.tasks)
    # shown without its estimate's extra passes, but not marked to be estimated when shown
    # at rest: its kept estimate is this model's on this image
    assert window.cache.unestimated() == []
    assert window.quality.estimate(b) == pytest.approx(before[b], abs=1e-5)  # kept
    with qtbot.waitSignal(window.batchFinished, timeout=RESULT_TIMEOUT) as batch:
        window.segment_all()
    assert batch.args[:2] == [1, 1]  # d alone: b has its labels and its estimate
    assert window.statusBar().currentMessage() == (
        "Segmented 1 of 1 frame(s); the other 3 had results already; the estimates of 1 of "
        "them were kept from before (the same model)")
    assert window.quality.estimates == pytest.approx(before, abs=1e-5)
    window.close()


def test_with_no_folder_to_keep_them_in_nothing_is_kept_and_nothing_fails(
        qtbot, make_window, image_folder, tmp_path, monkeypatch):
    monkeypatch.setenv(kept.CACHE_ENV, "")  # an empty value: keep none
    window = make_window()
    open_folder(qtbot, window, image_folder)
    segment_everything(qtbot, window)
    assert len(window.quality.estimates) == len(window.frames)
    window.close()
    window = reopened(qtbot, make_window, [image_folder])
    qtbot.waitUntil(lambda: window.frames[0] in window.quality.estimates,
                    timeout=RESULT_TIMEOUT)
    settle(window.quality.kept.tasks, window.worker.tasks)
    assert list(window.quality.estimates) == [window.frames[0]]  # the frame shown alone
    assert window.problems.list.count() == 1  # broken.png's line, nothing about keeping
    window.close()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["images", "settings.ini"]


def rank_rows(folder, model, capsys) -> tuple[list[dict], str]:
    """`segnet-studio rank --json` of `folder` with `model`, as the window runs it."""
    from segnet_core.cli import main

    main(["rank", "--images", str(folder), "--model", str(model), "--json", "--order",
          "frame", "--device", "cpu", "--precision", "fp32"])  # 1: broken.png is skipped
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def test_rank_and_the_window_share_what_they_estimated(qtbot, make_window, image_folder,
                                                       tiny_checkpoint, capsys):
    """What `segnet-studio rank` estimated, the window shows without segmenting; what the
    window estimated and measured, rank prints without segmenting."""
    rows, err = rank_rows(image_folder, tiny_checkpoint, capsys)
    assert "kept their estimates" not in err and len(rows) == 4
    window = reopened(qtbot, make_window, [image_folder])
    refs = list(window.frames)
    qtbot.waitUntil(lambda: set(window.quality.estimates) == set(refs), timeout=10000)
    assert [window.quality.estimate(ref) for ref in refs] == pytest.approx(
        [row["estimated_accuracy"] for row in rows], abs=1e-4)
    settle(window.worker.tasks)
    assert [ref in window.cache for ref in refs] == [True, False, False, False]  # shown

    show_row(qtbot, window, 1)  # segmented as it is shown, measured by its saved mask
    qtbot.waitUntil(lambda: refs[1] in window.cache, timeout=RESULT_TIMEOUT)
    correct(qtbot, window, 1)
    real = float(np.mean(window.cache.get(refs[1]).labels == labels(window).mask))
    estimates = [window.quality.estimate(ref) for ref in refs]
    window.close()
    rows, err = rank_rows(image_folder, tiny_checkpoint, capsys)
    assert "4 of 4 frame(s) kept their estimates from before" in err
    assert rows[1]["corrected"] and rows[1]["real_accuracy"] == pytest.approx(real, abs=1e-4)
    # levelled by that frame alike (the window by list rows, rank by input order: the same)
    assert [row["estimated_accuracy"] for row in rows] == pytest.approx(estimates, abs=1e-4)


def test_what_rank_estimates_while_the_window_is_open_shows_on_coming_back(
        qtbot, make_window, image_folder, tiny_checkpoint, capsys):
    """A user's check: a video open in the window, `rank` run on it in a terminal: every row
    stayed "not segmented" and Next suggested frame said none was estimated, until the video
    was opened again."""
    window = reopened(qtbot, make_window, [image_folder])  # only its first frame segmented
    refs = list(window.frames)
    settle(window.worker.tasks)
    qtbot.waitUntil(lambda: set(window.quality.estimates) == {refs[0]}, timeout=10000)
    rows: list = []
    away_and_back(qtbot, window, lambda: rows.extend(
        rank_rows(image_folder, tiny_checkpoint, capsys)[0]))
    qtbot.waitUntil(lambda: set(window.quality.estimates) == set(refs), timeout=10000)
    assert [window.quality.estimate(ref) for ref in refs] == pytest.approx(
        [row["estimated_accuracy"] for row in rows], abs=1e-4)
    settle(window.worker.tasks)
    assert [ref in window.cache for ref in refs] == [True, False, False, False]  # not segmented
    assert window.quality.kept.refresh() == 0  # nothing new since: no read


def test_the_folder_is_the_one_qt_names_for_the_users_cache(monkeypatch, tmp_path):
    """`kept_estimates.estimates_folder` finds the user's cache folder without Qt, for the
    commands; the window's is Qt's own."""
    from PySide6.QtCore import QStandardPaths

    from segnet_core.kept_estimates import estimates_folder

    monkeypatch.delenv(kept.CACHE_ENV)
    for xdg in (None, str(tmp_path / "xdg cache")):
        if xdg is None:
            monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        else:
            monkeypatch.setenv("XDG_CACHE_HOME", xdg)
        qt = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.GenericCacheLocation)
        assert estimates_folder() == Path(qt) / "segnet-studio" / "estimates"


def test_a_rows_notes_keep_their_order_when_another_model_comes(qtbot, make_window,
                                                                 image_folder, tmp_path):
    """"est. 90 % · flagged" before a model change and after it, not "flagged · est. 90 %"
    (the estimates come back after the flag: a user's check saw the notes swap)."""
    window = make_window()
    open_folder(qtbot, window, image_folder)
    segment_everything(qtbot, window)
    key(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)  # flag the frame shown
    note = list_text(window, 0).split("\n")[-1]
    assert note == f"{estimate_note(window.quality.estimate(window.frames[0]))} · flagged"
    other = tmp_path / "other.pt"
    other.write_bytes(Path(window.model_info.path).read_bytes())
    with qtbot.waitSignal(window.modelReady, timeout=RESULT_TIMEOUT):
        window.load_model(other)  # the same weights: the same estimates, computed again
    qtbot.waitUntil(lambda: window.frames[0] in window.quality.estimates, timeout=RESULT_TIMEOUT)
    assert list_text(window, 0).split("\n")[-1] == note
    window.close()



def test_an_image_rewritten_after_its_estimate_and_before_it_is_written_is_estimated_again(
        qtbot, make_window, image_folder, monkeypatch):
    """A value is kept with the stamp its image had when the value came, not when it is
    written (every 10 s, and on closing): an image another program rewrites in between is
    estimated again in the next session, not shown with the old picture's figure."""
    monkeypatch.setattr(kept, "SAVE_EVERY_MS", 600_000)  # written on closing only
    window = make_window()
    open_folder(qtbot, window, image_folder)
    segment_everything(qtbot, window)
    refs = list(window.frames)
    before = dict(window.quality.estimates)
    write_png(refs[2].path, scene_image(91))  # rewritten after its estimate came
    window.close()

    window = reopened(qtbot, make_window, [image_folder])
    qtbot.waitUntil(lambda: len(window.quality.estimates) >= 3, timeout=10000)
    settle(window.quality.kept.tasks, window.worker.tasks)
    assert set(window.quality.estimates) == set(refs) - {refs[2]}
    assert window.quality.estimate(refs[3]) == pytest.approx(before[refs[3]], abs=1e-5)
    window.close()
