"""A writer killed with SIGKILL at random moments never leaves a broken mask.

A helper process imports the library once and forks a writer for each round (so a round
costs the kill delay, not a Python start-up); the writer saves two different 2000x2000 masks
in turn, as masks and as autosaves, until the test kills it. After every kill each mask file
under its final name must load and equal one of the two contents. Rounds:
$SEGNET_KILL_ROUNDS (default 30).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from segnet_core.labels import LabelSet
from segnet_core.io.masks import read_mask
from segnet_core.masks.labels_folder import LabelsFolder

ROUNDS = int(os.environ.get("SEGNET_KILL_ROUNDS", "30"))
SIZE = 2000
LABELS = LabelSet(("Sky", "Road", "Car"), ((70, 130, 180), (128, 64, 128), (220, 20, 60)))

WRITER = r"""
import sys
import numpy as np
from segnet_core.labels import LabelSet
from segnet_core.masks.labels_folder import LabelsFolder

folder = LabelsFolder(sys.argv[1])
size = int(sys.argv[2])
labels = LabelSet(("Sky", "Road", "Car"), ((70, 130, 180), (128, 64, 128), (220, 20, 60)))
blocks = [np.random.default_rng(seed).integers(0, 4, (size // 4, size // 4)).astype(np.uint8)
          for seed in (0, 1)]
contents = [np.kron(b, np.ones((4, 4), np.uint8)) for b in blocks]

def write(i):
    folder.save("frame.png", contents[i % 2], labels)
    folder.autosave("frame.png", contents[(i + 1) % 2], labels)

from tests.core.kill_protocol import serve_forks
serve_forks(write)
"""


def contents() -> list[np.ndarray]:
    """Two masks in 4x4 blocks of random classes: a save takes about 0.15 s."""
    blocks = [np.random.default_rng(seed).integers(0, 4, (SIZE // 4, SIZE // 4))
              for seed in (0, 1)]
    return [np.kron(b.astype(np.uint8), np.ones((4, 4), np.uint8)) for b in blocks]


def mask_files(folder: LabelsFolder) -> list[Path]:
    return [folder.mask_path(n) for n in folder.mask_names()] + \
           [folder.autosave_path(n) for n in LabelsFolder(folder.autosave_root).mask_names()]


def temporaries(folder: LabelsFolder) -> list[Path]:
    return [p for d in (folder.root, folder.autosave_root) if d.is_dir()
            for p in d.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_masks_survive_sigkill_at_any_moment(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    expected = contents()
    helper = subprocess.Popen([sys.executable, "-c", WRITER, str(folder.root), str(SIZE)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])

    def ask(line: str) -> str:
        helper.stdin.write(line + "\n")
        helper.stdin.flush()
        return helper.stdout.readline().strip()

    rng = random.Random(int(os.environ.get("SEGNET_KILL_SEED", "0")))
    killed_mid_write = checked = 0
    try:
        assert ask(f"reap {int(ask('once'))}") == "reaped"  # the files exist from here on
        start = time.perf_counter()
        assert ask(f"reap {int(ask('once'))}") == "reaped"
        cycle = time.perf_counter() - start  # one save and one autosave
        for _ in range(ROUNDS):
            before = set(temporaries(folder))
            pid = int(ask("fork"))
            time.sleep(rng.uniform(0.0, 1.5 * cycle))
            os.kill(pid, signal.SIGKILL)
            assert ask(f"reap {pid}") == "reaped"
            killed_mid_write += bool(set(temporaries(folder)) - before)
            for path in mask_files(folder):
                mask = read_mask(path, LABELS)  # raises on a broken file
                assert any(np.array_equal(mask, e) for e in expected), path
                checked += 1
            assert folder.read_label_set() == LABELS
        pid = int(ask("once"))  # the next save cleans up what the kills left
        assert ask(f"reap {pid}") == "reaped"
    finally:
        helper.stdin.close()
        helper.wait(timeout=60)
    assert temporaries(folder) == []
    assert np.array_equal(folder.read("frame.png", LABELS), expected[0])
    print(f"{ROUNDS} kills, {killed_mid_write} inside a write, {checked} files checked")
    assert checked >= ROUNDS
    assert killed_mid_write > 0  # the kills did land inside writes
