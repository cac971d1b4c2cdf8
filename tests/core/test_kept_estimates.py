"""Frame estimates kept between sessions: given back only while the files they came from are
unchanged, per model, merged across sessions, and never an error."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from filelock import FileLock

from segnet_core import kept_estimates
from segnet_core.kept_estimates import (FORMAT, EstimateStore, SourceEstimates, model_key)


def write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def folder(tmp_path):
    """Three 'images' and a saved mask for b.png (the store never decodes them)."""
    images = tmp_path / "frames"
    for name in ("a.png", "b.png", "c.png"):
        write(images / name, name.encode() * 10)
    write(images / "labels" / "b.png", b"a mask")  # nor the masks
    return images


@pytest.fixture
def model(tmp_path):
    return model_key(write(tmp_path / "models" / "m.pt", b"weights"))


def test_values_come_back_for_the_same_model_and_unchanged_files(tmp_path, folder, model):
    store = EstimateStore(tmp_path / "kept")
    kept = SourceEstimates({"a.png": 0.81, "b.png": 0.5, "c.png": 0.93}, {"b.png": 0.62})
    path = store.save(model, folder, False, {"a.png", "b.png", "c.png"}, kept)
    assert path.is_file() and path.parent.parent == tmp_path / "kept"
    again = store.load(model, folder, False)
    assert again.estimates == pytest.approx(kept.estimates) and again.measured == {"b.png": 0.62}


def test_two_writers_of_one_source_at_once_both_keep_what_they_add(tmp_path, folder, model):
    """The window and `rank` write the same folder's values at the same moment: the second
    waits for the first's read, merge and replace, then merges into what it wrote."""
    first, second = EstimateStore(tmp_path / "kept"), EstimateStore(tmp_path / "kept")
    first_read, read = threading.Event(), first._read

    def slow_read(*args):  # the first has read the file, and is merging when the second comes
        stored = read(*args)
        first_read.set()
        time.sleep(0.3)
        return stored

    first._read = slow_read
    writer = threading.Thread(target=first.save, args=(
        model, folder, False, {"a.png"}, SourceEstimates({"a.png": 0.81})))
    writer.start()
    assert first_read.wait(10)
    second.save(model, folder, False, {"c.png"}, SourceEstimates({"c.png": 0.93}))
    writer.join(10)
    assert second.load(model, folder, False).estimates == {"a.png": 0.81, "c.png": 0.93}


def test_a_write_that_cannot_have_the_lock_says_so_and_keeps_what_was_there(
        tmp_path, folder, model, monkeypatch):
    store = EstimateStore(tmp_path / "kept")
    path = store.save(model, folder, False, {"a.png"}, SourceEstimates({"a.png": 0.81}))
    monkeypatch.setattr(kept_estimates, "LOCK_WAIT_S", 0.2)
    with FileLock(f"{path}.lock"):  # held by another process that hangs
        with pytest.raises(OSError):
            store.save(model, folder, False, {"a.png"}, SourceEstimates({"a.png": 0.5}))
    assert store.load(model, folder, False).estimates == {"a.png": 0.81}
    assert [file.name for file in path.parent.iterdir() if not file.name.endswith(".lock")] \
        == [path.name]


def test_a_read_waits_for_a_write_under_way_and_reads_anyway_past_the_wait(
        tmp_path, folder, model, monkeypatch):
    """On Windows a file open for reading cannot be replaced: a read takes the lock too, and
    waits for a write under way; a lock held past the wait (a hung writer) is read through."""
    store = EstimateStore(tmp_path / "kept")
    path = store.save(model, folder, False, {"a.png"}, SourceEstimates({"a.png": 0.81}))
    read: list = []
    with FileLock(f"{path}.lock"):  # a write under way
        reader = threading.Thread(target=lambda: read.append(store.load(model, folder, False)))
        reader.start()
        time.sleep(0.3)
        assert read == []  # waiting
    reader.join(10)
    assert read[0].estimates == {"a.png": 0.81}
    monkeypatch.setattr(kept_estimates, "LOCK_WAIT_S", 0.2)
    with FileLock(f"{path}.lock"):  # a writer that hangs
        assert store.load(model, folder, False).estimates == {"a.png": 0.81}


