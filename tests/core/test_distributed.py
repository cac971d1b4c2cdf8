"""Two CPU processes under torchrun (gloo) train together and end with identical weights."""

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from segnet_core.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import os, sys, json
    import torch
    sys.path.insert(0, {root!r})
    from segnet_core.train import Message, TrainConfig, Trainer
    from tests.core.synthetic import shapes_dataset

    torch.manual_seed(int(os.environ["RANK"]))  # different on purpose: DDP must equalise
    config = TrainConfig(model="segnet-basic", size=(48, 48), epochs=1, batch_size=2, lr=0.05,
                         device="cpu", precision="fp32", augment=True, seed=3)
    messages = []
    trainer = Trainer(config, shapes_dataset(8, 0, (48, 48)), shapes_dataset(3, 1, (48, 48)),
                      {out!r}, progress=lambda e: messages.append(e.text) if isinstance(e, Message) else None)
    result = trainer.run()
    rank = int(os.environ["RANK"])
    torch.save(trainer.model.state_dict(), os.path.join({out!r}, f"rank{{rank}}.pt"))
    with open(os.path.join({out!r}, f"rank{{rank}}.json"), "w") as handle:
        json.dump({{"steps": result.global_step, "message": messages[0],
                   "miou": result.history[-1].miou}}, handle)
""")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT.format(root=str(ROOT), out=str(tmp_path)))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
               "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", str(_free_port()), str(script)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300,
                            cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    import json
    info0 = json.loads((tmp_path / "rank0.json").read_text())
    info1 = json.loads((tmp_path / "rank1.json").read_text())
    # 8 images, 2 per process, 2 processes: 2 iterations per epoch
    assert info0["steps"] == info1["steps"] == 2
    assert "effective batch 4 (2 per process x 2 processes, gloo)" in info0["message"]
    assert info0["miou"] == info1["miou"]  # validation confusion summed over both ranks
    checkpoint = load_checkpoint(tmp_path / "last.pt")
    model = checkpoint.build_model()
    assert all(torch.equal(v, rank0[k]) for k, v in model.state_dict().items())
