"""Predictor: sizes, resizing and padding, confidence, batching, precision, bad inputs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
from segnet_core.errors import CheckpointError, SegNetError
from segnet_core.labels import LabelSet
from segnet_core.models import build_model
from segnet_core.inference import Prediction, Predictor, prepare_image
from segnet_core.events import CancelToken

K = 3
LABELS = LabelSet(("Sky", "Road", "Car"), ((128, 0, 0), (0, 128, 0), (0, 0, 128)))
NORM = {"mean": [0.4, 0.5, 0.6], "std": [0.2, 0.25, 0.3]}


def tiny_checkpoint(tmp_path: Path, input_size=None, name: str = "bilinear",
                    labels: LabelSet = LABELS, classes: int = K) -> Path:
    torch.manual_seed(0)
    model = build_model(name, classes)
    path = tmp_path / f"{name}-{input_size}.pt"
    save_checkpoint(path, checkpoint_from_model(model, labels.to_dict(), input_size, NORM))
    return path


def random_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("checkpoints")
    return {"free": tiny_checkpoint(folder), "sized": tiny_checkpoint(folder, (64, 64)),
            "basic": tiny_checkpoint(folder, name="segnet-basic")}


@pytest.fixture
def predictor(checkpoints) -> Predictor:
    return Predictor.from_checkpoint(checkpoints["free"], device="cpu", precision="fp32")


@pytest.fixture
def sized_predictor(checkpoints) -> Predictor:
    return Predictor.from_checkpoint(checkpoints["sized"], device="cpu", precision="fp32",
                                     batch_size=2)


def check_prediction(prediction: Prediction, size: tuple[int, int]) -> None:
    assert prediction.labels.shape == size and prediction.labels.dtype == np.uint8
    assert prediction.confidence.shape == size and prediction.confidence.dtype == np.float32
    assert prediction.labels.max() < K
    assert prediction.confidence.min() >= 0.0 and prediction.confidence.max() <= 1.0
    assert prediction.confidence.min() >= 1.0 / K - 1e-5  # the largest of K probabilities


def direct_outputs(predictor: Predictor, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and max softmax computed here, without the Predictor's own steps."""
    x = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255.0
    mean = torch.tensor(NORM["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(NORM["std"]).view(1, 3, 1, 1)
    with torch.no_grad():
        probabilities = torch.softmax(predictor.model((x - mean) / std), dim=1)[0]
    confidence, labels = probabilities.max(dim=0)
    return labels.numpy().astype(np.uint8), confidence.numpy()


def test_attributes(predictor):
    assert predictor.device == torch.device("cpu")
    assert predictor.precision == "fp32"
    assert "CPU" in predictor.device_description
    assert predictor.model.training is False
    assert predictor.input_size is None and predictor.label_set == LABELS
    predictor.predict(random_image(40, 40))
    assert predictor.last_inference_seconds > 0


def test_own_size_at_odd_and_small_sizes(checkpoints):
    predictor = Predictor.from_checkpoint(checkpoints["basic"], device="cpu", precision="fp32")
    for size in [(33, 47), (45, 32), (31, 70), (5, 7), (1, 1), (1, 40)]:
        check_prediction(predictor.predict(random_image(*size)), size)


def test_small_image_is_padded_and_cropped_back(predictor):
    image = random_image(20, 50)
    prepared, restore = prepare_image(image, None)
    assert prepared.shape == (32, 50, 3) and restore.padded and restore.resized is None
    np.testing.assert_array_equal(prepared[:20], image)
    labels, confidence = direct_outputs(predictor, prepared)
    prediction = predictor.predict(image)
    np.testing.assert_array_equal(prediction.labels, labels[:20])
    np.testing.assert_allclose(prediction.confidence, confidence[:20], atol=1e-5)


@pytest.mark.parametrize("size", [(50, 70), (100, 90), (17, 200)])  # enlarge, shrink, mixed
def test_input_size_resize_returns_the_image_size(sized_predictor, size):
    image = random_image(*size, seed=1)
    assert sized_predictor.input_size == (64, 64)
    prediction = sized_predictor.predict(image)
    check_prediction(prediction, size)
    # the same as predicting the resized image and resizing its labels back (nearest)
    h, w = size
    shrinking = h >= 64 and w >= 64
    small = cv2.resize(image, (64, 64),
                       interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    labels, confidence = direct_outputs(sized_predictor, small)
    np.testing.assert_array_equal(
        prediction.labels, cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST_EXACT))
    np.testing.assert_allclose(
        prediction.confidence, cv2.resize(confidence, (w, h), interpolation=cv2.INTER_LINEAR),
        atol=1e-5)


def test_confidence_is_the_softmax_maximum(sized_predictor):
    image = random_image(64, 64, seed=2)
    labels, confidence = direct_outputs(sized_predictor, image)
    prediction = sized_predictor.predict(image)
    np.testing.assert_array_equal(prediction.labels, labels)
    np.testing.assert_allclose(prediction.confidence, confidence, rtol=0, atol=1e-5)
    assert len(np.unique(prediction.labels)) > 1  # not a degenerate model


def test_predict_batch_equals_predict(predictor):
    predictor.batch_size = 2
    sizes = [(32, 40), (32, 40), (36, 33), (32, 40), (36, 33), (12, 12)]
    images = [random_image(h, w, seed=i) for i, (h, w) in enumerate(sizes)]
    batched = predictor.predict_batch(images)
    assert len(batched) == len(images)
    for image, got in zip(images, batched):
        alone = predictor.predict(image)
        check_prediction(got, image.shape[:2])
        np.testing.assert_array_equal(got.labels, alone.labels)
        np.testing.assert_allclose(got.confidence, alone.confidence, rtol=0, atol=1e-5)
    assert predictor.predict_batch([]) == []


def test_predict_iter_keeps_order_and_keys(predictor):
    predictor.batch_size = 3
    sizes = [(32, 40), (32, 40), (36, 33), (32, 40), (32, 40), (32, 40)]
    images = {f"k{i}": random_image(h, w, seed=i) for i, (h, w) in enumerate(sizes)}
    results = list(predictor.predict_iter(images.items()))
    assert [key for key, _ in results] == list(images)
    for key, prediction in results:
        np.testing.assert_array_equal(prediction.labels, predictor.predict(images[key]).labels)


def test_predict_iter_cancel_stops_early(predictor):
    predictor.batch_size = 2
    cancel = CancelToken()
    pulled = []

    def stream():
        for i in range(10):
            pulled.append(i)
            yield i, random_image(32, 32, seed=i)

    got = []
    for key, _ in predictor.predict_iter(stream(), cancel):
        got.append(key)
        cancel.cancel()
    assert got == [0, 1] and len(pulled) < 10


@pytest.mark.parametrize("precision", ["fp32", "bf16", "auto"])
def test_precisions_on_cpu(checkpoints, precision):
    predictor = Predictor.from_checkpoint(checkpoints["sized"], device="cpu",
                                          precision=precision)
    assert predictor.precision in ("fp32", "bf16")
    if precision != "auto":
        assert predictor.precision == precision
    check_prediction(predictor.predict(random_image(48, 80)), (48, 80))


def test_precisions_have_one_source_and_resolve_to_plain_strings():
    from segnet_core.device import PRECISIONS, Precision, resolve_precision

    assert PRECISIONS == ("auto", "fp32", "bf16", "fp16") == tuple(p.value for p in Precision)
    for requested in ("auto", "fp32", "bf16", Precision.BF16):
        resolved = resolve_precision(torch.device("cpu"), requested)
        assert type(resolved) is str and resolved in PRECISIONS  # checkpoints pickle it
    with pytest.raises(SegNetError, match="unknown precision 'fp8'"):
        resolve_precision(torch.device("cpu"), "fp8")


def test_fp16_on_cpu_is_refused(checkpoints):
    with pytest.raises(SegNetError, match="fp16"):
        Predictor.from_checkpoint(checkpoints["free"], device="cpu", precision="fp16")


@pytest.mark.parametrize("bad", [
    np.zeros((40, 40), np.uint8),
    np.zeros((40, 40, 4), np.uint8),
    np.zeros((40, 40, 3), np.float32),
    np.zeros((0, 40, 3), np.uint8),
    [[0, 0, 0]],
])
def test_bad_image_says_what_is_expected(predictor, bad):
    with pytest.raises(SegNetError, match=r"HxWx3 uint8"):
        predictor.predict(bad)
    with pytest.raises(SegNetError, match=r"HxWx3 uint8"):
        list(predictor.predict_iter([("x", bad)]))


def test_checkpoint_whose_labels_do_not_fit_the_model(tmp_path):
    four = LabelSet(("a", "b", "c", "d"), ((1, 0, 0), (2, 0, 0), (3, 0, 0), (4, 0, 0)))
    path = tiny_checkpoint(tmp_path, labels=four, classes=K)
    with pytest.raises(CheckpointError, match="3 classes.*4"):
        Predictor.from_checkpoint(path, device="cpu")


def test_bad_constructor_arguments(predictor):
    with pytest.raises(SegNetError, match="batch size"):
        Predictor(predictor.model, LABELS, input_size=None, normalization=NORM, batch_size=0)
    with pytest.raises(SegNetError, match="normalization"):
        Predictor(predictor.model, LABELS, input_size=None, normalization={"mean": [0.5]},
                  device="cpu")


def test_warm_up_runs_the_lazy_first_pass_work_ahead():
    import subprocess
    import sys

    code = ("import sys\n"
            "from segnet_core.labels import LabelSet\n"
            "from segnet_core.models import build_model\n"
            "from segnet_core.inference import Predictor\n"
            "labels = LabelSet(('a', 'b'), ((0, 0, 0), (255, 255, 255)))\n"
            "p = Predictor(build_model('segnet-basic', 2), labels, input_size=(32, 48),\n"
            "              normalization={'mean': [0.5] * 3, 'std': [0.25] * 3}, device='cpu')\n"
            "before = 'sympy' in sys.modules\n"
            "seconds = p.warm_up()\n"
            "print(before, 'sympy' in sys.modules, seconds > 0, p.last_inference_seconds)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True", "True", "0.0"], out
