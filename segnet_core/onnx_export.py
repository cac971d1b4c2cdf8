"""A checkpoint's network as an ONNX model: `export_onnx` writes it, `check_onnx` runs it in
ONNX Runtime against PyTorch.

The graph maps a normalised float32 image batch `image` (N, 3, H, W) to float32 `logits`
(N, K, H, W), in fp32, with batch, height and width left free (any H, W >= 32, like the
PyTorch model; `dynamic=False` fixes batch 1 and the checkpoint's input size instead). What a
caller needs to use it travels in the model's metadata (key `segnet_studio`, JSON):
architecture, class names and colours, input size, the mean and std to normalise RGB
values in [0, 1] with, and the layouts of input and output.

PyTorch's TorchScript-based exporter has no `max_unpool2d`; the dynamo exporter
(`torch.onnx.export(dynamo=True)`, which needs the `onnx` and `onnxscript` packages) turns
it into ScatterND, and SegNet's compact pooling indices into plain integer ops.
`check_onnx` runs the written model in ONNX Runtime on a test image and compares its class
map with PyTorch's. All three packages come with `pip install 'segnet-studio[onnx]'`;
nothing else in SegNet Studio needs them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from pathlib import Path

import numpy as np

from segnet_core.errors import SegNetError

METADATA_KEY = "segnet_studio"
#: Size of the test image when the checkpoint records no input size.
DEFAULT_SIZE = (360, 480)


def _require(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise SegNetError(f"export-onnx needs the optional package {module!r}: "
                          f"pip install 'segnet-studio[onnx]' (onnx, onnxscript, "
                          f"onnxruntime)") from None


def _checkpoint(checkpoint):
    """A Checkpoint, read from a path when given one."""
    from segnet_core.checkpoint import Checkpoint, load_checkpoint

    return checkpoint if isinstance(checkpoint, Checkpoint) else load_checkpoint(checkpoint)


def export_onnx(checkpoint, out: str | Path, dynamic: bool = True) -> dict:
    """Export the network of `checkpoint` (a Checkpoint or its file) in fp32 to `out`,
    atomically; returns the metadata written into the model."""
    import torch

    from segnet_core.atomic import atomic_write_bytes

    _require("onnx")
    _require("onnxscript")
    checkpoint = _checkpoint(checkpoint)
    model = checkpoint.build_model().float().eval()
    height, width = checkpoint.input_size or DEFAULT_SIZE
    # An example batch of 2: a dimension exported from an example of size 1 is fixed to 1.
    example = torch.zeros(2 if dynamic else 1, 3, height, width)
    dynamic_shapes = None
    if dynamic:
        from torch.export import Dim

        from segnet_core.models.blocks import MIN_INPUT_SIZE

        side = {"min": MIN_INPUT_SIZE, "max": 16384}
        dynamic_shapes = {"x": {0: Dim("batch", min=1, max=1024), 2: Dim("height", **side),
                                3: Dim("width", **side)}}
    with _quiet_exporter():
        try:
            program = torch.onnx.export(model, (example,), dynamo=True, verbose=False,
                                        input_names=["image"], output_names=["logits"],
                                        dynamic_shapes=dynamic_shapes)
        except Exception as error:  # the exporter's own errors are many and varied
            raise SegNetError(f"ONNX export of {checkpoint.architecture.get('name')!r} failed: "
                              f"{type(error).__name__}: {error}") from None
    proto = program.model_proto
    metadata = {
        "architecture": checkpoint.architecture,
        "labels": checkpoint.labels,
        "input_size": list(checkpoint.input_size) if checkpoint.input_size else None,
        "normalization": checkpoint.normalization,
        "input": "image: float32 (N, 3, H, W), RGB / 255, minus mean, divided by std",
        "output": "logits: float32 (N, K, H, W); class = argmax over K",
        "dynamic": dynamic,
    }
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    proto.producer_name = "segnet-studio"
    try:
        atomic_write_bytes(out, proto.SerializeToString())
    except OSError as error:
        raise SegNetError(f"cannot write {out}: {error.strerror or error}") from None
    return metadata


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's progress lines and its logged warnings (torchvision missing,
    attribute types it settles itself)."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "onnx_ir", "onnxscript")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def check_onnx(onnx_path: str | Path, checkpoint, image: np.ndarray | None = None) -> float:
    """Run the ONNX model in ONNX Runtime and the checkpoint's model in PyTorch (fp32) on
    `image` (HxWx3 uint8 RGB; default: a synthetic scene at the checkpoint's input size);
    the fraction of pixels whose class is the same."""
    import torch

    from segnet_core.inference import images_to_tensor, prepare_image

    ort = _require("onnxruntime")
    checkpoint = _checkpoint(checkpoint)
    if image is None:
        image = _test_image(checkpoint.input_size or DEFAULT_SIZE)
    prepared, _ = prepare_image(image, checkpoint.input_size)
    mean = torch.tensor(checkpoint.normalization["mean"])
    std = torch.tensor(checkpoint.normalization["std"])
    x = images_to_tensor([prepared], mean, std, torch.device("cpu")).contiguous()
    with torch.inference_mode():
        expected = checkpoint.build_model()(x).argmax(1).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    return float((logits.argmax(1) == expected).mean())


def _test_image(size: tuple[int, int]) -> np.ndarray:
    """A synthetic scene: smooth colour gradients with a little noise."""
    h, w = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([128 + 100 * np.sin(xs / 17.0), 128 + 100 * np.cos(ys / 23.0),
                    128 + 60 * np.sin((xs + ys) / 31.0)], axis=-1)
    rgb += np.random.default_rng(0).normal(0.0, 8.0, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)
