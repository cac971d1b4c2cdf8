"""Freed memory: kept for speed by `retain_freed_memory`, handed back by
`release_freed_memory` (run in a child process: the settings are process-wide)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CHILD = textwrap.dedent("""
    import numpy as np
    from segnet_core.device import release_freed_memory, retain_freed_memory

    def rss_mib():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024

    assert retain_freed_memory()
    base = rss_mib()
    blocks = [np.ones(2**20) for _ in range(40)]  # 40 x 8 MiB, touched
    del blocks
    kept = rss_mib()
    assert release_freed_memory()
    print(round(kept - base), round(rss_mib() - base))
""")


@pytest.mark.skipif(sys.platform != "linux", reason="glibc malloc")
def test_memory_kept_after_a_burst_is_handed_back():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    kept, after = (int(v) for v in done.stdout.split())
    assert kept > 250  # retained: the 320 MiB burst stays in the process
    assert after < 50, (kept, after)  # released
