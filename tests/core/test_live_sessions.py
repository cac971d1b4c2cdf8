"""Marks of the sessions working in a labels folder: seen by the others while alive, dead at
once when their process is gone, after a while when they stop beating."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from segnet_core.masks.live_sessions import LIVE_FOLDER, LiveSession, LiveSessions


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


def test_a_folder_without_labels_gets_none_until_this_session_writes_there(tmp_path,
                                                                            sessions):
    """Opening a folder of pictures makes no labels folder; this session's first write
    there brings the mark first (`claim`); one made by another program gets it at a beat."""
    labels = tmp_path / "labels"
    session = sessions()
    session.hold([labels])
    time.sleep(0.3)
    assert not labels.exists()
    session.claim(labels)  # the writing thread, before a first save
    assert session.mark_path(labels).is_file() and sessions().others(labels) != []
    other = tmp_path / "elsewhere" / "labels"
    session.hold([other])
    other.mkdir(parents=True)  # made by another window
    session.wake()  # as its next beat does
    assert wait_for(lambda: session.mark_path(other).is_file())


def write_mark(labels, name: str, host: str, pid: int, age_s: float = 0.0, place: str = "",
               ticks: int = -1):
    mark = labels / LIVE_FOLDER / name
    mark.parent.mkdir(parents=True, exist_ok=True)
    mark.write_text(json.dumps({"host": host, "pid": pid, "started": time.time() - age_s,
                                "place": place, "ticks": ticks}))
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
    mark = write_mark(labels, "crashed.json", session.host, dead_pid(), place=session.place)
    assert session.others(labels) == []
    assert not mark.exists()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="start times from /proc")
def test_a_mark_is_its_process_not_just_its_pid(tmp_path, sessions):
    """A review: a crashed session's PID reused (a container restarted gives its first
    process PID 1 again) kept its mark live, so its autosaves were never offered back; a
    window stopped or suspended for minutes whose process still runs is live all along."""
    labels = tmp_path / "labels"
    session = sessions()
    reused = write_mark(labels, "reused.json", session.host, os.getpid(), place=session.place,
                        ticks=session.ticks - 1)
    stopped = write_mark(labels, "stopped.json", session.host, os.getpid(), age_s=600,
                         place=session.place, ticks=session.ticks)
    assert [seen.mark for seen in session.others(labels)] == [stopped]
    assert not reused.exists()


def test_a_mark_from_another_pid_namespace_lives_while_fresh(tmp_path, sessions):
    """A review: a live session in a container (its PID meaningless here) had its mark
    removed as dead, and lost the protection."""
    labels = tmp_path / "labels"
    session = sessions()
    elsewhere = session.place + "-another-namespace"
    write_mark(labels, "container.json", session.host, dead_pid(), place=elsewhere)
    assert len(session.others(labels)) == 1


def test_a_mark_with_a_pid_no_process_can_have_is_dead_not_an_error(tmp_path, sessions):
    """A review: a corrupt mark's huge PID raised OverflowError out of `others`, which
    stopped the window's close half way."""
    labels = tmp_path / "labels"
    session = sessions()
    for number, pid in enumerate((2 ** 40, -1, 0)):
        write_mark(labels, f"odd{number}.json", session.host, pid, place=session.place)
    # the huge PID is no process: dead; none known (hand-made): live while fresh
    assert sorted(seen.pid for seen in session.others(labels)) == [-1, 0]
    assert "a process" in LiveSession("h", 0, time.time(), labels).describe()


def test_claiming_a_folder_writes_the_mark_before_the_first_write_there(tmp_path, sessions):
    """A review: in the 2 s after a window's first autosave made `labels/`, a second window
    opening the folder found no mark and offered that autosave back."""
    labels = tmp_path / "labels"
    session = sessions()
    session.hold([labels])
    session.claim(labels)  # on the writing thread, before the autosave
    assert session.mark_path(labels).is_file()
    assert len(sessions().others(labels)) == 1


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
    time.sleep(1.2)  # twice the staleness: only its beats keep it alive, seen from where
    remote = sessions(stale_s=0.6)  # its process cannot be looked at (a review: seen from
    remote.place = "another machine"  # here, its process kept it alive without a beat)
    assert len(remote.others(labels)) == 1


def test_an_unreadable_mark_counts_as_live_while_fresh(tmp_path, sessions):
    """Erring on the side of the other's work: a hand-made or half-copied mark; once
    stale, it is removed."""
    labels = tmp_path / "labels"
    mark = write_mark(labels, "odd.json", "x", 1)
    mark.write_text("{not json")
    assert len(sessions().others(labels)) == 1
    os.utime(mark, (time.time() - 600, time.time() - 600))
    assert sessions().others(labels) == [] and not mark.exists()


def test_closing_on_a_hung_disk_does_not_hold_the_window(tmp_path, sessions, monkeypatch):
    """A review of my own: the marks were removed on the closing (GUI) thread, so a hung
    disk would have held the window's close for good, where its list writes are left
    behind after 10 s."""
    import segnet_core.masks.live_sessions as live

    labels = tmp_path / "labels"
    session = sessions()
    session.claim(labels)
    hung = threading.Event()
    monkeypatch.setattr(live, "_remove", lambda path: hung.wait(30))
    started = time.monotonic()
    session.close()
    assert time.monotonic() - started < live.CLOSE_WAIT_S + 1.0
    hung.set()
