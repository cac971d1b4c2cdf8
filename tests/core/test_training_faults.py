"""Faults during training: a NaN batch, a disk full while saving a checkpoint, a cancel in
the middle of an epoch. The run ends with a clear error (or cleanly, for a cancel) and the
last good checkpoint resumes.

Cancel mid-epoch with an exact resume is covered by
tests/core/test_train.py::test_cancel_then_resume_continues_exactly (weights and metrics
equal to an uninterrupted run); a NaN loss from poisoned class weights by
test_train.py::test_nan_loss_stops_with_message_and_keeps_last_good_checkpoint.
"""

from __future__ import annotations

import errno
import os

import pytest
import torch

import segnet_core.atomic
from segnet_core.checkpoint import load_checkpoint
from segnet_core.errors import SegNetError
from segnet_core.train import StepProgress, TrainConfig, Trainer, TrainingError
from tests.core.synthetic import shapes_dataset


def _config(**changes) -> TrainConfig:
    base = dict(model="segnet-basic", size=(48, 48), epochs=2, batch_size=4, lr=0.05,
                device="cpu", precision="fp32", augment=False, seed=3)
    base.update(changes)
    return TrainConfig(**base)


def test_a_nan_batch_stops_with_training_error_and_the_last_good_checkpoint_resumes(
        tmp_path, monkeypatch):
    train = shapes_dataset(8, 0, size=(48, 48))
    torch.manual_seed(0)
    Trainer(_config(epochs=1), train, None, tmp_path).run()  # last.pt after epoch 1
    good = (tmp_path / "last.pt").read_bytes()

    trainer = Trainer(_config(epochs=3), train, None, tmp_path,
                      resume=load_checkpoint(tmp_path / "last.pt"))
    load = trainer._load_batch
    calls = []

    def poisoned(indices):
        x, y = load(indices)
        calls.append(1)
        if len(calls) == 2:  # the second batch of epoch 2: one NaN pixel
            x[0, 0, 5, 5] = float("nan")
        return x, y

    monkeypatch.setattr(trainer, "_load_batch", poisoned)
    with pytest.raises(TrainingError, match="loss became nan") as caught:
        trainer.run()
    assert "last good checkpoint" in str(caught.value)
    assert (tmp_path / "last.pt").read_bytes() == good  # never overwritten by the bad step
    resumed = Trainer(_config(epochs=3), train, None, tmp_path,
                      resume=load_checkpoint(tmp_path / "last.pt")).run()
    assert resumed.stopped == "finished" and resumed.epochs_completed == 3
    assert all(torch.isfinite(v).all() for v in resumed.model.state_dict().values()
               if v.is_floating_point())


def test_a_full_disk_while_saving_a_checkpoint_ends_the_run_naming_the_file(
        tmp_path, monkeypatch):
    train = shapes_dataset(8, 0, size=(48, 48))
    torch.manual_seed(0)
    Trainer(_config(epochs=1), train, None, tmp_path).run()
    good = (tmp_path / "last.pt").read_bytes()

    real_replace = os.replace

    def disk_full(src, dst, *args, **kwargs):
        if str(dst).endswith("last.pt"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(segnet_core.atomic.os, "replace", disk_full)
    trainer = Trainer(_config(epochs=2), train, None, tmp_path,
                      resume=load_checkpoint(tmp_path / "last.pt"))
    with pytest.raises(SegNetError) as caught:
        trainer.run()
    message = str(caught.value)
    assert str(tmp_path / "last.pt") in message and "No space left" in message
    monkeypatch.setattr(segnet_core.atomic.os, "replace", real_replace)
    assert (tmp_path / "last.pt").read_bytes() == good
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    resumed = Trainer(_config(epochs=2), train, None, tmp_path,
                      resume=load_checkpoint(tmp_path / "last.pt")).run()
    assert resumed.stopped == "finished" and resumed.epochs_completed == 2
    assert load_checkpoint(tmp_path / "last.pt").resume["epoch"] == 2


def test_a_cancel_mid_epoch_ends_cleanly_and_its_last_checkpoint_resumes(tmp_path):
    train = shapes_dataset(12, 0, size=(48, 48))
    trainer = None

    def cancel_at_step_2(event):
        if isinstance(event, StepProgress) and event.global_step == 2:
            trainer.cancel.cancel()

    torch.manual_seed(0)
    trainer = Trainer(_config(epochs=2), train, None, tmp_path, progress=cancel_at_step_2)
    stopped = trainer.run()
    assert stopped.stopped == "cancelled" and stopped.global_step == 2
    state = load_checkpoint(tmp_path / "last.pt").resume
    assert (state["epoch"], state["step"], state["global_step"]) == (0, 2, 2)
    resumed = Trainer(_config(epochs=2), train, None, tmp_path,
                      resume=load_checkpoint(tmp_path / "last.pt")).run()
    assert resumed.stopped == "finished" and resumed.global_step == 6
