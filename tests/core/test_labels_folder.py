"""The labels folder beside the images: names, the label set, autosaves and recovery."""

import os

import numpy as np
import pytest
from PIL import Image

from segnet_core.atomic import file_stamp
from segnet_core.errors import DataError
from segnet_core.labels import LabelSet
from segnet_core.masks.labels_folder import (
    FLAGGED,
    LABEL_SET_JSON,
    LABEL_SET_TXT,
    PROPAGATED,
    LabelsFolder,
    mask_name,
)

LABELS = LabelSet(("Sky", "Road", "Car"), ((70, 130, 180), (128, 64, 128), (220, 20, 60)))


def test_masks_are_named_by_the_image_stem_and_the_video_frame(tmp_path):
    assert mask_name(tmp_path / "street.jpg") == "street.png"
    assert mask_name(tmp_path / "clip.mp4", 12) == "clip_000012.png"
    folder = LabelsFolder.beside(tmp_path / "images" / "a.png")
    assert folder.root == tmp_path / "images" / "labels"
    assert folder.autosave_path("a.png") == tmp_path / "images" / "labels" / ".autosave" / "a.png"


def test_save_writes_an_index_png_and_the_label_set_and_reads_back(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    mask = np.array([[0, 1], [2, 3]], np.uint8)  # 3 is void
    stamp = folder.save("a.png", mask, LABELS)  # the stamp of the file it wrote
    path = folder.mask_path("a.png")
    assert stamp == file_stamp(path) == folder.mask_stamps()["a.png"]
    with Image.open(path) as image:
        assert image.mode == "P"
        assert np.array_equal(np.asarray(image), mask)
        assert image.getpalette()[:9] == [70, 130, 180, 128, 64, 128, 220, 20, 60]
    assert np.array_equal(folder.read("a.png", LABELS), mask)
    assert folder.read("b.png", LABELS) is None
    assert folder.read_label_set() == LABELS
    assert (folder.root / LABEL_SET_TXT).is_file()
    assert folder.mask_names() == {"a.png"}


def test_remove_takes_a_mask_and_its_autosave_away_and_nothing_there_is_no_error(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    mask = np.array([[0, 1], [2, 3]], np.uint8)
    folder.save("a.png", mask, LABELS)
    path = folder.mask_path("a.png")
    folder.save("b.png", mask, LABELS)
    folder.autosave("a.png", mask, LABELS, propagated=True)
    assert folder.remove("a.png") == path and not path.exists()
    assert not folder.autosave_path("a.png").exists()
    assert folder.newer_autosaves() == [] and folder.mask_names() == {"b.png"}
    assert folder.remove("a.png") == path  # already gone: no error
    assert folder.read("a.png", LABELS) is None


def test_a_mask_name_too_long_for_the_file_system_is_no_mask_and_cannot_be_saved(tmp_path):
    """A tester's check: the frames of a video whose stem is 248 characters have mask names
    of 259, which no file can have; looking for one raised, crashing the frame loader."""
    folder = LabelsFolder(tmp_path / "labels")
    folder.save("a.png", np.zeros((2, 2), np.uint8), LABELS)  # the folders are there
    folder.autosave("a.png", np.zeros((2, 2), np.uint8), LABELS)
    name = mask_name(tmp_path / ("L" * 248 + ".avi"), 14)
    assert len(name) == 259
    assert folder.read(name, LABELS) is None and folder.read_autosave(name, LABELS) is None
    assert not folder.has_mask(name) and not folder.has_autosave(name)
    assert folder.remove(name) == folder.mask_path(name)  # nothing to remove: no error
    folder.discard_autosave(name)
    with pytest.raises(OSError) as raised:
        folder.save(name, np.zeros((2, 2), np.uint8), LABELS)
    assert str(raised.value) == ("[Errno 36] its name is too long for the file system "
                                 f"(259 bytes, at most 255): '{folder.mask_path(name)}'")
    assert sorted(p.name for p in folder.root.iterdir()) == [".autosave", "a.png",
                                                              "label_colors.txt"]


def test_a_label_set_the_txt_form_cannot_hold_goes_to_json(tmp_path):
    voc_like = LabelSet(("A", "B"), ((1, 2, 3), (4, 5, 6)), void_index=255)
    folder = LabelsFolder(tmp_path / "labels")
    folder.save("x.png", np.array([[0, 255]], np.uint8), voc_like)
    assert (folder.root / LABEL_SET_JSON).is_file() and not (folder.root / LABEL_SET_TXT).exists()
    assert folder.read_label_set() == voc_like
    folder.save("x.png", np.array([[0, 2]], np.uint8), LABELS)  # back to a .txt-able set
    assert not (folder.root / LABEL_SET_JSON).exists()
    assert folder.read_label_set() == LABELS


def test_autosave_recovery_lists_autosaves_newer_than_their_masks(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    a = np.zeros((4, 4), np.uint8)
    folder.save("old.png", a, LABELS)
    folder.autosave("old.png", a + 1, LABELS)
    folder.autosave("never_saved.png", a + 2, LABELS)
    folder.save("saved_after.png", a, LABELS)
    folder.autosave("stale.png", a, LABELS)
    folder.save("stale.png", a + 1, LABELS)  # saving removes the autosave
    past = os.stat(folder.mask_path("old.png")).st_mtime_ns - 10**9
    os.utime(folder.mask_path("old.png"), ns=(past, past))
    found = folder.newer_autosaves()
    assert [r.name for r in found] == ["never_saved.png", "old.png"]
    assert np.array_equal(folder.read_autosave("old.png", LABELS), a + 1)
    folder.discard_autosave("old.png")
    assert [r.name for r in folder.newer_autosaves()] == ["never_saved.png"]
    assert folder.mask_names() == {"old.png", "saved_after.png", "stale.png"}
    assert LabelsFolder(tmp_path / "nothing").newer_autosaves() == []


def test_autosaves_of_propagated_labels_come_back_marked_until_saved_or_discarded(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    a = np.zeros((4, 4), np.uint8)
    for name in ("p1.png", "p2.png", "p3.png"):
        folder.autosave(name, a, LABELS, propagated=True)
    folder.autosave("plain.png", a, LABELS)
    assert {r.name: r.propagated for r in folder.newer_autosaves()} == {
        "p1.png": True, "p2.png": True, "p3.png": True, "plain.png": False}
    folder.autosave("p1.png", a + 1, LABELS, propagated=False)  # accepted since
    folder.save("p2.png", a, LABELS)  # saving removes the autosave and its marker
    folder.discard_autosave("p3.png")
    assert {r.name: r.propagated for r in folder.newer_autosaves()} == {
        "p1.png": False, "plain.png": False}
    assert sorted(p.name for p in folder.autosave_root.iterdir()) == ["p1.png", "plain.png"]


def test_a_crash_just_after_an_autosave_of_propagated_labels_leaves_it_marked(
        tmp_path, monkeypatch):
    """The process dies once the autosave is written: the labels come back marked for review
    (the marker comes first), and an accepted autosave cut off the same way keeps its old
    mark (the marker goes last: a frame marked once too often, never unreviewed unmarked)."""
    import segnet_core.masks.labels_folder as module

    class Killed(BaseException):
        pass

    real_write = module.write_index_mask

    def write_then_die(path, mask, label_set):
        real_write(path, mask, label_set)
        raise Killed

    folder = LabelsFolder(tmp_path / "labels")
    a = np.zeros((4, 4), np.uint8)
    monkeypatch.setattr(module, "write_index_mask", write_then_die)
    with pytest.raises(Killed):
        folder.autosave("p.png", a + 1, LABELS, propagated=True)
    assert [(r.name, r.propagated) for r in folder.newer_autosaves()] == [("p.png", True)]
    assert np.array_equal(folder.read_autosave("p.png", LABELS), a + 1)
    with pytest.raises(Killed):
        folder.autosave("p.png", a + 2, LABELS, propagated=False)
    assert [(r.name, r.propagated) for r in folder.newer_autosaves()] == [("p.png", True)]
    monkeypatch.setattr(module, "write_index_mask", real_write)
    folder.autosave("p.png", a + 2, LABELS, propagated=False)
    assert [(r.name, r.propagated) for r in folder.newer_autosaves()] == [("p.png", False)]


def test_a_marker_that_cannot_be_written_never_fails_the_autosave_or_the_save(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    a = np.zeros((4, 4), np.uint8)
    (folder.autosave_root / "p.png.propagated").mkdir(parents=True)  # in the way
    (folder.autosave_root / "p.png.propagated" / "x").write_text("")  # and not empty
    folder.autosave("p.png", a, LABELS, propagated=False)  # the marker cannot be removed...
    assert np.array_equal(folder.read_autosave("p.png", LABELS), a)  # ...the autosave stands
    folder.save("p.png", a + 1, LABELS)
    assert np.array_equal(folder.read("p.png", LABELS), a + 1)
    assert not folder.autosave_path("p.png").exists()


def test_stray_temporaries_are_ignored_and_removed_by_the_next_process_saving(tmp_path):
    import subprocess
    import sys

    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()
    folder = LabelsFolder(tmp_path / "labels")
    folder.root.mkdir()
    stray = folder.root / f".a.png.{killed.pid}.k2j3h4.tmp"  # what a killed save leaves
    stray.write_bytes(b"\x89PNG half a file")
    busy = folder.root / f".b.png.{os.getppid()}.zzz.tmp"  # a running process writing
    busy.write_bytes(b"")
    assert folder.mask_names() == set()
    folder.save("a.png", np.zeros((3, 3), np.uint8), LABELS)
    assert folder.mask_names() == {"a.png"}
    assert not stray.exists() and busy.exists()


def test_a_broken_mask_file_is_an_error_naming_it(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    folder.root.mkdir()
    folder.mask_path("a.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(DataError, match="a.png"):
        folder.read("a.png", LABELS)


def test_flagged_frames_are_listed_beside_the_masks_and_read_back(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    assert folder.read_names(FLAGGED) == set()  # no file: none flagged
    folder.write_names(FLAGGED, {mask_name("clip.mp4", 12), "street.png"})
    path = tmp_path / "labels" / "flagged.txt"
    assert path.read_text().splitlines()[1:] == ["clip_000012.png", "street.png"]
    assert folder.read_names(FLAGGED) == {"clip_000012.png", "street.png"}
    assert folder.mask_names() == set()  # not taken for a mask
    path.write_text(path.read_text() + "\n  \n# note\n other.png \n")  # edited by hand
    assert folder.read_names(FLAGGED) == {"clip_000012.png", "street.png", "other.png"}
    folder.write_names(FLAGGED, set())
    assert not path.exists()
    path.write_bytes("\ufeffstreet.png\r\nother.png\r\n".encode())  # "UTF-8 with BOM"
    assert folder.read_names(FLAGGED) == {"street.png", "other.png"}


def test_the_flags_stamp_tells_when_the_file_changed(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    assert folder.stamp(FLAGGED) is None  # no file
    written = folder.write_names(FLAGGED, {"a.png"})  # the stamp of what it wrote
    path = folder.root / "flagged.txt"
    assert written == (path.stat().st_mtime_ns, path.stat().st_size, path.stat().st_ino)
    assert folder.stamp(FLAGGED) == written  # unchanged: the same stamp
    path.write_text(path.read_text() + "b.png\n")  # edited by hand
    assert folder.stamp(FLAGGED) != written
    edited = folder.stamp(FLAGGED)
    copy = tmp_path / "copy.txt"  # an editor's save: a new file renamed onto it, here with
    copy.write_bytes(path.read_bytes())  # the same time and size: its inode tells it
    os.utime(copy, ns=(edited[0], edited[0]))
    os.replace(copy, path)
    assert folder.stamp(FLAGGED)[:2] == edited[:2] and folder.stamp(FLAGGED) != edited
    assert folder.write_names(FLAGGED, set()) is None
    assert folder.stamp(FLAGGED) is None


def test_each_list_has_its_own_file_and_comment(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    folder.root.mkdir()
    folder.write_names(FLAGGED, {"a.png"})
    folder.write_names(PROPAGATED, {"b.png", "c.png"})
    path = folder.root / "propagated.txt"
    assert path.read_text().splitlines()[0].startswith("# Frames whose labels were propagated")
    assert folder.read_names(PROPAGATED) == {"b.png", "c.png"}
    assert folder.read_names(FLAGGED) == {"a.png"}
    assert folder.mask_names() == set()


def test_a_flags_file_that_cannot_be_read_is_an_error_naming_it(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    folder.root.mkdir()
    (folder.root / "flagged.txt").write_bytes(b"\xff\xfe\x00broken")
    with pytest.raises(DataError, match="flagged.txt"):
        folder.read_names(FLAGGED)


def test_an_autosaves_marker_says_propagated_and_the_models_guess(tmp_path):
    """The marker beside an autosave: empty for propagated labels, "model's guess" for
    labels carried from the model's prediction, "..., accepted" once accepted; none for
    neither. Older empty markers read as propagated; one that reads otherwise, as
    propagated (to be looked over)."""
    folder = LabelsFolder(tmp_path / "labels")
    mask = np.zeros((4, 6), np.uint8)
    states = [(True, False), (True, True), (False, True), (False, False), (True, True)]
    for propagated, guess in states:
        folder.autosave("a.png", mask, LABELS, propagated, guess)
        (recovery,) = folder.newer_autosaves()
        assert (recovery.propagated, recovery.guess) == (propagated, guess)
        assert folder._marker("a.png").exists() == (propagated or guess)
    folder._marker("a.png").write_bytes(b"something else")
    (recovery,) = folder.newer_autosaves()
    assert (recovery.propagated, recovery.guess) == (True, False)
    assert not list(folder.autosave_root.glob("*.tmp"))  # written atomically, nothing left


@pytest.mark.parametrize("propagated, guess", [(False, False), (True, False), (True, True)])
def test_the_marker_of_an_autosave_whose_name_is_near_the_limit_fits(tmp_path, propagated,
                                                                      guess):
    """A review: a mask name of 250 bytes is valid, but `<name>.propagated` is not, so every
    such autosave came back marked propagated; the marker's name now gives way."""
    folder = LabelsFolder(tmp_path / "labels")
    name = "x" * 246 + ".png"
    folder.autosave(name, np.zeros((8, 8), np.uint8), LABELS, propagated=propagated,
                    guess=guess)
    [found] = folder.newer_autosaves()
    assert (found.name, found.propagated, found.guess) == (name, propagated, guess)
    folder.discard_autosave(name)
    assert not any((tmp_path / "labels" / ".autosave").iterdir())  # the marker went with it
