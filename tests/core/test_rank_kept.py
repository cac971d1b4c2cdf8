"""`segnet-studio rank` takes the estimates a model gave before (an earlier run, or the window:
`segnet_core.kept_estimates`) instead of segmenting those frames again, and keeps its own."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from segnet_core import kept_estimates, ranking
from segnet_core.cli import main
from segnet_core.inference import Predictor
from segnet_core.io.masks import write_index_mask
from segnet_core.kept_estimates import EstimateStore, ModelEstimates, SourceEstimates, model_key
from segnet_core.ranking import rank_inputs
from tests.core.test_rank import (  # noqa: F401 - fixtures
    CPU, LABELS, calibrated, images, varied_image)

KEPT = "frame(s) kept their estimates from before"


class CountingPredictor:
    """A Predictor that counts the frames it is given to segment."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor
        self.segmented: list[str] = []

    def __getattr__(self, name):
        return getattr(self.predictor, name)

    def predict_iter(self, items, cancel=None, on_stop=None):
        def counted():
            for (place, item), image in items:
                self.segmented.append(ranking.frame_name(item.source, item.frame))
                yield (place, item), image
        return self.predictor.predict_iter(counted(), cancel, on_stop)


def rank_json(paths, model: Path, capsys, *more: str) -> tuple[list[dict], str]:
    assert main(["rank", "--images", *map(str, paths), "--model", str(model), "--json",
                 "--order", "frame", *CPU, *more]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def write_clip(path: Path, frames: int) -> Path:
    """An MJPG video of `frames` frames (the six `varied_image`s in turn)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (48, 40))
    for i in range(frames):
        writer.write(varied_image(i % 6)[..., ::-1].copy())
    writer.release()
    return path


def kept_store(model: Path) -> tuple[EstimateStore, str]:
    """The test's kept estimates (tests/conftest.py's folder) and `model`'s key there."""
    return EstimateStore(kept_estimates.estimates_folder()), model_key(model)


def values(rows: list[dict]) -> list[tuple]:
    return [(row["frame"], row["estimated_accuracy"], row["priority"], row["corrected"],
             row["real_accuracy"]) for row in rows]


def test_a_second_rank_segments_only_the_frames_whose_files_changed(calibrated, images,
                                                                     capsys):
    first, err = rank_json([images], calibrated, capsys)
    assert KEPT not in err and len(first) == 6
    again, err = rank_json([images], calibrated, capsys)
    assert f"6 of 6 {KEPT} (--estimate-again to estimate them again)" in err
    assert values(again) == values(first)

    # one image rewritten (another picture), one frame corrected since: those two are
    # segmented again, the first for its estimate, the second for its real accuracy
    assert cv2.imwrite(str(images / "f1.png"), varied_image(9)[..., ::-1])
    write_index_mask(images / "labels" / "f4.png", np.zeros((40, 48), np.uint8), LABELS)
    predictor = CountingPredictor(Predictor.from_checkpoint(calibrated, device="cpu",
                                                            precision="fp32"))
    kept = ModelEstimates(*kept_store(calibrated))
    ranked = rank_inputs([images], predictor, kept=kept)
    assert predictor.segmented == ["f1.png", "f4.png"] and kept.given == 4
    assert main(["rank", "--images", str(images), "--model", str(calibrated), *CPU]) == 0
    assert f"6 of 6 {KEPT}" in capsys.readouterr().err  # all kept now, f4's real accuracy too
    # not "5 of 6" (a user's check): f4 had an estimate kept, but was segmented for its mask
    write_index_mask(images / "labels" / "f5.png", np.ones((40, 48), np.uint8), LABELS)
    assert f"5 of 6 {KEPT}" in rank_json([images], calibrated, capsys)[1]
    fresh = rank_json([images], calibrated, capsys, "--estimate-again")[0]
    ranked = rank_inputs([images], predictor, kept=ModelEstimates(*kept_store(calibrated)))
    assert [frame.as_dict() for frame in ranked] == fresh
    assert fresh[4]["corrected"] and fresh[4]["real_accuracy"] is not None
    assert fresh[1]["estimated_accuracy"] != first[1]["estimated_accuracy"]
    # and that real accuracy is kept too: nothing is segmented the next time
    predictor.segmented.clear()
    kept = ModelEstimates(*kept_store(calibrated))
    assert [frame.as_dict() for frame in rank_inputs([images], predictor, kept=kept)] == fresh
    assert predictor.segmented == [] and kept.given == 6


