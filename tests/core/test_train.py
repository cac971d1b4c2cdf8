import json
import math

import numpy as np
import pytest
import torch

from segnet_core.checkpoint import load_checkpoint
from segnet_core.data import InMemoryDataset, open_dataset
from segnet_core.errors import SegNetError
from segnet_core.train import (Message, StepProgress, TrainConfig, Trainer, TrainingError,
                               ValidationRecord, recompute_batchnorm)
from tests.core.synthetic import shapes_dataset


def _config(**changes) -> TrainConfig:
    base = dict(model="segnet-basic", size=(64, 64), epochs=2, batch_size=4, lr=0.05,
                device="cpu", precision="fp32", augment=False, seed=1)
    base.update(changes)
    return TrainConfig(**base)


def _weights(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_loss_falls_and_the_model_learns_shapes(tmp_path):
    torch.manual_seed(0)
    events = []
    trainer = Trainer(_config(epochs=6), shapes_dataset(24, seed=0),
                      shapes_dataset(8, seed=1), tmp_path, progress=events.append)
    result = trainer.run()
    steps = [e for e in events if isinstance(e, StepProgress)]
    records = [e for e in events if isinstance(e, ValidationRecord)]
    assert result.stopped == "finished" and len(records) == 6
    assert np.mean([s.loss for s in steps[-6:]]) < 0.5 * np.mean([s.loss for s in steps[:6]])
    assert records[0].miou < 0.3 and result.best_miou > 0.5, [r.miou for r in records]
    assert result.best_miou == max(r.miou for r in records)
    assert isinstance(events[0], Message) and "effective" not in events[0].text


def test_outputs_best_last_log_and_plot(tmp_path):
    torch.manual_seed(0)
    result = Trainer(_config(), shapes_dataset(8, 0), shapes_dataset(4, 1), tmp_path).run()
    assert {p.name for p in tmp_path.iterdir()} >= {"best.pt", "last.pt", "log.jsonl",
                                                    "curves.png"}
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert lines[0]["event"] == "start" and len(lines[0]["class_weights"]) == 3
    assert [line["epoch"] for line in lines[1:]] == [1, 2]
    assert all({"miou", "global_accuracy", "class_accuracy", "train_loss"} <= set(line)
               for line in lines[1:])
    best = load_checkpoint(tmp_path / "best.pt")
    assert best.training["val"]["miou"] == pytest.approx(result.best_miou)
    assert best.training["data"] is None  # the caller said nothing of its frames
    assert best.input_size == (64, 64)
    assert best.label_set().names == ("background", "square", "disc")
    best.build_model()
    import cv2
    plot = cv2.imread(str(tmp_path / "curves.png"))
    assert plot is not None and plot.shape[0] > 100 and (plot < 250).any()


def test_cancel_then_resume_continues_exactly(tmp_path):
    train, val = shapes_dataset(10, 0), shapes_dataset(3, 1)
    torch.manual_seed(0)
    straight = Trainer(_config(epochs=2, augment=True), train, val, tmp_path / "a").run()

    torch.manual_seed(0)
    trainer = None

    def cancel_at_step_4(event):
        if isinstance(event, StepProgress) and event.global_step == 4:
            trainer.cancel.cancel()

    trainer = Trainer(_config(epochs=2, augment=True), train, val, tmp_path / "b",
                      progress=cancel_at_step_4)
    stopped = trainer.run()
    assert stopped.stopped == "cancelled" and stopped.global_step == 4
    resumed = Trainer(_config(epochs=2, augment=True), train, val, tmp_path / "b",
                      resume=load_checkpoint(tmp_path / "b" / "last.pt")).run()
    assert resumed.global_step == straight.global_step == 6
    assert resumed.stopped == "finished"
    ours, theirs = _weights(resumed.model), _weights(straight.model)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    assert [r.miou for r in resumed.history] == [r.miou for r in straight.history]


def test_nan_loss_stops_with_message_and_keeps_last_good_checkpoint(tmp_path):
    train = shapes_dataset(8, 0)
    Trainer(_config(epochs=1), train, None, tmp_path).run()
    before = (tmp_path / "last.pt").read_bytes()
    poisoned = np.array([1.0, float("nan"), 1.0], np.float32)
    trainer = Trainer(_config(epochs=2), train, None, tmp_path, weights=poisoned,
                      resume=load_checkpoint(tmp_path / "last.pt"))
    with pytest.raises(TrainingError, match="loss became nan at iteration 3"):
        trainer.run()
    assert (tmp_path / "last.pt").read_bytes() == before


def test_freeze_encoder_keeps_encoder_and_its_statistics(tmp_path):
    torch.manual_seed(0)
    trainer = Trainer(_config(epochs=1, freeze_encoder=True), shapes_dataset(8, 0), None, None)
    before = _weights(trainer.model)
    trainer.run()
    after = _weights(trainer.model)
    encoder_keys = [k for k in before if k.startswith("encoder.")]
    decoder_keys = [k for k in before if k.startswith("decoder.") and "weight" in k]
    assert encoder_keys and all(torch.equal(before[k], after[k]) for k in encoder_keys)
    assert any(not torch.equal(before[k], after[k]) for k in decoder_keys)


def test_recompute_batchnorm_gives_the_data_sets_statistics():
    torch.manual_seed(0)
    data = shapes_dataset(6, 0)
    config = _config(batch_size=3)  # equal batches: the mean of batch means is the mean
    trainer = Trainer(config, data, None, None)
    model = recompute_batchnorm(trainer.model, data, config, trainer.normalization,
                                torch.device("cpu"))
    from segnet_core.train import normalized_batch
    x = normalized_batch([data[i][0] for i in range(6)], trainer.normalization,
                         torch.device("cpu"))
    with torch.no_grad():
        conv_out = model.encoder[0][0](x)
    expected = conv_out.mean(dim=(0, 2, 3))
    assert torch.allclose(model.encoder[0][1].running_mean, expected, atol=1e-4)


def test_mismatched_start_checkpoint_is_refused(tmp_path):
    Trainer(_config(epochs=1), shapes_dataset(4, 0), None, tmp_path).run()
    from segnet_core.labels import LabelSet
    other = InMemoryDataset([(np.zeros((64, 64, 3), np.uint8), np.zeros((64, 64), np.uint8))],
                            LabelSet(("a", "b"), ((1, 1, 1), (2, 2, 2))))
    with pytest.raises(TrainingError, match="3 classes, the data set has 2"):
        Trainer(_config(), other, None, None, start=load_checkpoint(tmp_path / "last.pt"))


def test_cli_train_then_resume(tmp_path, capsys):
    from segnet_core import cli
    from segnet_core.io.masks import write_index_mask
    from tests.core.synthetic import SHAPES_LABELS, shapes_pair
    import cv2

    rng = np.random.default_rng(0)
    for split, count in (("train", 6), ("val", 2)):
        (tmp_path / "data" / split / "images").mkdir(parents=True)
        for i in range(count):
            image, mask = shapes_pair(rng)
            cv2.imwrite(str(tmp_path / "data" / split / "images" / f"f{i}.png"), image[:, :, ::-1])
            write_index_mask(tmp_path / "data" / split / "masks" / f"f{i}.png", mask,
                             SHAPES_LABELS)
    SHAPES_LABELS.write(tmp_path / "data" / "labels.json")
    out = tmp_path / "run"
    args = ["train", "--data", str(tmp_path / "data"), "--size", "64x64", "--epochs", "1",
            "--batch-size", "2", "--lr", "0.05", "--device", "cpu", "--out", str(out)]
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert "epoch 1: train loss" in err and "finished: 3 iterations" in err
    # a resume goes on with the run's own frames, whatever its command line says
    assert cli.main(args[:-2] + ["--epochs", "2", "--split", "train+val", "--resume",
                                 str(out / "last.pt"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "finished: 6 iterations" in err  # 6 frames, batch 2: 3 iterations an epoch
    assert "resuming on the frames the run started with: --split train --val-split val" in err
    assert load_checkpoint(out / "best.pt").label_set().names[1] == "square"
    # the frames it was trained on travel with it, through the resume, for reproduction
    assert load_checkpoint(out / "last.pt").training["data"] == {
        "source": "data", "splits": ["train"], "hold_out_drive": None, "validation": "val",
        "frames": 6}
    assert cli.main(args[:-2] + ["--split", "train+val", "--val-split", "none",
                                 "--out", str(tmp_path / "all")]) == 0
    record = load_checkpoint(tmp_path / "all" / "last.pt").training
    assert record["data"]["splits"] == ["train", "val"] and record["data"]["frames"] == 8
    assert record["data"]["validation"] is None and record["val"] is None


def test_resume_from_a_checkpoint_without_state_is_refused(tmp_path):
    Trainer(_config(epochs=1), shapes_dataset(4, 0), shapes_dataset(2, 1), tmp_path).run()
    with pytest.raises(TrainingError, match="cannot resume"):
        Trainer(_config(), shapes_dataset(4, 0), None, None,
                resume=load_checkpoint(tmp_path / "best.pt"))


def test_camvid_few_iterations_on_crops(camvid_root, tmp_path):
    train = InMemoryDataset.from_dataset(open_dataset(camvid_root, "train"), range(6))
    val = InMemoryDataset.from_dataset(open_dataset(camvid_root, "val"), range(2))
    torch.manual_seed(0)
    result = Trainer(_config(size=(96, 128), epochs=1, augment=True, batch_size=3,
                             precision="auto"), train, val, tmp_path).run()
    assert result.global_step == 2 and len(result.history) == 1
    assert 0 <= result.history[0].miou <= 1 and math.isfinite(result.history[0].train_loss)
    assert load_checkpoint(tmp_path / "last.pt").label_set().num_classes == 11


def test_ctrl_c_stops_cleanly_and_resume_finishes(tmp_path):
    """A real SIGINT to `segnet-studio train`: exit 130, last.pt written, --resume completes."""
    import signal
    import subprocess
    import sys
    import time

    from segnet_core.io.masks import write_index_mask
    from tests.core.synthetic import SHAPES_LABELS, shapes_pair
    import cv2

    rng = np.random.default_rng(0)
    (tmp_path / "data" / "images").mkdir(parents=True)
    for i in range(4):
        image, mask = shapes_pair(rng, (48, 48))
        cv2.imwrite(str(tmp_path / "data" / "images" / f"f{i}.png"), image[:, :, ::-1])
        write_index_mask(tmp_path / "data" / "masks" / f"f{i}.png", mask, SHAPES_LABELS)
    SHAPES_LABELS.write(tmp_path / "data" / "labels.json")
    out = tmp_path / "run"
    command = [sys.executable, "-m", "segnet_core.cli", "train", "--data",
               str(tmp_path / "data"), "--val-split", "none", "--size", "48x48",
               "--epochs", "1000", "--batch-size", "2", "--device", "cpu", "--out", str(out)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True,
                               env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 120
    while not (out / "last.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.2)  # last.pt appears after the first epoch
    assert (out / "last.pt").exists(), "training did not start"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    assert "stopping after this iteration" in err and "resume with:" in err
    state = load_checkpoint(out / "last.pt").resume
    assert state["global_step"] >= 2
    resume = [sys.executable, "-m", "segnet_core.cli", "train", "--data", str(tmp_path / "data"),
              "--val-split", "none", "--epochs", str(state["epoch"] + 1), "--resume",
              str(out / "last.pt"), "--device", "cpu", "--out", str(out)]
    result = subprocess.run(resume, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    final = load_checkpoint(out / "last.pt").resume
    assert final["epoch"] == state["epoch"] + 1 and final["step"] == 0


def test_step_schedule_drops_the_rate_after_the_given_epochs(tmp_path):
    config = _config(epochs=3, lr=0.2, lr_drops=(1, 2), lr_drop_factor=0.5)
    assert [config.learning_rate_at(e) for e in range(4)] == [0.2, 0.1, 0.05, 0.05]
    assert TrainConfig.from_dict(config.to_dict()) == config
    events = []
    result = Trainer(config, shapes_dataset(8, 0), shapes_dataset(2, 1), tmp_path,
                     progress=events.append).run()
    assert [r.learning_rate for r in result.history] == [0.2, 0.1, 0.05]
    assert "x0.5 after epoch 1, 2" in events[0].text


def test_resume_with_a_later_drop_equals_a_run_started_with_that_schedule(tmp_path):
    train, val = shapes_dataset(8, 0), shapes_dataset(2, 1)
    torch.manual_seed(0)
    straight = Trainer(_config(epochs=3, lr_drops=(2,)), train, val, tmp_path / "a").run()
    torch.manual_seed(0)
    Trainer(_config(epochs=2), train, val, tmp_path / "b").run()  # no drop planned at first
    extended = Trainer(_config(epochs=3, lr_drops=(2,)), train, val, tmp_path / "b",
                       resume=load_checkpoint(tmp_path / "b" / "last.pt")).run()
    ours, theirs = _weights(extended.model), _weights(straight.model)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    assert [r.learning_rate for r in extended.history] == [0.05, 0.05, pytest.approx(0.005)]


def test_resume_refuses_a_schedule_that_rewrites_trained_epochs(tmp_path):
    train = shapes_dataset(8, 0)
    Trainer(_config(epochs=2), train, None, tmp_path).run()
    with pytest.raises(TrainingError, match="epoch 2 was trained at learning rate 0.05"):
        Trainer(_config(epochs=4, lr_drops=(1,)), train, None, tmp_path,
                resume=load_checkpoint(tmp_path / "last.pt"))
