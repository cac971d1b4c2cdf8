"""Marks of the sessions working in a labels folder: seen by the others while alive, dead at
once when their process is gone, after a while when they stop beating."""

import json
import os
import subprocess
import sys
import time

import pytest

from segnet_core.masks.live_sessions import LIVE_FOLDER, LiveSessions


def wait_for(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def sessions():
    made = []

    def make(**kwargs) -> LiveSessions:
        made.append(LiveSessions(**kwargs))
        return made[-1]

    yield make
    for session in made:
        session.close()


def test_a_session_is_seen_by_another_while_it_works_in_the_folder(tmp_path, sessions):
    labels = tmp_path / "labels"
    labels.mkdir()
    first, second = sessions(), sessions()
    first.hold([labels])
    assert wait_for(lambda: first.mark_path(labels).is_file())
    [seen] = second.others(labels)
    assert (seen.pid, seen.host) == (os.getpid(), first.host)
    assert "another SegNet Studio window" in seen.describe()
    assert first.others(labels) == []  # not its own
    first.close()
    assert second.others(labels) == [] and not first.mark_path(labels).exists()


def test_a_folder_without_labels_gets_none_until_they_are_written(tmp_path, sessions):
    """Opening a folder of pictures makes no labels folder; the first write does, and the
    mark follows it within seconds."""
    labels = tmp_path / "labels"
    session = sessions()
    session.hold([labels])
    time.sleep(0.3)
    assert not labels.exists()
    labels.mkdir()  # a first save
    assert wait_for(lambda: session.mark_path(labels).is_file(), timeout=5.0)
    assert sessions().others(labels) != []


def write_mark(labels, name: str, host: str, pid: int, age_s: float = 0.0):
    mark = labels / LIVE_FOLDER / name
    mark.parent.mkdir(parents=True, exist_ok=True)
    mark.write_text(json.dumps({"host": host, "pid": pid, "started": time.time() - age_s}))
    os.utime(mark, (time.time() - age_s, time.time() - age_s))
    return mark


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(os.name != "posix", reason="a process's end is told on POSIX")
def test_a_crashed_sessions_mark_on_this_host_is_dead_at_once_and_removed(tmp_path, sessions):
    """A crash leaves its mark; restarting at once must still offer its autosaves back."""
    labels = tmp_path / "labels"
    session = sessions()
    mark = write_mark(labels, "crashed.json", session.host, dead_pid())
    assert session.others(labels) == []
    assert not mark.exists()


def test_another_hosts_mark_is_live_while_fresh_and_dead_once_stale(tmp_path, sessions):
    labels = tmp_path / "labels"
    session = sessions(stale_s=60.0)
    write_mark(labels, "fresh.json", "elsewhere", 1, age_s=5)
    stale = write_mark(labels, "stale.json", "elsewhere", 2, age_s=600)
    [seen] = session.others(labels)
    assert (seen.host, seen.pid) == ("elsewhere", 1) and "on elsewhere" in seen.describe()
    assert not stale.exists()


def test_a_working_session_keeps_its_mark_fresh(tmp_path, sessions):
    labels = tmp_path / "labels"
    labels.mkdir()
    working = sessions(beat_s=0.1, stale_s=0.6)
    working.hold([labels])
    assert wait_for(lambda: working.mark_path(labels).is_file())
    time.sleep(1.2)  # twice the staleness: only its beats keep it alive
    assert len(sessions(stale_s=0.6).others(labels)) == 1


def test_an_unreadable_mark_counts_as_live_while_fresh(tmp_path, sessions):
    """Erring on the side of the other's work: a hand-made or half-copied mark."""
    labels = tmp_path / "labels"
    mark = write_mark(labels, "odd.json", "x", 1)
    mark.write_text("{not json")
    assert len(sessions().others(labels)) == 1
