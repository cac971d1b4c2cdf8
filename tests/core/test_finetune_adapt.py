"""Label-free adaptation: batch-norm statistics of the user's frames, pseudo-labels, drift."""

import numpy as np
import pytest
import torch

from segnet_core.finetune.adapt import (MixedFrames, adapt_batchnorm, batchnorm_layers,
                                        changed_share, confident_labels, spread)
from segnet_core.models import build_model
from segnet_core.train import IMAGENET_NORMALIZATION, normalized_batch


def frames(seed, n=6, brightness=0):
    rng = np.random.default_rng(seed)
    return [np.clip(rng.integers(0, 200, (48, 64, 3)) + brightness, 0, 255).astype(np.uint8)
            for _ in range(n)]


def test_statistics_become_those_of_the_frames_and_the_original_is_untouched():
    torch.manual_seed(0)
    model = build_model("segnet-basic", 5).eval()
    before = [layer.running_mean.clone() for layer in batchnorm_layers(model)]
    images = frames(1, brightness=50)
    adapted = adapt_batchnorm(model, images, input_size=(48, 64),
                              normalization=IMAGENET_NORMALIZATION, batch_size=6)
    for layer, old in zip(batchnorm_layers(model), before):
        assert torch.equal(layer.running_mean, old)
    x = normalized_batch(images, IMAGENET_NORMALIZATION, torch.device("cpu"))
    conv = next(m for m in adapted.modules() if isinstance(m, torch.nn.Conv2d))
    expected = conv(x).mean(dim=(0, 2, 3))
    first_bn = batchnorm_layers(adapted)[0]
    torch.testing.assert_close(first_bn.running_mean, expected.detach(), rtol=1e-4, atol=1e-4)
    assert all(layer.momentum == 0.1 for layer in batchnorm_layers(adapted))
    assert not adapted.training
    for name, tensor in model.state_dict().items():
        if "running" not in name and "num_batches" not in name:
            assert torch.equal(tensor, adapted.state_dict()[name])


def test_a_cancelled_adaptation_returns_none():
    model = build_model("segnet-basic", 5).eval()
    assert adapt_batchnorm(model, frames(2), input_size=(48, 64),
                           normalization=IMAGENET_NORMALIZATION, cancelled=lambda: True) is None


def test_confident_labels_void_the_unsure_pixels():
    labels = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    confidence = np.array([[0.95, 0.5], [0.9, 0.89]], dtype=np.float32)
    assert confident_labels(labels, confidence, 0.9, 11).tolist() == [[1, 11], [3, 11]]


def test_changed_share_counts_pixels_over_all_frames():
    a = [np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8)]
    b = [np.array([[0, 1], [0, 0]], np.uint8), np.ones((2, 3), np.uint8)]
    assert changed_share(a, b) == 7 / 10


def test_spread_picks_evenly_and_keeps_short_lists():
    assert spread(list(range(10)), 20) == list(range(10))
    assert spread(list(range(100)), 4) == [12, 37, 62, 87]
    assert spread([1, 2], 0) == []


def test_mixed_frames_keep_half_the_epoch_for_the_corrections():
    corrected = [(np.zeros((4, 4, 3), np.uint8), np.full((4, 4), i, np.uint8)) for i in range(3)]
    pseudo = [(np.ones((4, 4, 3), np.uint8), np.full((4, 4), 10 + i, np.uint8)) for i in range(7)]
    mixed = MixedFrames(corrected, pseudo, None, samples=10)
    values = [int(mixed.read_mask(i)[0, 0]) for i in range(len(mixed))]
    assert values == [0, 1, 2, 0, 1, 10, 11, 12, 13, 14]
    alone = MixedFrames(corrected, [], None, samples=4)
    assert [int(alone[i][1][0, 0]) for i in range(4)] == [0, 1, 2, 0]
    with pytest.raises(IndexError):
        mixed[10]


def test_a_run_with_uncorrected_frames_adapts_pseudo_labels_and_reports_drift(tmp_path):
    from segnet_core.checkpoint import checkpoint_from_model
    from segnet_core.finetune import FineTuneSettings
    from segnet_core.finetune.run import run_finetune
    from tests.core.synthetic import SHAPES_LABELS, shapes_pair

    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    size = (48, 48)
    base = checkpoint_from_model(build_model("segnet-basic", SHAPES_LABELS.num_classes),
                                 SHAPES_LABELS.to_dict(), size)
    corrected = [shapes_pair(rng, size) for _ in range(3)]
    uncorrected = [shapes_pair(rng, size)[0] for _ in range(5)]
    settings = FineTuneSettings(epochs=1, batch_size=2, samples_per_epoch=4, holdout=(2,),
                                pseudo_threshold=0.05, adapt_batchnorm=True, device="cpu",
                                precision="fp32")
    result = run_finetune(base, corrected, SHAPES_LABELS, settings, out_dir=tmp_path / "run",
                          unlabelled=uncorrected)
    record = result.checkpoint.training["fine_tune"]
    assert record["pseudo_labelled_frames"] == 5
    assert record["adapted_frames"] == 2 + 5  # the held-out frame is never used
    assert record["drift_frames"] == 5 and 0.0 <= record["drift"] <= 1.0
    assert record["uncorrected_frames"] == 5
    assert result.global_step == 2 and result.after is not None
