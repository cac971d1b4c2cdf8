"""The open-frame list (Qt-free) and the prediction cache."""

from pathlib import Path

import numpy as np

from app.frames import FrameList, FrameReader, FrameRef, FrameStatus
from app.prediction_cache import PredictionCache
from segnet_core.predict import Prediction


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


def test_reader_reads_images_and_statuses_change(image_folder):
    frames = FrameList()
    frames.add_paths([image_folder / "b.png"])
    ref = frames[0]
    assert FrameReader().read(ref).shape == (64, 96, 3)
    assert frames.set_status(ref, FrameStatus.SEGMENTED)
    assert not frames.set_status(ref, FrameStatus.SEGMENTED)
    assert frames.with_status(FrameStatus.SEGMENTED) == [ref]
    assert not frames.set_status(FrameRef(Path("/elsewhere.png")), FrameStatus.SEGMENTED)


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