def test_a_mask_that_says_nothing_of_the_model_is_read_once_not_on_every_run(calibrated,
                                                                             images):
    void = LABELS.void_index
    mostly_void = np.full((40, 48), void, np.uint8)
    mostly_void[:10] = 1  # a quarter labelled (the user marked one object): no evidence
    write_index_mask(images / "labels" / "f2.png", mostly_void, LABELS)
    (images / "labels" / "f3.png").write_bytes(b"not a PNG")  # cannot be read: nor is this
    predictor = CountingPredictor(Predictor.from_checkpoint(calibrated, device="cpu",
                                                            precision="fp32"))
    said = []
    first = rank_inputs([images], predictor, kept=ModelEstimates(*kept_store(calibrated)),
                        warn=said.append)
    assert len(predictor.segmented) == 6
    assert [(frame.corrected, frame.real_accuracy) for frame in first[2:4]] == [
        (True, None), (False, None)]  # a mask that cannot be read is none
    assert said == [f"{images / 'labels' / 'f3.png'}: cannot be read as a mask: not an image "
                    "file; f3.png is ranked as not corrected"]
    predictor.segmented.clear()
    kept = ModelEstimates(*kept_store(calibrated))
    again = rank_inputs([images], predictor, kept=kept)
    assert predictor.segmented == [] and kept.given == 6  # not f2, f3 again
    assert [frame.as_dict() for frame in again] == [frame.as_dict() for frame in first]
    # the mask finished since: it says how right the model is now, so f2 is segmented again
    write_index_mask(images / "labels" / "f2.png", np.ones((40, 48), np.uint8), LABELS)
    kept = ModelEstimates(*kept_store(calibrated))
    third = rank_inputs([images], predictor, kept=kept)
    assert predictor.segmented == ["f2.png"] and kept.given == 5
    assert third[2].real_accuracy is not None


def test_another_model_or_the_model_rewritten_estimates_again(calibrated, images, tmp_path,
                                                              capsys):
    rank_json([images], calibrated, capsys)
    other = tmp_path / "other.pt"
    other.write_bytes(calibrated.read_bytes())  # the same weights, another file
    assert KEPT not in rank_json([images], other, capsys)[1]
    assert f"6 of 6 {KEPT}" in rank_json([images], other, capsys)[1]
    other.write_bytes(calibrated.read_bytes())  # rewritten: its estimates start afresh
    assert KEPT not in rank_json([images], other, capsys)[1]


def test_video_frames_are_kept_by_index(calibrated, tmp_path, capsys):
    video = write_clip(tmp_path / "clip.avi", 5)
    first = rank_json([video], calibrated, capsys)[0]
    again, err = rank_json([video], calibrated, capsys)
    assert f"5 of 5 {KEPT}" in err and values(again) == values(first)
    video.touch()  # the video changed: none of its frames' values holds
    assert KEPT not in rank_json([video], calibrated, capsys)[1]


