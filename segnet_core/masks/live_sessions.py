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
and removed when the session ends. Another session's mark is live while it is fresh (touched
within `STALE_S`) and, on the same host, its process is running: a crash's mark is dead at
once on the same host, after `STALE_S` from another one sharing the folder; dead marks are
removed by whoever finds them. The mark is written only where the labels folder exists (a
folder merely looked at gets no `labels/`): a held folder without one is looked for every
`WAITING_S`, so the mark follows the first write within that. Clocks of machines sharing a
folder should agree within a minute or so.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from segnet_core.atomic import atomic_write_bytes, process_running

LIVE_FOLDER = ".live"
MARK_SUFFIX = ".json"
#: how often a session touches its marks (s)
BEAT_S = 20.0
#: a mark not touched for this long is a dead session's (s)
STALE_S = 120.0
#: how often a held folder not created yet is looked for (s)
WAITING_S = 2.0


@dataclass(frozen=True)
class LiveSession:
    """Another session working in a labels folder, as its mark tells."""

    host: str
    pid: int
    started: float  # time.time() when it began
    mark: Path

    def describe(self) -> str:
        since = time.strftime("%H:%M", time.localtime(self.started))
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"another SegNet Studio window (process {self.pid}{where}, open since {since})"


class LiveSessions:
    """This session's marks, and a look at the others' (`others`)."""

    def __init__(self, beat_s: float = BEAT_S, stale_s: float = STALE_S) -> None:
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started = time.time()
        self.beat_s = beat_s
        self.stale_s = stale_s
        self._name = f"{_safe(self.host)}-{self.pid}-{uuid.uuid4().hex[:12]}{MARK_SUFFIX}"
        self._held: set[Path] = set()  # labels folders (roots)
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

    def wake(self) -> None:
        """Write the marks now (a labels folder may have been created)."""
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._beat, name="live-sessions",
                                            daemon=True)
            self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """The session ends: its marks are removed."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:
            held, self._held = set(self._held), set()
        for root in held:
            _remove(self.mark_path(root))

    def mark_path(self, root: str | Path) -> Path:
        return Path(root) / LIVE_FOLDER / self._name

    def _beat(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            with self._lock:
                held = list(self._held)
            waiting = False
            for root in held:
                if self._stop.is_set():
                    return
                waiting |= not self._touch(root)
            self._wake.wait(min(self.beat_s, WAITING_S) if waiting else self.beat_s)

    def _touch(self, root: Path) -> bool:
        """Touch (or write) the folder's mark; False when the folder does not exist yet."""
        if not root.is_dir():
            return False
        mark = self.mark_path(root)
        try:
            os.utime(mark)
            return True
        except OSError:
            pass  # not written yet (or removed by hand)
        text = json.dumps({"host": self.host, "pid": self.pid, "started": self.started})
        try:
            atomic_write_bytes(mark, text.encode())
        except OSError:
            pass  # a read-only folder: nothing of ours to protect there
        return True

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

    def _read(self, mark: Path) -> LiveSession | None:
        try:
            touched = mark.stat().st_mtime
            data = json.loads(mark.read_text(encoding="utf-8"))
            session = LiveSession(str(data["host"]), int(data["pid"]),
                                  float(data["started"]), mark)
        except FileNotFoundError:
            return None  # ended meanwhile
        except (OSError, ValueError, KeyError, TypeError):
            # unreadable: being written (the write is atomic, so hardly) or hand-made;
            # taken as live while fresh, to err on the side of the other's work
            return None if time.time() - _mtime(mark) > self.stale_s else \
                LiveSession("?", 0, _mtime(mark), mark)
        fresh = time.time() - touched <= self.stale_s
        alive = fresh and (session.host != self.host or process_running(session.pid))
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


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
