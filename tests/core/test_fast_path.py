"""The Predictor's fast path: same answers as plain fp32, prefetching keeps order and stops.

The accuracy guard runs the default model (the shipped SegNet-Basic-LCN, else the CamVid run in
`runs/`) on a few CamVid val images: the fast path's class map (auto precision: bf16 on CPUs
with native bf16, folded batch norm, channels-last) must agree with the plain model in fp32
on at least 99.5 % of the non-void pixels, and move mIoU by less than 0.2 points.
`benchmarks/inference.py` runs the same check on the whole val split.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from segnet_core.checkpoint import checkpoint_from_model, load_checkpoint, save_checkpoint
from segnet_core.errors import SegNetError
from segnet_core.labels import LabelSet
from segnet_core.evaluation import SegmentationEvaluator
from segnet_core.models import build_model
from segnet_core.inference import (Predictor, fold_batchnorm, images_to_tensor,
                                   inference_model, prepare_image, restore_outputs)
from segnet_core.events import CancelToken
from segnet_core.resources import DEFAULT_MODEL

PROJECT = Path(__file__).resolve().parents[2]
TRAINED_BASIC = PROJECT / "runs" / "camvid-basic-180x240" / "best.pt"
GUARD_IMAGES = 8

K = 3
LABELS = LabelSet(("Sky", "Road", "Car"), ((128, 0, 0), (0, 128, 0), (0, 0, 128)))
NORM = {"mean": [0.4, 0.5, 0.6], "std": [0.2, 0.25, 0.3]}


def random_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def trained_checkpoint() -> Path:
    for path in (DEFAULT_MODEL, TRAINED_BASIC):
        if path.is_file():
            return path
    pytest.skip("no trained model (resources/models/segnet-basic-lcn-camvid.pt or "
                "runs/camvid-basic-180x240/best.pt)")


def plain_fp32_labels(model, image, checkpoint) -> np.ndarray:
    """The class map of the model as it is, in fp32, with the Predictor's own resizing."""
    prepared, restore = prepare_image(image, checkpoint.input_size)
    mean = torch.tensor(checkpoint.normalization["mean"])
    std = torch.tensor(checkpoint.normalization["std"])
    x = images_to_tensor([prepared], mean, std, torch.device("cpu")).contiguous()
    with torch.inference_mode():
        labels = model(x).argmax(1)[0].to(torch.uint8).numpy()
    return restore_outputs(labels, np.zeros(labels.shape, np.float32), restore).labels


@pytest.mark.camvid
@pytest.mark.slow
def test_fast_path_agrees_with_fp32_on_camvid(camvid_root):
    from segnet_core.data import open_dataset

    path = trained_checkpoint()
    checkpoint = load_checkpoint(path)
    dataset = open_dataset(camvid_root, split="val")
    fast = Predictor.from_checkpoint(path, device="cpu")  # auto precision: the fast path
    model = checkpoint.build_model().eval()
    k, void = dataset.label_set.num_classes, dataset.label_set.void_index
    scores = {name: SegmentationEvaluator(k, void, compute_bf=False) for name in ("fp32", "fast")}
    agree = total = 0
    for i in np.linspace(0, len(dataset) - 1, GUARD_IMAGES).astype(int):
        image, mask = dataset[int(i)]
        reference = plain_fp32_labels(model, image, checkpoint)
        labels = fast.predict(image).labels
        valid = mask != void
        agree += int((labels[valid] == reference[valid]).sum())
        total += int(valid.sum())
        scores["fp32"].update(reference, mask)
        scores["fast"].update(labels, mask)
    agreement = agree / total
    miou_fp32, miou_fast = (100 * scores[n].result().miou for n in ("fp32", "fast"))
    message = (f"{path.name}, precision {fast.precision}: agreement {100 * agreement:.3f} %, "
               f"mIoU {miou_fp32:.2f} (fp32) vs {miou_fast:.2f} (fast)")
    assert agreement >= 0.995, message
    assert abs(miou_fast - miou_fp32) < 0.2, message


def test_folded_batchnorm_equals_conv_then_batchnorm():
    torch.manual_seed(0)
    model = build_model("segnet-basic", 5).eval()
    for module in model.modules():  # statistics that are not the identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.5, 0.5)
    block = model.encoder[1]
    x = torch.randn(2, 64, 24, 20)
    with torch.no_grad():
        expected = block(x)
        folded = fold_batchnorm(copy.deepcopy(block))
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
        torch.testing.assert_close(folded(x), expected, rtol=1e-5, atol=1e-5)


