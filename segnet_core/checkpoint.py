"""One file per model: weights plus what is needed to use them (architecture, classes,
input size, normalisation) and a free-form training record.

Files are written atomically with `torch.save` and read through `segnet_core.safe_load`
(`torch.load(weights_only=True)` after checking the archive), which unpickles only tensors
and plain containers: a file whose pickle would run code is refused before anything runs.
The training record is stored as JSON text, so any JSON value fits and nothing else can.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from segnet_core.atomic import atomic_write_bytes
from segnet_core.errors import CheckpointError, ModelError, SegNetError
from segnet_core.labels import LabelSet
from segnet_core.models import SegmentationModel, build_model, check_input_size
from segnet_core.safe_load import check_dtypes, load_weights_file

FORMAT = "segnet-studio-checkpoint"
VERSION = 1
IMAGENET_NORMALIZATION = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


@dataclass
class Checkpoint:
    """The content of a checkpoint file."""

    architecture: dict[str, Any]  # {"name", "num_classes", "options"}
    state_dict: dict[str, torch.Tensor]
    labels: dict[str, Any]  # LabelSet.to_dict()
    input_size: tuple[int, int] | None = None  # (H, W) the model was trained at
    normalization: dict[str, list[float]] = field(
        default_factory=lambda: dict(IMAGENET_NORMALIZATION))
    training: dict[str, Any] = field(default_factory=dict)
    resume: dict[str, Any] | None = None  # optimizer, scheduler, epoch, random states
    path: Path | None = None

    def build_model(self) -> SegmentationModel:
        """The network with these weights, in eval mode (the keys of state dicts written
        by earlier versions of its class are renamed to the class's own)."""
        arch = self.architecture
        where = self.path or Path("<checkpoint>")
        try:
            model = build_model(arch["name"], arch["num_classes"], **arch.get("options", {}))
            state = model.upgrade_state_dict(self.state_dict)
            check_dtypes(model.state_dict(), state, where)
            model.load_state_dict(state, strict=True)
        except (SegNetError, RuntimeError, TypeError, KeyError, ValueError) as error:
            if isinstance(error, CheckpointError):
                raise
            raise CheckpointError(where,
                                  f"weights do not fit {arch.get('name')!r}: {error}") from None
        return model.eval()

    def label_set(self) -> LabelSet:
        """The classes the model predicts, as a LabelSet."""
        try:
            return LabelSet.from_dict(self.labels)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise CheckpointError(self.path or Path("<checkpoint>"),
                                  f"damaged label set: {error}") from None


def save_checkpoint(path: str | Path, checkpoint: Checkpoint) -> None:
    """Write `checkpoint` to `path` atomically."""
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": json.dumps(checkpoint.architecture),
        "labels": json.dumps(checkpoint.labels),
        "input_size": list(checkpoint.input_size) if checkpoint.input_size else None,
        "normalization": json.dumps(checkpoint.normalization),
        "training": json.dumps(checkpoint.training),
        "state_dict": {k: v.detach().cpu() for k, v in checkpoint.state_dict.items()},
    }
    if checkpoint.resume is not None:
        payload["resume"] = checkpoint.resume
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def checkpoint_from_model(model: nn.Module, labels: dict[str, Any],
                          input_size: tuple[int, int] | None,
                          normalization: dict[str, list[float]] | None = None,
                          training: dict[str, Any] | None = None,
                          resume: dict[str, Any] | None = None) -> Checkpoint:
    """A Checkpoint of `model` (a SegmentationModel, which knows its architecture)."""
    module = getattr(model, "module", model)  # unwrap DistributedDataParallel
    if not isinstance(module, SegmentationModel):
        raise SegNetError(f"a checkpoint needs a model built by build_model, not "
                          f"{type(module).__name__}")
    return Checkpoint(architecture=module.config.to_dict(),
                      state_dict={k: v.detach().cpu().clone() for k, v in
                                  module.state_dict().items()},
                      labels=labels, input_size=tuple(input_size) if input_size else None,
                      normalization=dict(normalization or IMAGENET_NORMALIZATION),
                      training=dict(training or {}), resume=resume)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint`; anything else is a CheckpointError."""
    path = Path(path)
    payload = load_weights_file(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(path, "not a SegNet Studio checkpoint (a plain state dict or "
                                    "another program's file?); VGG16-BN weights go to --init")
    if payload.get("version") != VERSION:
        raise CheckpointError(path, f"checkpoint version {payload.get('version')!r} is not "
                                    f"supported (this program reads version {VERSION})")
    try:
        architecture = _json_field(payload, "architecture", dict)
        labels = _json_field(payload, "labels", dict)
        normalization = _json_field(payload, "normalization", dict)
        training = _json_field(payload, "training", dict)
        if not isinstance(architecture.get("options", {}), dict):
            raise ValueError("architecture options must be an object")
        state_dict = payload["state_dict"]
        if not isinstance(state_dict, dict) or not all(
                isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state_dict.items()):
            raise ValueError("state_dict must map names to tensors")
        for key in ("name", "num_classes"):
            if key not in architecture:
                raise ValueError(f"architecture lacks {key!r}")
        input_size = check_input_size(payload.get("input_size"))
    except (KeyError, ValueError, TypeError, OverflowError, RecursionError,
            ModelError) as error:
        raise CheckpointError(path, f"damaged checkpoint: {error}") from None
    resume = payload.get("resume")
    return Checkpoint(architecture, state_dict, labels, input_size, normalization, training,
                      resume if isinstance(resume, dict) else None, path)


def _json_field(payload: dict, key: str, kind: type):
    value = json.loads(payload[key])
    if not isinstance(value, kind):
        raise ValueError(f"{key} must be a {kind.__name__}")
    return value
