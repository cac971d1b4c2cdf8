"""The helper side of the kill tests (test_kill_writes.py, test_kill_mid_save.py): a process
that imported the library once and forks a writer per round, so a round costs the kill
delay, not a Python start-up.

Commands on stdin, one per line:
  fork [N]  fork a writer calling write(N), write(N + 1), ... until it is killed; print its pid
  once [N]  fork a writer calling write(N) once; print its pid
  reap PID  wait for that writer to end; print "reaped"
"""

from __future__ import annotations

import os
import sys
from typing import Callable


def serve_forks(write: Callable[[int], None]) -> None:
    for line in sys.stdin:
        command, *args = line.split()
        if command in ("fork", "once"):
            start = int(args[0]) if args else 0
            pid = os.fork()
            if pid == 0:
                try:
                    i = start
                    while True:
                        write(i)
                        i += 1
                        if command == "once":
                            break
                finally:
                    os._exit(0)
            print(pid, flush=True)
        elif command == "reap":
            os.waitpid(int(args[0]), 0)
            print("reaped", flush=True)