def test_inference_copy_leaves_the_model_alone_and_follows_its_weights():
    torch.manual_seed(0)
    model = build_model("segnet-basic", K)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    predictor = Predictor(model, LABELS, input_size=None, normalization=NORM, device="cpu",
                          precision="fp32")
    image = random_image(40, 48)
    before = predictor.predict(image)
    for key, value in model.state_dict().items():  # not folded, not channels-last
        assert torch.equal(value, state[key]) and value.is_contiguous()
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    # changing the model's weights (as training does) is seen by the next prediction
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor([0.0, 0.0, 1e4]))
    assert (predictor.predict(image).labels == 2).all()
    assert not (before.labels == 2).all()


def test_fp32_fast_path_matches_the_plain_model():
    torch.manual_seed(0)
    model = build_model("bilinear", K)
    predictor = Predictor(model, LABELS, input_size=None, normalization=NORM, device="cpu",
                          precision="fp32")
    image = random_image(64, 80, seed=3)
    x = images_to_tensor([image], torch.tensor(NORM["mean"]), torch.tensor(NORM["std"]),
                         torch.device("cpu"))
    with torch.inference_mode():
        probabilities = torch.softmax(model(x.contiguous()), dim=1)[0]
    confidence, labels = probabilities.max(dim=0)
    prediction = predictor.predict(image)
    np.testing.assert_array_equal(prediction.labels, labels.numpy())
    # the fast path sums in another order (batch norm folded, channels-last kernels): up to
    # 1.4e-5 apart on a 2-core AVX2 EPYC (within 1e-5 on AVX-512); a wrong fold is far more
    np.testing.assert_allclose(prediction.confidence, confidence.numpy(), atol=5e-5)