def test_no_store_when_the_folder_is_empty_and_a_store_that_cannot_be_written_is_said_once(
        calibrated, images, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(kept_estimates.CACHE_ENV, "")  # keep none
    first = rank_json([images], calibrated, capsys)[0]
    assert KEPT not in rank_json([images], calibrated, capsys)[1]
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(kept_estimates.CACHE_ENV, str(blocked / "estimates"))
    monkeypatch.setattr(ranking, "KEEP_EVERY_S", 0.0)  # tried after every frame
    rows, err = rank_json([images], calibrated, capsys)
    assert values(rows) == values(first)
    assert err.count("warning: cannot keep the estimates for the next run in "
                     f"{blocked / 'estimates'}") == 1


def test_a_run_stopped_part_way_keeps_what_it_estimated(calibrated, images, monkeypatch):
    """Written every KEEP_EVERY_S while it runs, and when it stops: a run cancelled (or
    killed) is not lost."""
    from segnet_core.events import CancelToken

    monkeypatch.setattr(ranking, "KEEP_EVERY_S", 0.0)
    store, key = kept_store(calibrated)
    predictor = CountingPredictor(Predictor.from_checkpoint(calibrated, device="cpu",
                                                            precision="fp32", batch_size=1))
    kept_during: list[int] = []
    cancel = CancelToken()

    def progress(done: int) -> None:
        kept_during.append(len(store.load(key, images, False).estimates))
        if done == 3:
            cancel.cancel()

    ranked = rank_inputs([images], predictor, kept=ModelEstimates(store, key),
                         progress=progress, cancel=cancel)
    assert len(ranked) == 3 and kept_during[:3] == [1, 2, 3]
    predictor.segmented.clear()
    kept = ModelEstimates(store, key)
    assert len(rank_inputs([images], predictor, kept=kept)) == 6
    assert predictor.segmented == ["f3.png", "f4.png", "f5.png"] and kept.given == 3


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_the_default_folder_is_the_users_cache_folder(platform, tmp_path, monkeypatch):
    monkeypatch.delenv(kept_estimates.CACHE_ENV)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(Path, "home", lambda: tmp_path / "home")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    expected = {"linux": tmp_path / "home" / ".cache",
                "darwin": tmp_path / "home" / "Library" / "Caches",
                "win32": tmp_path / "local" / "cache"}[platform]
    assert kept_estimates.estimates_folder() == expected / "segnet-studio" / "estimates"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if platform == "linux":
        expected = tmp_path / "xdg"
    assert kept_estimates.estimates_folder() == expected / "segnet-studio" / "estimates"
    monkeypatch.delenv("LOCALAPPDATA")  # as Qt: the usual place under the home folder
    if platform == "win32":
        expected = tmp_path / "home" / "AppData" / "Local" / "cache"
    assert kept_estimates.estimates_folder() == expected / "segnet-studio" / "estimates"


def test_values_come_back_exactly_so_a_run_again_prints_the_same(tmp_path):
    """Rounded when kept, an estimate near a printed rounding edge (0.88484963 kept as
    0.88485) printed 0.8849 the second time against 0.8848 (60 CamVid frames: 2 differed)."""
    (tmp_path / "frames").mkdir()
    image = tmp_path / "frames" / "a.png"
    assert cv2.imwrite(str(image), varied_image(1))
    model = tmp_path / "model.pt"
    model.write_bytes(b"weights")
    store = EstimateStore(tmp_path / "kept")
    kept = ModelEstimates(store, model_key(model))
    kept.put(image, None, 0.8848496294812368)
    kept.save()
    again = ModelEstimates(store, model_key(model))
    assert again.get(image, None) == (0.8848496294812368, None)


def test_estimate_again_puts_right_what_was_kept_wrong(calibrated, images, capsys):
    """A kept value gone wrong (an image replaced keeping its stamp: `cp -p`) is put right by
    --estimate-again for the runs after it too (a review: it only stopped reading)."""
    right = rank_json([images], calibrated, capsys)[0][0]["estimated_accuracy"]
    kept = ModelEstimates(*kept_store(calibrated))
    kept.put(images / "f0.png", None, 0.01)
    kept.save()
    assert rank_json([images], calibrated, capsys)[0][0]["estimated_accuracy"] == 0.01
    assert rank_json([images], calibrated, capsys,
                     "--estimate-again")[0][0]["estimated_accuracy"] == right
    rows, err = rank_json([images], calibrated, capsys)
    assert rows[0]["estimated_accuracy"] == right and f"6 of 6 {KEPT}" in err


@pytest.fixture
def twelve(tmp_path) -> Path:
    folder = tmp_path / "twelve"
    folder.mkdir()
    for i in range(12):
        assert cv2.imwrite(str(folder / f"g{i:02d}.png"), varied_image(i % 6 + 1))
    return folder


@pytest.mark.parametrize("prefetch", [False, True])
def test_a_run_cancelled_ranks_the_frames_up_to_the_first_not_done(calibrated, twelve,
                                                                   prefetch):
    """With a prefetch thread running ahead over kept frames, a cancel left holes (a review:
    26 of 40 frames back, f12, f15... missing, and the frames either side of a hole taken as
    neighbours): now the frames from the first to the first not done."""
    from segnet_core.events import CancelToken

    store, key = kept_store(calibrated)
    predictor = Predictor.from_checkpoint(calibrated, device="cpu", precision="fp32",
                                          batch_size=4, prefetch=prefetch)
    first = rank_inputs([twelve], predictor, kept=ModelEstimates(store, key))
    store.save(key, twelve, False, {f"g{i:02d}.png" for i in range(0, 12, 3)},
               SourceEstimates())  # every third frame's entry gone: segmented again
    cancel = CancelToken()
    kept = ModelEstimates(store, key)
    ranked = rank_inputs([twelve], predictor, kept=kept, cancel=cancel,
                         progress=lambda done: cancel.cancel())
    names = [frame.frame for frame in ranked]
    assert names == [f"g{i:02d}.png" for i in range(len(names))] and len(names) < 12
    assert kept.given == sum(1 for i in range(len(names)) if i % 3)
    assert [frame.estimated_accuracy for frame in ranked] == pytest.approx(
        [frame.estimated_accuracy for frame in first[:len(names)]], abs=1e-6)


def test_a_stretch_of_kept_frames_shows_progress_and_stops_at_a_cancel(calibrated, tmp_path):
    """Kept frames come without the model: each is counted as it passes, and a cancel
    stops the run there, not after the whole video has been read (a review: one progress
    call, 3000 of 3000, at the end)."""
    from segnet_core.events import CancelToken

    video = write_clip(tmp_path / "long.avi", 60)
    store, key = kept_store(calibrated)
    predictor = Predictor.from_checkpoint(calibrated, device="cpu", precision="fp32",
                                          prefetch=True)
    rank_inputs([video], predictor, kept=ModelEstimates(store, key))
    calls: list[int] = []
    cancel = CancelToken()

    def progress(done: int) -> None:
        calls.append(done)
        if done == 5:
            cancel.cancel()

    ranked = rank_inputs([video], predictor, kept=ModelEstimates(store, key), cancel=cancel,
                         progress=progress)
    assert calls == [1, 2, 3, 4, 5] and len(ranked) == 5


def test_kept_estimates_are_of_the_models_own_calibration(calibrated, images):
    from segnet_core.quality import AccuracyCalibration

    predictor = Predictor.from_checkpoint(calibrated, device="cpu", precision="fp32")
    kept = ModelEstimates(*kept_store(calibrated))
    with pytest.raises(ValueError, match="own calibration"):
        rank_inputs([images], predictor, calibration=AccuracyCalibration(), kept=kept)


def test_an_error_in_the_model_stops_the_run_at_once_past_kept_frames(calibrated, tmp_path,
                                                                      monkeypatch):
    """The model fails on the one frame to segment while the prefetch thread goes through
    the kept ones after it: the error comes at once, not after the whole video was read (a
    review: 299 frames read first; Ctrl+C came the same way)."""
    video = write_clip(tmp_path / "long.avi", 300)
    store, key = kept_store(calibrated)
    predictor = Predictor.from_checkpoint(calibrated, device="cpu", precision="fp32",
                                          prefetch=True, batch_size=1)
    rank_inputs([video], predictor, kept=ModelEstimates(store, key))
    store.save(key, video, True, {0}, SourceEstimates())  # frame 0 to segment again
    started = threading.Event()
    read: list[int] = []

    def failing_run(batch):
        started.wait(5)  # the prefetch thread is on its way through the kept frames
        raise RuntimeError("out of memory")

    def progress(done: int) -> None:
        read.append(done)
        started.set()

    monkeypatch.setattr(predictor, "_run", failing_run)
    with pytest.raises(RuntimeError, match="out of memory"):
        rank_inputs([video], predictor, kept=ModelEstimates(store, key), progress=progress)
    assert 0 < len(read) < 100
