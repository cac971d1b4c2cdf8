"""`segnet-studio export-onnx`: the exported graph runs in ONNX Runtime with PyTorch's
class map. Needs the optional packages (pip install 'segnet-studio[onnx]'); skipped
without them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
pytestmark = pytest.mark.slow  # two exports, about half a minute

import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

from segnet_core import cli  # noqa: E402
from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint  # noqa: E402
from segnet_core.labels import LabelSet  # noqa: E402
from segnet_core.models import build_model  # noqa: E402
from segnet_core.inference import images_to_tensor  # noqa: E402

LABELS = LabelSet(("Sky", "Road", "Car", "Tree"),
                  ((128, 128, 128), (128, 64, 128), (64, 0, 128), (128, 128, 0)))
NORM = {"mean": [0.4, 0.5, 0.6], "std": [0.2, 0.25, 0.3]}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A SegNet-Basic checkpoint (random weights, non-trivial BN statistics) and its export
    through the command line, with the default dynamic batch, height and width."""
    folder = tmp_path_factory.mktemp("onnx")
    torch.manual_seed(0)
    model = build_model("segnet-basic", LABELS.num_classes).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
    checkpoint = folder / "basic.pt"
    save_checkpoint(checkpoint, checkpoint_from_model(model, LABELS.to_dict(), (64, 80), NORM))
    out = folder / "basic.onnx"
    assert cli.main(["export-onnx", "--model", str(checkpoint), "--out", str(out)]) == 0
    return model, out


def class_maps(model, path, images):
    x = images_to_tensor(images, torch.tensor(NORM["mean"]), torch.tensor(NORM["std"]),
                         torch.device("cpu")).contiguous()
    with torch.inference_mode():
        expected = model(x).argmax(1).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = session.run(None, {"image": x.numpy()})[0]
    assert logits.shape == (len(images), LABELS.num_classes, *images[0].shape[:2])
    return logits.argmax(1), expected


@pytest.mark.parametrize("size", [(64, 80), (97, 131), (45, 61), (32, 32), (120, 160)])
def test_onnx_runtime_gives_pytorchs_class_map_at_any_size(exported, size):
    model, path = exported
    rng = np.random.default_rng(sum(size))
    images = [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(2)]
    got, expected = class_maps(model, path, images)
    # Equal up to float rounding: summation order differs between the two runtimes, which
    # can flip a near-tie in a max pool or an argmax on a stray pixel.
    assert (got == expected).mean() >= 0.999


def test_export_carries_what_a_caller_needs(exported, capsys):
    _, path = exported
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    meta = json.loads({p.key: p.value for p in proto.metadata_props}["segnet_studio"])
    assert meta["architecture"]["name"] == "segnet-basic"
    assert meta["labels"] == LABELS.to_dict()
    assert meta["normalization"] == NORM and meta["input_size"] == [64, 80]
    dims = [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]
            for i in proto.graph.input]
    assert len(dims) == 1 and dims[0][1] == 3 and all(isinstance(d, str) for d in
                                                      (dims[0][0], *dims[0][2:]))


def test_static_export_and_check_from_the_command_line(exported, tmp_path, capsys):
    model, _ = exported
    checkpoint = tmp_path / "basic.pt"
    save_checkpoint(checkpoint, checkpoint_from_model(model, LABELS.to_dict(), (64, 80), NORM))
    out = tmp_path / "static.onnx"
    assert cli.main(["export-onnx", "--model", str(checkpoint), "--out", str(out),
                     "--static"]) == 0
    printed = capsys.readouterr().out
    assert "(1, 3, 64, 80)" in printed and "agree on" in printed
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [1, 3, 64, 80]


def test_export_errors_name_the_problem(tmp_path, capsys):
    assert cli.main(["export-onnx", "--model", str(tmp_path / "missing.pt"),
                     "--out", str(tmp_path / "x.onnx")]) == 2
    assert "missing.pt" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()
