"""Which sessions are working in a labels folder right now, so that one never takes another's
unsaved work for a crash's leftovers.

A window holding unsaved edits keeps them in autosaves, and the links of labels it carried in
`propagated_from.txt`, before any mask is saved. A second window on the same folder cannot
tell those from what a crashed session left: it would offer the autosaves back (and, told to
discard them, delete the first window's only copy) and take back the links when it closes (a
review: window B's links were gone once window A closed, and B then saved its carried labels
unlinked, counted as evidence).

So each session marks the labels folders it works in: `labels/.live/<host>-<pid>-<token>.json`,
touched every `BEAT_S` seconds by a thread of its own (a busy or frozen window still beats)
and removed when the session ends. Where the mark's process can be looked at (this machine,
this boot, this PID namespace: `_place`), another session's mark is live while that process
runs, the same process (its start time, on Linux: a PID reused by another process, or a
container restarted with the same PID, is not it); a crash's mark is dead at once. Elsewhere
(another machine sharing the folder, another PID namespace) it is live while fresh (touched
within `STALE_S`). Dead marks are removed by whoever finds them, and a mark that cannot be
read counts as live while fresh. The mark is written where the labels folder exists (a
folder merely looked at gets no `labels/`: another window is told of this one there), and
before this session's first write into one (`claim`, from the writing thread): nothing of
this session's is in a folder before that, so none is looked for meanwhile. Clocks of
machines sharing a folder should agree within a minute or so.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from typing import Iterable

from segnet_core.atomic import atomic_write_bytes, process_running

LIVE_FOLDER = ".live"
MARK_SUFFIX = ".json"
#: how often a session touches its marks (s)
BEAT_S = 20.0
#: a mark not touched for this long is a dead session's (s)
STALE_S = 120.0
#: how long closing waits for the marks' removal (s)
CLOSE_WAIT_S = 2.0


@dataclass(frozen=True)
class LiveSession:
    """Another session working in a labels folder, as its mark tells."""

    host: str
    pid: int
    started: float  # time.time() when it began
    mark: Path
    #: where its process can be looked at: machine, boot and PID namespace ("" unknown)
    place: str = ""
    #: its process's start time since boot, in clock ticks (Linux; -1 unknown)
    ticks: int = -1

    def describe(self) -> str:
        since = time.strftime("%H:%M", time.localtime(self.started))
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        process = f"process {self.pid}" if self.pid > 0 else "a process"
        return f"another SegNet Studio window ({process}{where}, open since {since})"


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.read().strip()
    except OSError:
        return ""


def _place() -> str:
    """Where this process's PIDs mean something: host, boot and PID namespace; "" where
    that cannot be told (not Linux), which leaves other sessions to their freshness."""
    boot = _read_text("/proc/sys/kernel/random/boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    if not (boot and namespace):  # macOS: one PID space per machine; Linux without /proc
        # (a container): none to trust, its PIDs may be another container's
        return f"{socket.gethostname()}|" if sys.platform == "darwin" else ""
    return f"{socket.gethostname()}|{boot}|{namespace}"


def _start_ticks(pid: int) -> int:
    """The process's start time since boot in clock ticks (/proc); -1 where unknown."""
    text = _read_text(f"/proc/{pid}/stat")
    fields = text.rpartition(")")[2].split()  # after the command's name, which may hold ")"
    try:
        return int(fields[19])  # field 22 of the file: starttime
    except (IndexError, ValueError):
        return -1


def _running_as(pid: int, ticks: int) -> bool:
    """Whether process `pid` runs, the one that started at `ticks` where both are known."""
    if not 0 < pid < 2 ** 31:
        return False
    try:
        running = process_running(pid)
    except OSError:
        return False
    if not running or ticks < 0:
        return running
    now = _start_ticks(pid)
    return now < 0 or now == ticks


