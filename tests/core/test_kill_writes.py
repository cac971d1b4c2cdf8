"""Writers killed with SIGKILL at random moments never leave a broken file under a final
name: an export (index + CamVid formats) and a checkpoint writer, each alternating between
two contents. After every kill each file under its final name loads (read_mask,
open_dataset, load_checkpoint) and equals the old or the new content.

Like tests/core/test_kill_mid_save.py (which does the same for masks and autosaves), a
helper process imports the library once and forks a writer per round. Rounds per writer:
$SEGNET_KILL_ROUNDS (default 12; the long run is SEGNET_KILL_ROUNDS=1000).

The app's start-up recovery of autosaves is checked at the core level here
(`LabelsFolder.newer_autosaves` after a writer was killed) and in the window by
tests/app/test_saving.py::test_autosave_timer_writes_only_changed_frames_and_start_offers_them_back
(a second window offers the autosave back and restores it) and
test_an_autosave_older_than_the_saved_mask_is_not_offered.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from segnet_core.checkpoint import load_checkpoint
from segnet_core.data.datasets import open_dataset
from segnet_core.labels import LabelSet
from segnet_core.io.images import read_image
from segnet_core.io.masks import read_mask
from segnet_core.masks.labels_folder import LabelsFolder

ROUNDS = int(os.environ.get("SEGNET_KILL_ROUNDS", "12"))
ROOT = Path(__file__).resolve().parents[2]
LABELS = LabelSet(("Sky", "Road", "Car"), ((70, 130, 180), (128, 64, 128), (220, 20, 60)))

HELPER = r"""
import os, sys
import numpy as np
import torch
from segnet_core.labels import LabelSet

kind, out = sys.argv[1], sys.argv[2]
labels = LabelSet(("Sky", "Road", "Car"), ((70, 130, 180), (128, 64, 128), (220, 20, 60)))

def export_contents(version):
    rng = np.random.default_rng(version)
    return [(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8),
             np.kron(rng.integers(0, 4, (60, 80)), np.ones((4, 4))).astype(np.uint8))
            for _ in range(4)]

if kind == "export":
    from segnet_core.export import ExportItem, export_masks
    contents = [export_contents(v) for v in (0, 1)]
    def write(i):
        items = [ExportItem(f"item{j}", mask, image=image)
                 for j, (image, mask) in enumerate(contents[i % 2])]
        export_masks(items, out, ["index", "camvid"], labels)
else:
    from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
    from segnet_core.models import build_model
    models = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        models.append(checkpoint_from_model(build_model("segnet-basic", 3), labels.to_dict(),
                                            (64, 64)))
    def write(i):
        save_checkpoint(os.path.join(out, "model.pt"), models[i % 2])

from tests.core.kill_protocol import serve_forks
serve_forks(write)
"""


class Helper:
    def __init__(self, kind: str, out: Path):
        self.process = subprocess.Popen([sys.executable, "-c", HELPER, kind, str(out)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, cwd=ROOT)

    def ask(self, line: str) -> str:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def once(self, start: int) -> float:
        began = time.perf_counter()
        assert self.ask(f"reap {int(self.ask(f'once {start}'))}") == "reaped"
        return time.perf_counter() - began

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _final_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not p.name.startswith(".") and not p.name.endswith(".tmp"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in _final_files(folder)}


def _kill_rounds(helper: Helper, check, cycle: float, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    checked = 0
    for round_ in range(ROUNDS):
        pid = int(helper.ask(f"fork {round_}"))
        time.sleep(rng.uniform(0.0, 1.5 * cycle))
        os.kill(pid, signal.SIGKILL)
        assert helper.ask(f"reap {pid}") == "reaped"
        checked += check()
    return ROUNDS, checked


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_an_export_killed_at_any_moment_leaves_old_or_new_files(tmp_path):
    out = tmp_path / "export"
    helper = Helper("export", out)
    try:
        # the two complete versions of every file, for comparison
        helper.once(0)
        versions = [_snapshot(out)]
        cycle = helper.once(1)
        versions.append(_snapshot(out))
        names = set(versions[0])
        assert names == set(versions[1]) and any(n.endswith(".png") for n in names)

        def check() -> int:
            files = _snapshot(out)
            assert set(files) == names  # nothing lost, nothing half-named
            for name, data in files.items():
                path = out / name
                if name == "manifest.json":
                    json.loads(data)  # the time stamps differ; it must parse
                    continue
                assert data in (versions[0][name], versions[1][name]), name
                if name.startswith("index/"):
                    read_mask(path, LABELS)
                elif name.startswith("camvid/train/"):
                    read_image(path)
            dataset = open_dataset(out / "camvid", "train")
            dataset[0]
            return len(files)

        rounds, checked = _kill_rounds(helper, check, cycle, seed=1)
        # what killed writes left are hidden temporaries (.<name>.<pid>.*.tmp) that match
        # no final name; the next export's first write into each folder removes them
        left = [p for p in out.rglob("*") if ".tmp" in p.name]
        assert all(p.name.startswith(".") for p in left)
        helper.once(0)  # a complete export afterwards
    finally:
        helper.close()
    assert [p for p in out.rglob("*") if ".tmp" in p.name] == []
    print(f"export: {rounds} kills, {checked} files checked, {len(left)} temporaries left "
          "by kills and removed by the next export")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_a_checkpoint_writer_killed_at_any_moment_leaves_the_old_or_new_model(tmp_path):
    helper = Helper("checkpoint", tmp_path)
    path = tmp_path / "model.pt"
    try:
        helper.once(0)
        states = [load_checkpoint(path).state_dict]
        cycle = helper.once(1)
        states.append(load_checkpoint(path).state_dict)
        assert not torch.equal(states[0]["encoder.0.0.weight"], states[1]["encoder.0.0.weight"])

        def check() -> int:
            state = load_checkpoint(path).state_dict
            assert any(all(torch.equal(state[k], s[k]) for k in s) and set(state) == set(s)
                       for s in states)
            return 1

        rounds, checked = _kill_rounds(helper, check, cycle, seed=2)
    finally:
        helper.close()
    print(f"checkpoints: {rounds} kills, {checked} files checked")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_an_autosave_left_by_a_killed_editor_is_found_on_the_next_start(tmp_path):
    folder = LabelsFolder(tmp_path / "labels")
    saved = np.zeros((32, 32), np.uint8)
    edited = saved.copy()
    edited[4:20, 4:20] = 2
    folder.save("frame.png", saved, LABELS)
    time.sleep(0.01)
    pid = os.fork()
    if pid == 0:  # the "editor": autosaves its edit, then dies without saving
        try:
            folder.autosave("frame.png", edited, LABELS)
            os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    restarted = LabelsFolder(tmp_path / "labels")  # a new start of the app
    found = restarted.newer_autosaves()
    assert [r.name for r in found] == ["frame.png"]
    assert np.array_equal(restarted.read_autosave("frame.png", LABELS), edited)
    assert np.array_equal(restarted.read("frame.png", LABELS), saved)
