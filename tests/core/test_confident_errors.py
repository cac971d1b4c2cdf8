"""`benchmarks/confident_errors.py`: wrong pixels split by whether the model was sure there,
counted by (truth, predicted) class and per frame."""

import importlib.util
from pathlib import Path

import numpy as np
import torch

from segnet_core.inference import Predictor
from segnet_core.labels import LabelSet
from segnet_core.models import build_model

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "confident_errors.py"
_spec = importlib.util.spec_from_file_location("confident_errors", _PATH)
confident_errors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(confident_errors)

LABELS = LabelSet(("Sky", "Road", "Car"), ((128, 0, 0), (0, 128, 0), (0, 0, 128)))


def test_wrong_pixels_are_split_by_the_models_confidence():
    torch.manual_seed(0)
    predictor = Predictor(build_model("segnet-basic", 3), LABELS, input_size=None,
                          normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, device="cpu",
                          precision="fp32")
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (32, 40, 3), dtype=np.uint8) for _ in range(2)]
    frames, expected = [], []
    for image in images:
        prediction = predictor.predict(image)
        truth = prediction.labels.copy()
        truth[:8] = (truth[:8] + 1) % 3  # the top rows are wrong, whatever the model said
        truth[-4:] = LABELS.void_index  # void: neither right nor wrong
        wrong = np.zeros(truth.shape, bool)
        wrong[:8] = True
        sure = prediction.confidence >= 0.4
        expected.append((wrong & sure, truth, prediction.labels))
        frames.append((image, truth))

    shares, sure_pairs, all_pairs = confident_errors.sure_errors(predictor, frames, 0.4)

    valid = 28 * 40
    assert np.allclose(shares[:, 0], 8 * 40 / valid)  # the error share of each frame
    assert np.allclose(shares[:, 1], [mask.sum() / valid for mask, _, _ in expected])
    assert all_pairs.sum() == 2 * 8 * 40
    pairs = np.zeros((3, 3))
    for mask, truth, labels in expected:
        np.add.at(pairs, (truth[mask], labels[mask]), 1)
    assert np.array_equal(sure_pairs, pairs)  # (truth, predicted) of the sure errors
    assert 0 < sure_pairs.sum() < all_pairs.sum()  # some sure, some not: the split is real