class LiveSessions:
    """This session's marks, and a look at the others' (`others`)."""

    def __init__(self, beat_s: float = BEAT_S, stale_s: float = STALE_S) -> None:
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.place = _place()
        self.ticks = _start_ticks(self.pid)
        self.started = time.time()
        self.beat_s = beat_s
        self.stale_s = stale_s
        self._name = f"{_safe(self.host)}-{self.pid}-{uuid.uuid4().hex[:12]}{MARK_SUFFIX}"
        self._held: set[Path] = set()  # labels folders (roots)
        self._marked: set[Path] = set()  # those whose mark this session wrote
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ this session's marks

    def hold(self, roots: Iterable[str | Path]) -> None:
        """Mark these labels folders as worked in by this session, from now until `close`
        (written off the calling thread, where each folder exists)."""
        with self._lock:
            new = {Path(root) for root in roots} - self._held
            self._held |= new
        if new:
            self.wake()

    def claim(self, root: str | Path) -> None:
        """This session is about to write into labels folder `root`: its mark goes first,
        making the folder if need be (on the writing thread: a second window opening the
        folder after the write finds the mark)."""
        root = Path(root)
        with self._lock:
            if self._stop.is_set() or root in self._marked:
                return
            self._held.add(root)
        self._touch(root, make=True)
        self.wake()  # the beats from now on

    def wake(self) -> None:
        """Write the marks now (a labels folder may have been created)."""
        with self._lock:  # two writing threads' first claims: one beating thread
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._beat, name="live-sessions",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def close(self, tidy: Callable[[Path], None] = lambda _root: None) -> None:
        """The session ends: its marks are removed, with the marks' folder where that
        leaves it empty, and `tidy(root)` is called for each labels folder held (the window
        removes its autosave folder there when empty: a user's check found both left empty
        after every clean quit), by a thread waited for `CLOSE_WAIT_S` at most (a hung disk
        would hold the window's close for good; a mark left is dead once the process is
        gone). The beating thread stops by itself, and removes a mark it was writing
        meanwhile."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            held, self._held, self._marked = set(self._held), set(), set()

        def remove() -> None:
            for root in held:
                _remove(self.mark_path(root))
                remove_if_empty(root / LIVE_FOLDER)
                tidy(root)

        remover = threading.Thread(target=remove, name="live-sessions-close", daemon=True)
        remover.start()
        remover.join(timeout=CLOSE_WAIT_S)

    def mark_path(self, root: str | Path) -> Path:
        return Path(root) / LIVE_FOLDER / self._name

    def _beat(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            with self._lock:
                held = list(self._held)
            for root in held:
                if self._stop.is_set():
                    return
                self._touch(root)
            self._wake.wait(self.beat_s)

    def _touch(self, root: Path, make: bool = False) -> None:
        """Touch (or write) the folder's mark where the folder exists (`make`: made)."""
        if not make and not root.is_dir():
            return
        mark = self.mark_path(root)
        if self._stop.is_set():
            return
        try:
            os.utime(mark)
        except OSError:  # not written yet (or removed by hand)
            text = json.dumps({"host": self.host, "pid": self.pid, "started": self.started,
                               "place": self.place, "ticks": self.ticks})
            try:
                atomic_write_bytes(mark, text.encode())
            except OSError:
                return  # a read-only folder: nothing of ours to protect there
        with self._lock:
            self._marked.add(root)
        if self._stop.is_set():  # closed meanwhile (a slow disk): not left behind
            _remove(mark)

    # ------------------------------------------------------------ the others

    def others(self, root: str | Path) -> list[LiveSession]:
        """The other sessions working in the labels folder `root` now (another window of
        this process counts too). Dead marks found are removed."""
        folder = Path(root) / LIVE_FOLDER
        try:
            entries = [entry for entry in os.scandir(folder)
                       if entry.name.endswith(MARK_SUFFIX) and entry.name != self._name]
        except OSError:
            return []
        found = []
        for entry in entries:
            session = self._read(Path(entry.path))
            if session is not None:
                found.append(session)
        return found

    def others_in(self, roots: Iterable[str | Path]) -> dict[Path, list[LiveSession]]:
        """`others` of each labels folder among `roots`, each looked at once."""
        found: dict[Path, list[LiveSession]] = {}
        for root in map(Path, roots):
            if root not in found:
                found[root] = self.others(root)
        return found

    def _read(self, mark: Path) -> LiveSession | None:
        try:
            touched = mark.stat().st_mtime
            data = json.loads(mark.read_text(encoding="utf-8"))
            session = LiveSession(str(data["host"]), int(data["pid"]),
                                  float(data["started"]), mark, str(data.get("place", "")),
                                  int(data.get("ticks", -1)))
        except FileNotFoundError:
            return None  # ended meanwhile
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            # unreadable (hand-made, half copied): live while fresh, to err on the side of
            # the other's work
            session, touched = LiveSession("?", 0, _mtime(mark), mark), _mtime(mark)
        fresh = time.time() - touched <= self.stale_s
        if session.pid > 0 and session.place and session.place == self.place:
            # its process can be looked at: whatever its mark's age (a window stopped or
            # suspended beats again), unless only its PID is known
            alive = _running_as(session.pid, session.ticks) and (session.ticks >= 0 or fresh)
        else:
            alive = fresh
        if not alive:
            _remove(mark)
            return None
        return session


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._" else "_" for c in text) or "host"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def remove_if_empty(folder: Path) -> None:
    """Remove `folder` when it is empty; nothing otherwise (in use, gone, or not ours to
    remove)."""
    try:
        folder.rmdir()
    except OSError:
        pass


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