def test_bf16_copy_keeps_encoder_and_classifier_in_float32():
    model = build_model("segnet-basic", K)
    fast = inference_model(model, "bf16")
    encoder = [m for m in fast.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    decoder = [m for m in fast.decoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(encoder) == 4 and all(m.weight.dtype == torch.float32 for m in encoder)
    assert len(decoder) == 4 and all(m.weight.dtype == torch.bfloat16 for m in decoder)
    assert fast.classifier.layer.weight.dtype == torch.float32
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = fast(torch.randn(1, 3, 64, 64).contiguous(memory_format=torch.channels_last))
    assert out.shape == (1, K, 64, 64) and out.dtype == torch.float32


@pytest.fixture
def tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("segnet-basic", K)


def stream(count: int, pulled: list | None = None, sizes=((40, 48), (40, 48), (36, 33))):
    for i in range(count):
        if pulled is not None:
            pulled.append(i)
        h, w = sizes[i % len(sizes)]
        yield f"frame{i}", random_image(h, w, seed=i)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_prefetch_gives_what_predict_gives_in_order(tiny_model, batch_size):
    predictor = Predictor(tiny_model, LABELS, input_size=None, normalization=NORM,
                          device="cpu", batch_size=batch_size, prefetch=True)
    results = list(predictor.predict_iter(stream(10)))
    assert [key for key, _ in results] == [f"frame{i}" for i in range(10)]
    for (key, prediction), (_, image) in zip(results, stream(10)):
        alone = predictor.predict(image)
        np.testing.assert_array_equal(prediction.labels, alone.labels)
        np.testing.assert_array_equal(prediction.confidence, alone.confidence)


def test_prefetch_on_and_off_agree(tiny_model):
    outputs = []
    for prefetch in (True, False):
        predictor = Predictor(tiny_model, LABELS, input_size=(48, 48), normalization=NORM,
                              device="cpu", batch_size=2, prefetch=prefetch)
        outputs.append([(k, p.labels) for k, p in predictor.predict_iter(stream(7))])
    assert [k for k, _ in outputs[0]] == [k for k, _ in outputs[1]]
    for (_, a), (_, b) in zip(*outputs):
        np.testing.assert_array_equal(a, b)


def test_prefetch_cancel_stops_reading_and_the_thread(tiny_model):
    predictor = Predictor(tiny_model, LABELS, input_size=None, normalization=NORM,
                          device="cpu", batch_size=2, prefetch=True)
    cancel = CancelToken()
    pulled: list[int] = []
    got = []
    for key, _ in predictor.predict_iter(stream(50, pulled, sizes=((40, 48),)), cancel):
        got.append(key)
        cancel.cancel()
    assert got == ["frame0", "frame1"]
    assert len(pulled) <= 8  # the batch being yielded and at most two read ahead
    assert not any(t.name == "segnet-prefetch" for t in threading.enumerate())


def test_prefetch_stops_when_the_consumer_breaks_off(tiny_model):
    predictor = Predictor(tiny_model, LABELS, input_size=None, normalization=NORM,
                          device="cpu", batch_size=1, prefetch=True)
    pulled: list[int] = []
    results = predictor.predict_iter(stream(50, pulled))
    assert next(results)[0] == "frame0"
    results.close()
    assert not any(t.name == "segnet-prefetch" for t in threading.enumerate())
    assert len(pulled) <= 4


def test_prefetch_raises_errors_where_they_happen(tiny_model):
    predictor = Predictor(tiny_model, LABELS, input_size=None, normalization=NORM,
                          device="cpu", batch_size=2, prefetch=True)

    def failing():
        yield "a", random_image(40, 40)
        yield "b", random_image(40, 40, seed=1)
        yield "c", random_image(40, 40, seed=2)
        raise OSError("the video ended badly")

    got = []
    with pytest.raises(OSError, match="ended badly"):
        for key, _ in predictor.predict_iter(failing()):
            got.append(key)
    assert got == ["a", "b", "c"]  # the images before the error still come out
    with pytest.raises(SegNetError, match="HxWx3 uint8"):
        list(predictor.predict_iter([("a", random_image(40, 40)), ("bad", np.zeros((4, 4)))]))


def test_cpu_passes_are_capped_but_results_do_not_depend_on_them(tiny_model):
    predictor = Predictor(tiny_model, LABELS, input_size=None, normalization=NORM,
                          device="cpu", batch_size=8)
    assert predictor.images_per_pass(8, 360, 480) == 4
    assert predictor.images_per_pass(8, 720, 960) == 1
    assert predictor.images_per_pass(8, 64, 64) == 8
    images = [random_image(40, 48, seed=i) for i in range(5)]
    together = predictor.predict_batch(images)
    for image, prediction in zip(images, together):
        np.testing.assert_array_equal(prediction.labels, predictor.predict(image).labels)


def test_defaults_on_a_cpu(tiny_model):
    predictor = Predictor(tiny_model, LABELS, input_size=None, normalization=NORM, device="cpu")
    assert predictor.compile is False and predictor.prefetch is False
    assert predictor.channels_last is True


def test_checkpoint_options_reach_the_predictor(tmp_path, tiny_model):
    path = tmp_path / "tiny.pt"
    save_checkpoint(path, checkpoint_from_model(tiny_model, LABELS.to_dict(), None, NORM))
    predictor = Predictor.from_checkpoint(path, device="cpu", precision="fp32", prefetch=False,
                                          channels_last=False)
    assert predictor.prefetch is False and predictor.channels_last is False
    predictor.predict(random_image(40, 40))


@pytest.mark.parametrize("width", range(1, 14))
def test_compact_pooling_is_exact_at_every_small_width(width):
    """The fast position formula switches at a width; every width and height up to 13."""
    import torch.nn.functional as F

    from segnet_core.models.pooling import max_pool_compact, max_unpool_compact

    for height in range(1, 14):
        x = torch.randn(2, 3, height, width, dtype=torch.float64)
        pooled, indices = max_pool_compact(x)
        reference, flat = F.max_pool2d(x, 2, 2, ceil_mode=True, return_indices=True)
        assert torch.equal(pooled, reference)
        expected = F.max_unpool2d(pooled, flat, 2, 2, output_size=(height, width))
        assert torch.equal(max_unpool_compact(pooled, indices), expected), (height, width)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's own, on importing dynamo
def test_compiled_stages_compute_what_the_eager_copy_computes(tiny_model):
    import shutil

    if shutil.which("g++") is None and shutil.which("c++") is None:
        pytest.skip("torch.compile on a CPU needs a C++ compiler")
    eager = Predictor(tiny_model, LABELS, input_size=None, normalization=NORM, device="cpu",
                      precision="fp32")
    compiled = Predictor(tiny_model, LABELS, input_size=None, normalization=NORM,
                         device="cpu", precision="fp32", compile=True)
    image = random_image(64, 64, seed=5)
    a, b = eager.predict(image), compiled.predict(image)
    np.testing.assert_allclose(b.confidence, a.confidence, atol=1e-4)
    assert (a.labels == b.labels).mean() > 0.99
