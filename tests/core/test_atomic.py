"""Atomic writes: temporaries carry the writer's process id; a later process's first write
into the folder removes those that killed writers left, and keeps a live writer's; a write
tells the stamp of the file it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from segnet_core.atomic import (atomic_write_bytes, atomic_writer, cannot_write, file_stamp,
                                name_max, remove_stale_temporaries, temporary_prefix)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_temporary_name_carries_the_process_id_and_matches_no_final_name(tmp_path):
    target = tmp_path / "street.png"
    with atomic_writer(target) as handle:
        handle.write(b"x")
        [tmp] = [p for p in tmp_path.iterdir() if p.name != "street.png"]
        assert tmp.name.startswith(temporary_prefix("street.png"))
        assert tmp.name == f".street.png.{os.getpid()}.{tmp.name.split('.')[-2]}.tmp"
    assert [p.name for p in tmp_path.iterdir()] == ["street.png"]


def test_stale_temporaries_of_dead_writers_go_and_live_ones_stay(tmp_path):
    dead, live = dead_pid(), os.getppid()
    names = {
        f".a.png.{dead}.k3j_x.tmp": False,  # a killed mask write: removed
        f".clip.mp4.{dead}.q9.tmp.mp4": False,  # a killed video export: removed
        f".b.png.{live}.zz.tmp": True,  # a running process is still writing: kept
        f".c.png.{os.getpid()}.zz.tmp": True,  # ours
        ".legacy.png.abc123.tmp": True,  # no process id: not ours to judge
        "a.png": True, f"notes.{dead}.tmp": True,  # not hidden: a user's file
    }
    for name in names:
        (tmp_path / name).write_bytes(b"partial")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted(n for n, keep in names.items() if not keep)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for n, k in names.items() if k)


def test_the_first_write_into_a_folder_cleans_it_once(tmp_path):
    stale = tmp_path / f".a.png.{dead_pid()}.k3j_x.tmp"
    stale.write_bytes(b"partial")
    atomic_write_bytes(tmp_path / "b.png", b"new")
    assert not stale.exists() and (tmp_path / "b.png").read_bytes() == b"new"
    later = tmp_path / f".a.png.{dead_pid()}.k4_y.tmp"
    later.write_bytes(b"partial")
    atomic_write_bytes(tmp_path / "b.png", b"newer")  # not scanned again by this process
    assert later.exists()


def test_a_write_tells_the_stamp_of_the_file_it_wrote(tmp_path):
    path = tmp_path / "list.txt"
    assert file_stamp(path) is None  # no file
    stamp = atomic_write_bytes(path, b"a.png\n")
    assert stamp == file_stamp(path) == (path.stat().st_mtime_ns, 6, path.stat().st_ino)
    again = atomic_write_bytes(path, b"b.png\n")  # same size, maybe the same time: a new file
    assert again != stamp and again == file_stamp(path)
    stamps = []
    with pytest.raises(RuntimeError):
        with atomic_writer(path, stamps) as handle:
            handle.write(b"half")
            raise RuntimeError("the writer failed")
    assert stamps == [] and file_stamp(path) == again  # nothing written, nothing told


def test_cannot_write_says_why_a_file_could_not_be_written_and_leaves_nothing(tmp_path):
    (tmp_path / "a file").write_bytes(b"x")
    assert cannot_write(tmp_path) == "is a folder; give the file to write"
    assert cannot_write(tmp_path / "gone" / "m.pt") == \
        f"its folder {tmp_path / 'gone'} does not exist"
    assert cannot_write(tmp_path / "a file" / "m.pt") == f"{tmp_path / 'a file'} is not a folder"
    assert cannot_write(tmp_path / "m.pt") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file"]  # the probe is gone


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_cannot_write_finds_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert cannot_write(folder / "m.pt") == \
            f"no file can be made in {folder}: Permission denied"
    finally:
        folder.chmod(0o755)


def test_a_failed_write_names_the_file_asked_for_not_its_temporary(tmp_path, monkeypatch):
    """A user's check: a save to a read-only folder said "Read-only file system:
    '.../.a.png.4003.x1y2.tmp'", a name the user never asked for."""
    import tempfile

    target = tmp_path / "a.png"

    def read_only(prefix="", suffix="", dir=None):
        raise OSError(30, "Read-only file system", os.path.join(dir, f"{prefix}x1y2{suffix}"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OSError) as raised:
        atomic_write_bytes(target, b"data")
    assert str(raised.value) == f"[Errno 30] Read-only file system: '{target}'"
    monkeypatch.undo()

    def no_rename(source, destination):
        raise OSError(16, "Device or resource busy", source, destination)

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError) as raised:
        atomic_write_bytes(target, b"data")
    assert str(raised.value) == f"[Errno 16] Device or resource busy: '{target}'"
    monkeypatch.undo()
    assert not target.exists() and list(tmp_path.iterdir()) == []  # nothing left behind


def test_a_write_whose_empty_folder_is_removed_meanwhile_still_lands(tmp_path, monkeypatch):
    """A review: a window tidying its empty `.autosave/` at close made 82 of 2,000 autosaves
    of another window fail, between the folder's making and the temporary file's."""
    import segnet_core.atomic as atomic

    removed = []

    def remove_once(folder):  # runs between the two, as the other window's rmdir would
        if not removed:
            removed.append(folder)
            folder.rmdir()

    monkeypatch.setattr(atomic, "_clean_once", remove_once)
    path = tmp_path / ".autosave" / "a.png"
    atomic.atomic_write_bytes(path, b"kept")
    assert removed == [path.parent] and path.read_bytes() == b"kept"



def names_up_to_255_bytes(tmp_path):
    if name_max(tmp_path) != 255:
        pytest.skip("a file system whose names are not up to 255 bytes")


@pytest.mark.parametrize("name", ["L" * 251 + ".png", "L" + "é" * 125 + ".png"])  # 255 bytes
def test_a_name_as_long_as_the_file_system_takes_is_written(tmp_path, name):
    """A tester's check: a valid 244-character mask name failed with "File name too long",
    the temporary name beside it being ~20 characters longer."""
    names_up_to_255_bytes(tmp_path)
    target = tmp_path / name
    assert len(os.fsencode(name)) == 255
    with atomic_writer(target) as handle:
        handle.write(b"x")
        [tmp] = [p for p in tmp_path.iterdir() if p != target]
        assert tmp.name.startswith(temporary_prefix(name, 255)) and tmp.name.endswith(".tmp")
        assert len(os.fsencode(tmp.name)) <= 255
    assert [p.name for p in tmp_path.iterdir()] == [name] and target.read_bytes() == b"x"
    # a killed writer's temporary of such a name is known as one, and cleaned
    stale = tmp_path / tmp.name.replace(f".{os.getpid()}.", f".{dead_pid()}.")
    stale.write_bytes(b"partial")
    assert remove_stale_temporaries(tmp_path) == [stale]


def test_a_name_too_long_for_the_file_system_says_so_and_leaves_nothing(tmp_path):
    names_up_to_255_bytes(tmp_path)
    target = tmp_path / ("L" * 252 + ".png")
    with pytest.raises(OSError) as raised:
        atomic_write_bytes(target, b"x")
    assert str(raised.value) == ("[Errno 36] its name is too long for the file system "
                                 f"(256 bytes, at most 255): '{target}'")
    assert list(tmp_path.iterdir()) == []