def test_a_changed_image_or_mask_drops_its_values_alone(tmp_path, folder, model):
    store = EstimateStore(tmp_path / "kept")
    store.save(model, folder, False, {"a.png", "b.png", "c.png"},
               SourceEstimates({"a.png": 0.81, "b.png": 0.5, "c.png": 0.93}, {"b.png": 0.62}))
    write(folder / "a.png", b"another picture")
    write(folder / "labels" / "b.png", b"corrected again")
    again = store.load(model, folder, False)
    assert again.estimates == {"b.png": 0.5, "c.png": 0.93}  # b's image is as it was
    assert again.measured == {}  # its mask is not: the real accuracy is the old mask's
    (folder / "labels" / "b.png").unlink()
    (folder / "c.png").unlink()
    assert store.load(model, folder, False).estimates == {"b.png": 0.5}


def test_a_video_frame_keeps_its_values_while_the_video_file_is_unchanged(tmp_path, model):
    video = write(tmp_path / "clip.avi", b"frames" * 100)
    write(tmp_path / "labels" / "clip_000002.png", b"a mask")
    store = EstimateStore(tmp_path / "kept")
    store.save(model, video, True, {0, 1, 2}, SourceEstimates({0: 0.7, 1: 0.75, 2: 0.8},
                                                              {2: 0.66}))
    kept = store.load(model, video, True)
    assert kept.estimates == {0: 0.7, 1: 0.75, 2: 0.8} and kept.measured == {2: 0.66}
    write(video, b"re-encoded" * 60)
    assert store.load(model, video, True) == SourceEstimates()


def test_another_model_or_the_same_file_rewritten_finds_nothing(tmp_path, folder, model):
    store = EstimateStore(tmp_path / "kept")
    store.save(model, folder, False, {"a.png"}, SourceEstimates({"a.png": 0.8}))
    other = model_key(write(tmp_path / "models" / "other.pt", b"weights"))
    assert other != model and store.load(other, folder, False) == SourceEstimates()
    rewritten = model_key(write(tmp_path / "models" / "m.pt", b"fine-tuned weights"))
    assert rewritten != model and store.load(rewritten, folder, False) == SourceEstimates()
    assert model_key(tmp_path / "models" / "gone.pt") is None


def test_a_session_replaces_its_own_frames_and_keeps_the_others(tmp_path, folder, model):
    store = EstimateStore(tmp_path / "kept")
    store.save(model, folder, False, {"a.png", "b.png"},
               SourceEstimates({"a.png": 0.8, "b.png": 0.5}, {"b.png": 0.6}))
    # a later session opened c.png alone, and measured b again as no evidence
    store.save(model, folder, False, {"b.png", "c.png"},
               SourceEstimates({"b.png": 0.55, "c.png": 0.9}))
    kept = store.load(model, folder, False)
    assert kept.estimates == {"a.png": 0.8, "b.png": 0.55, "c.png": 0.9}
    assert kept.measured == {}


def test_broken_or_foreign_files_read_as_nothing_and_are_written_anew(tmp_path, folder, model):
    store = EstimateStore(tmp_path / "kept")
    path = store.path_of(model, folder)
    for text in ("{not json", json.dumps([1, 2]), json.dumps({"format": "other", "frames": {}}),
                 "\udcff", "[" * 100_000):  # the last nested too deep for the JSON reader
        write(path, text.encode("utf-8", "surrogateescape"))
        assert store.load(model, folder, False) == SourceEstimates()
    stamp = list(os.stat(folder / "a.png"))  # an entry of the wrong shape: that frame alone
    good = [os.stat(folder / "c.png").st_mtime_ns, os.stat(folder / "c.png").st_size,
            os.stat(folder / "c.png").st_ino]
    write(path, json.dumps({"format": FORMAT, "frames": {
        "a.png": {"image": stamp[:2], "estimate": 0.5}, "b.png": "nonsense",
        "c.png": {"image": good, "estimate": 7.0}, "d.png": {"image": good, "estimate": 0.4},
        "x": {"image": good, "estimate": 0.6}}}).encode())
    assert store.load(model, folder, False) == SourceEstimates()
    b_stamp = [os.stat(folder / "b.png").st_mtime_ns, os.stat(folder / "b.png").st_size,
               os.stat(folder / "b.png").st_ino]
    write(path, (f'{{"format": "{FORMAT}", "frames": {{'  # a number JSON reads as infinity
                 f'"a.png": {{"image": [1e400, 1, 1], "estimate": 0.5}}, '
                 f'"c.png": {{"image": {good}, "estimate": true}}, '
                 f'"b.png": {{"image": {b_stamp}, "estimate": 0.25}}}}}}').encode())
    assert store.load(model, folder, False) == SourceEstimates({"b.png": 0.25})
    store.save(model, folder, False, {"a.png"}, SourceEstimates({"a.png": 0.8}))
    assert store.load(model, folder, False).estimates == {"a.png": 0.8, "b.png": 0.25}


