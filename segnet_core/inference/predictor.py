"""Predictor: runs a segmentation model on RGB images and returns labels and confidence."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

import numpy as np
import torch
from torch import nn

from segnet_core.checkpoint import load_checkpoint
from segnet_core.device import (autocast, describe_device, resolve_device, resolve_precision,
                                retain_freed_memory)
from segnet_core.errors import CheckpointError, SegNetError
from segnet_core.inference.fast_model import compile_stages, inference_model, weights_version
from segnet_core.inference.images import (Prediction, Restore, Size, check_image,
                                          class_weight_inverses, logits_to_outputs,
                                          normalize_batch, prepare_image, restore_outputs)
from segnet_core.inference.prefetch import prefetched
from segnet_core.labels import LabelSet
from segnet_core.quality import recorded_class_weights
from segnet_core.models import SegmentationModel, check_input_size
from segnet_core.events import CancelToken

Key = TypeVar("Key")

#: On a CPU the model takes at most about this many pixels per call (N x H x W): four
#: 360x480 frames, sixteen 180x240 ones. Larger passes fall out of the caches (the
#: measurements by batch size: docs/speed.md).
CPU_PIXELS_PER_PASS = 4 * 360 * 480


@dataclass
class _Batch:
    """Prepared same-size images on their way to the model."""

    keys: list
    restores: list[Restore]
    images: torch.Tensor  # (N, H, W, 3) uint8 on the CPU, pinned when the model is on CUDA


class Predictor:
    """Runs `model` on images: device, precision, resizing or padding, batching.

    model: a network mapping (N, 3, H, W) to logits (N, K, H, W); moved to the device and
        put in eval mode (the Predictor then owns it). Inference runs on a copy prepared by
        `inference_model`, rebuilt when the model's weights change.
    label_set: the K classes the model predicts.
    input_size: (H, W) images are resized to (the size the model was trained at), or None to
        run each image at its own size (padded to `MIN_INPUT_SIZE` pixels a side when
        smaller).
    normalization: {"mean": [3], "std": [3]} applied to RGB values in [0, 1].
    device, precision: as `resolve_device` and `resolve_precision` take them; "fp32" forces
        full precision.
    batch_size: most images grouped per batch (one pass on CUDA; on a CPU a batch runs in
        passes of at most CPU_PIXELS_PER_PASS pixels).
    channels_last: channels-last memory for the model (None: yes, faster on CPUs and GPUs).
    compile: run the model's conv stages through `torch.compile` (`compile_stages`; the
        first call per input shape is slow).
    prefetch: `predict_iter` prepares the next batch in a background thread (None: on
        CUDA; on a CPU that thread takes a core from the model, and decoding a frame is a
        small part of its inference: docs/speed.md).
    retain_memory: on a CPU, let the process keep freed memory for the next pass
        (`retain_freed_memory`, process-wide; None: yes).
    class_weights: the K class weights the model was trained with (its checkpoint's
        training record has them): each prediction then also carries its
        `unweighted_confidence` (the probability of its labels with the weights undone).
    """

    def __init__(self, model: nn.Module, label_set: LabelSet, *, input_size: Size | None,
                 normalization: dict, device: str | torch.device = "auto",
                 precision: str = "auto", batch_size: int = 4,
                 channels_last: bool | None = None, compile: bool = False,
                 prefetch: bool | None = None, retain_memory: bool | None = None,
                 class_weights: Sequence[float] | None = None):
        if int(batch_size) < 1:
            raise SegNetError(f"batch size must be at least 1, got {batch_size}")
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        self.precision = resolve_precision(self.device, precision)
        self.device_description = describe_device(self.device)
        model_classes = (model.config.num_classes if isinstance(model, SegmentationModel)
                         else None)
        if model_classes is not None and model_classes != label_set.num_classes:
            raise SegNetError(f"the model predicts {model_classes} classes but the label set "
                              f"has {label_set.num_classes}")
        self.model = model.to(self.device).eval()
        self.label_set = label_set
        self._weight_inverses = class_weight_inverses(class_weights)
        if self._weight_inverses is not None and \
                self._weight_inverses.numel() != label_set.num_classes:
            raise SegNetError(f"{self._weight_inverses.numel()} class weights for "
                              f"{label_set.num_classes} classes")
        self.input_size = check_input_size(input_size)
        self.batch_size = int(batch_size)
        self.channels_last = True if channels_last is None else bool(channels_last)
        self.compile = bool(compile)
        self.prefetch = self.device.type == "cuda" if prefetch is None else bool(prefetch)
        try:
            mean = [float(v) for v in normalization["mean"]]
            std = [float(v) for v in normalization["std"]]
        except (KeyError, TypeError, ValueError):
            raise SegNetError(f"normalization must be {{'mean': [3 numbers], 'std': [3 numbers]}}, "
                              f"got {normalization!r}") from None
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise SegNetError(f"normalization needs 3 means and 3 positive stds, got "
                              f"{normalization!r}")
        self.normalization = {"mean": mean, "std": std}
        self._mean = torch.tensor(mean, dtype=torch.float32, device=self.device)
        self._std = torch.tensor(std, dtype=torch.float32, device=self.device)
        if self.device.type == "cpu" and retain_memory is not False:
            retain_freed_memory()
        if self.device.type == "cuda":
            # cuDNN tries its algorithms once per input shape and keeps the fastest; the
            # shapes of a folder or a video repeat, so this pays after the first batch.
            torch.backends.cudnn.benchmark = True
        self._fast: nn.Module | None = None
        self._fast_source: tuple | None = None
        #: Seconds spent in the model (upload, forward, softmax, download) by the last
        #: `predict`/`predict_batch` call, or by the current `predict_iter` run so far.
        self.last_inference_seconds = 0.0
        #: The checkpoint's training record (`from_checkpoint`; {} otherwise): e.g. the
        #: accuracy calibration under "quality".
        self.training: dict[str, Any] = {}

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "auto",
                        precision: str = "auto", batch_size: int = 4,
                        **options: Any) -> "Predictor":
        """A Predictor for the model, classes, input size and normalisation of a checkpoint
        file (CheckpointError naming it when it cannot be used). `options`: channels_last,
        compile, prefetch."""
        checkpoint = load_checkpoint(path)
        label_set = checkpoint.label_set()
        classes = checkpoint.architecture.get("num_classes")
        if classes != label_set.num_classes:
            raise CheckpointError(Path(path), f"the model predicts {classes} classes but its "
                                              f"label set has {label_set.num_classes}")
        # the weights its loss used, when recorded for its classes (not for a model
        # fine-tuned with classes added: no unweighted confidence then)
        weights = recorded_class_weights(checkpoint.training, label_set.num_classes)
        predictor = cls(checkpoint.build_model(), label_set, input_size=checkpoint.input_size,
                        normalization=checkpoint.normalization, device=device,
                        precision=precision, batch_size=batch_size, class_weights=weights,
                        **options)
        predictor.training = dict(checkpoint.training)
        return predictor

    @property
    def num_classes(self) -> int:
        return self.label_set.num_classes

    @property
    def undoes_class_weights(self) -> bool:
        """Whether its predictions carry their `unweighted_confidence`."""
        return self._weight_inverses is not None

    def warm_up(self) -> float:
        """One pass on a blank image at the input size (64x64 when none is fixed), so the
        first real image does not pay for one-time work: the fast model is built, the
        memory of a pass is reserved, and PyTorch's lazy imports run (the first
        `max_unpool2d` imports sympy, holding the interpreter lock meanwhile: an app's
        window would freeze that long). Seconds it took."""
        height, width = self.input_size or (64, 64)
        started = time.perf_counter()
        self.predict(np.zeros((height, width, 3), np.uint8))
        self.last_inference_seconds = 0.0
        return time.perf_counter() - started

    def predict(self, image: np.ndarray) -> Prediction:
        """Labels and confidence of one HxWx3 uint8 RGB image, at its own size."""
        return self.predict_batch([image])[0]

    def predict_at(self, image: np.ndarray, size: Size) -> Prediction:
        """`predict` with the image resized to `size` (H, W) instead of the model's input
        size (e.g. to see how the labels hold at another scale), at the image's own size.
        Leaves `last_inference_seconds` as it was."""
        prepared = prepare_image(check_image(image), check_input_size(size))
        outputs, _ = self._run(self._make_batch([(0, prepared)]))
        return outputs[0]

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        """Predictions of `images` in their order; same-size images share batches."""
        prepared = [prepare_image(check_image(image), self.input_size) for image in images]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, (array, _) in enumerate(prepared):
            groups.setdefault(array.shape, []).append(i)
        results: list[Prediction | None] = [None] * len(prepared)
        elapsed = 0.0
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                batch = self._make_batch([(i, prepared[i]) for i in chunk])
                outputs, seconds = self._run(batch)
                elapsed += seconds
                for i, prediction in zip(chunk, outputs):
                    results[i] = prediction
        self.last_inference_seconds = elapsed
        return results  # type: ignore[return-value]

    def predict_iter(self, items: Iterable[tuple[Key, np.ndarray]],
                     cancel: CancelToken | None = None,
                     on_stop: Callable[[], None] | None = None
                     ) -> Iterator[tuple[Key, Prediction]]:
        """Predict a stream of (key, image) pairs, yielding (key, prediction) in input order.

        Consecutive images of the same prepared size are batched (up to `batch_size`); an
        image of another size closes the batch. Items are pulled lazily: with `prefetch` a
        background thread pulls and prepares the next batch while the model runs, so at
        most about three batches of images are held. Stops early, without error, once
        `cancel` is cancelled (after the batch being yielded). An error raised by `items`
        or by a bad image is raised here after the predictions of the images before it.
        With `prefetch`, `on_stop()` is called as it stops (done, cancelled, an error,
        Ctrl+C), before the prefetch thread is waited for: a chance to end `items` at once.
        """
        self.last_inference_seconds = 0.0
        elapsed = 0.0
        batches = self._batches(items, cancel)
        if self.prefetch:
            batches = prefetched(batches, on_stop=on_stop)
        try:
            for batch in batches:
                if cancel is not None and cancel.cancelled:
                    return
                outputs, seconds = self._run(batch)
                elapsed += seconds
                self.last_inference_seconds = elapsed
                yield from zip(batch.keys, outputs)
                if cancel is not None and cancel.cancelled:
                    return
        finally:
            batches.close()

    # ----------------------------------------------------------------- internals
    def _batches(self, items: Iterable[tuple[Key, np.ndarray]],
                 cancel: CancelToken | None) -> Iterator[_Batch]:
        """Consecutive same-size prepared images, `batch_size` at most per batch."""
        pending: list[tuple[Key, tuple[np.ndarray, Restore]]] = []
        try:
            for key, image in items:
                if cancel is not None and cancel.cancelled:
                    return
                prepared = prepare_image(check_image(image), self.input_size)
                if pending and pending[0][1][0].shape != prepared[0].shape:
                    yield self._make_batch(pending)
                    pending = []
                pending.append((key, prepared))
                if len(pending) >= self.batch_size:
                    yield self._make_batch(pending)
                    pending = []
        except Exception:
            if pending:  # the images before the failing one still get their predictions
                yield self._make_batch(pending)
            raise
        if pending and not (cancel is not None and cancel.cancelled):
            yield self._make_batch(pending)

    def _make_batch(self, pending: Sequence[tuple[Any, tuple[np.ndarray, Restore]]]) -> _Batch:
        arrays = [array for _, (array, _) in pending]
        # Stacked straight into pinned (page-locked) memory on CUDA, which the GPU can copy
        # from while the CPU carries on (`non_blocking` in `_run`).
        images = torch.empty((len(arrays), *arrays[0].shape), dtype=torch.uint8,
                             pin_memory=self.device.type == "cuda")
        np.stack(arrays, out=images.numpy())
        return _Batch([key for key, _ in pending], [restore for _, (_, restore) in pending],
                      images)

    def _inference_model(self) -> nn.Module:
        """The prepared copy of `self.model`, made again when its weights have changed."""
        source = (id(self.model), weights_version(self.model))
        if self._fast is None or source != self._fast_source:
            fast = inference_model(self.model, self.precision, self.channels_last)
            if self.compile:
                compile_stages(fast)
            self._fast, self._fast_source = fast, source
        return self._fast

    def images_per_pass(self, batch_size: int, height: int, width: int) -> int:
        """Images per model call: the whole batch on CUDA, <= CPU_PIXELS_PER_PASS on a CPU."""
        if self.device.type == "cuda":
            return batch_size
        return max(1, min(batch_size, CPU_PIXELS_PER_PASS // max(1, height * width)))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The model's logits for a normalised (N, 3, H, W) batch on the device, run the way
        the Predictor runs it: inference copy, precision, passes of CPU_PIXELS_PER_PASS on
        a CPU. Call under `torch.inference_mode()`; logits are in the autocast dtype."""
        model = self._inference_model()
        if not self.channels_last:
            x = x.contiguous()
        step = self.images_per_pass(x.shape[0], x.shape[2], x.shape[3])
        outputs = []
        for first in range(0, x.shape[0], step):
            with autocast(self.device, self.precision):
                outputs.append(model(x[first:first + step]))
        return outputs[0] if len(outputs) == 1 else torch.cat(outputs)

    def _run(self, batch: _Batch) -> tuple[list[Prediction], float]:
        """Predictions of one batch and the seconds spent in the model."""
        start = time.perf_counter()
        with torch.inference_mode():
            x = normalize_batch(batch.images, self._mean, self._std, self.device)
            labels, confidence, unweighted = logits_to_outputs(self.logits(x),
                                                               self._weight_inverses)
        seconds = time.perf_counter() - start
        return ([restore_outputs(labels[i], confidence[i], restore,
                                 None if unweighted is None else unweighted[i])
                 for i, restore in enumerate(batch.restores)], seconds)