def test_only_the_most_recently_written_models_are_kept(tmp_path, folder):
    store = EstimateStore(tmp_path / "kept", keep_models=2)
    keys = [model_key(write(tmp_path / "models" / f"m{i}.pt", b"w")) for i in range(4)]
    for i, key in enumerate(keys):
        store.save(key, folder, False, {"a.png"}, SourceEstimates({"a.png": 0.1 * (i + 1)}))
        os.utime(store.path_of(key, folder), ns=(i * 10 ** 9, i * 10 ** 9))
        store.prune()
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == sorted(keys[2:])
    assert store.load(keys[3], folder, False).estimates == {"a.png": pytest.approx(0.4)}


def test_a_store_that_cannot_be_written_raises_and_loses_nothing(tmp_path, folder, model):
    blocked = write(tmp_path / "kept", b"a file where the folder should be")
    store = EstimateStore(blocked)
    with pytest.raises(OSError):
        store.save(model, folder, False, {"a.png"}, SourceEstimates({"a.png": 0.8}))
    assert store.load(model, folder, False) == SourceEstimates()
    assert blocked.read_bytes() == b"a file where the folder should be"


def test_a_real_accuracy_comes_back_only_with_the_mask_it_was_measured_on(tmp_path, folder,
                                                                          model):
    store = EstimateStore(tmp_path / "kept")
    path = store.save(model, folder, False, {"b.png"},
                      SourceEstimates({"b.png": 0.5}, {"b.png": 0.62}))
    assert store.load(model, folder, False).measured == {"b.png": 0.62}
    (folder / "labels" / "b.png").unlink()  # the mask deleted: nothing to be right by
    assert store.load(model, folder, False).measured == {}
    stored = json.loads(path.read_text())  # nor an entry that names no mask, mask or not
    del stored["frames"]["b.png"]["mask"]
    path.write_text(json.dumps(stored))
    assert store.load(model, folder, False) == SourceEstimates({"b.png": 0.5})


def test_a_copy_of_a_model_gets_what_is_kept_for_it(tmp_path, folder, model):
    store = EstimateStore(tmp_path / "kept")
    kept = SourceEstimates({"a.png": 0.8, "b.png": 0.5}, {"b.png": 0.6})
    store.save(model, folder, False, {"a.png", "b.png"}, kept)
    copy = model_key(write(tmp_path / "models" / "v001.pt", b"weights, saved as a version"))
    assert store.copy_model(model, copy) == 1
    assert store.load(copy, folder, False) == kept
    assert store.copy_model(model_key(write(tmp_path / "unknown.pt", b"w")), copy) == 0


def test_past_its_size_the_store_drops_the_least_recently_written_files(tmp_path, model):
    store = EstimateStore(tmp_path / "kept", keep_bytes=4000)
    sources = []
    for i in range(4):  # four folders of 20 frames, each about 1.7 KB kept
        images = tmp_path / f"drive{i}"
        names = {f"frame_{j:03d}.png" for j in range(20)}
        for name in names:
            write(images / name, b"x" * (i + 1))
        store.save(model, images, False, names, SourceEstimates({name: 0.5 for name in names}))
        os.utime(store.path_of(model, images), ns=(i * 10 ** 9, i * 10 ** 9))
        sources.append(images)
    store.prune()
    kept = [bool(store.load(model, images, False).estimates) for images in sources]
    assert kept == [False, False, True, True]  # the two written last fit
