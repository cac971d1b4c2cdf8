"""Predictor: runs a segmentation model on RGB images and returns labels and confidence.

An image goes through three small steps, each its own function so a faster variant can
replace one without touching the others:

1. `prepare_image` resizes it to the model's input size (when the checkpoint has one) or
   pads it by reflection to the network's minimum of 32 pixels a side;
2. `images_to_tensor` stacks same-size images, scales them to [0, 1] and normalises them;
3. `restore_outputs` undoes step 1 on the labels (nearest) and confidence (bilinear), so
   every output has the image's own size.

The model runs under `torch.inference_mode()` and the chosen autocast precision; softmax and
argmax are computed in float32.

The fast path (numbers: 2-core AMD EPYC, Zen 5 with AVX512-BF16, 360x480, batch 1, model
time per frame, SegNet / SegNet-Basic; `python benchmarks/inference.py --ablation` measures
each step, and the benchmark compares the whole against a plain network):

- The model runs as an *inference copy* (`inference_model`) in channels-last memory
  (885 -> 713 / 448 -> 346 ms: oneDNN's convolutions and PyTorch's max pooling are
  vectorised over channels; NCHW max pooling is 20x slower), with each BatchNorm folded into
  the conv before it (in eval mode BN is a fixed per-channel affine map: -> 600 / 311 ms)
  and the conv weights cast once to the autocast dtype instead of at every call. The
  caller's model is not touched (the Trainer keeps training the model it validates with),
  and the copy is rebuilt when the model's weights change.
- Precision: bf16 autocast on CPUs with native bf16 and bf16 or fp16 on CUDA (-> 504 / 234
  ms), fp32 elsewhere or when asked for (`precision="fp32"`); see `resolve_precision`. The
  encoder and the classifier stay in fp32 (see `inference_model`: accuracy).
- On a CPU freed memory is kept for the next pass instead of going back to the system
  (`retain_freed_memory`): each pass otherwise page-faults all its activations in afresh
  (-> 438 / 182 ms). A pass takes at most `CPU_PIXELS_PER_PASS` pixels (four 360x480
  frames). On CUDA the whole batch goes in one pass, with cuDNN autotuning
  (`cudnn.benchmark`), images stacked into pinned memory and copied without blocking.
- `predict_iter` can read, decode and prepare the next batch in a background thread while
  the model runs on the current one (`prefetch`; on by default on CUDA only), in order, and
  stops with `cancel`.
- `compile=True` runs the conv stages through `torch.compile` (`compile_stages`; off by
  default: 7-18 s of compilation per input shape and no reliable gain on that CPU).
"""

from __future__ import annotations

import copy
import itertools
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence, TypeVar

import cv2
import numpy as np
import torch
from torch import nn

from segnet_core.device import (autocast, describe_device, resolve_device, resolve_precision,
                                retain_freed_memory)
from segnet_core.errors import CheckpointError, SegNetError
from segnet_core.labels import LabelSet
from segnet_core.models.blocks import MIN_INPUT_SIZE
from segnet_core.events import CancelToken

Key = TypeVar("Key")
Size = tuple[int, int]


@dataclass
class Prediction:
    """The model's answer for one image, at the image's own size."""

    labels: np.ndarray  # HxW uint8 class indices 0..K-1
    confidence: np.ndarray  # HxW float32, the largest softmax probability, in [0, 1]


@dataclass(frozen=True)
class Restore:
    """How `prepare_image` changed an image, so the outputs can be brought back."""

    size: Size  # the image's own (H, W)
    resized: Size | None  # (H, W) it was resized to, or None
    padded: bool  # whether it was padded at the bottom and right


def check_image(image: object) -> np.ndarray:
    """`image` when it is an HxWx3 uint8 RGB array; SegNetError saying what was expected."""
    if (not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3
            or image.dtype != np.uint8 or image.size == 0):
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise SegNetError(f"expected an HxWx3 uint8 RGB image (height, width, 3 channels), "
                          f"got shape {shape} of {dtype}")
    return image


def prepare_image(image: np.ndarray, input_size: Size | None) -> tuple[np.ndarray, Restore]:
    """The image as the model takes it, and how to undo that.

    With `input_size` the image is resized to it (area when shrinking both sides, bilinear
    otherwise). A side still under 32 pixels is then padded by reflection at the bottom or
    right, and cropped away again by `restore_outputs`.
    """
    h, w = image.shape[:2]
    resized = None
    if input_size is not None and (h, w) != tuple(input_size):
        th, tw = input_size
        shrinking = th <= h and tw <= w
        image = cv2.resize(image, (tw, th),
                           interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        resized = (th, tw)
    ph, pw = image.shape[:2]
    pad_h, pad_w = max(0, MIN_INPUT_SIZE - ph), max(0, MIN_INPUT_SIZE - pw)
    if pad_h or pad_w:
        image = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_REFLECT_101)
    return np.ascontiguousarray(image), Restore((h, w), resized, bool(pad_h or pad_w))


def images_to_tensor(images: Sequence[np.ndarray], mean: torch.Tensor, std: torch.Tensor,
                     device: torch.device) -> torch.Tensor:
    """Same-size HxWx3 uint8 images as a normalised (N, 3, H, W) float32 tensor on `device`.

    `mean` and `std` are (3,) tensors on `device`, for RGB values in [0, 1].
    """
    return normalize_batch(torch.from_numpy(np.stack(images)), mean, std, device)


def normalize_batch(batch: torch.Tensor, mean: torch.Tensor, std: torch.Tensor,
                    device: torch.device) -> torch.Tensor:
    """`images_to_tensor` for images already stacked into an (N, H, W, 3) uint8 tensor.

    The result has channels-last strides (it is a permuted view of the stacked images'
    layout); the copy to `device` does not block when `batch` is in pinned memory.
    """
    batch = batch.to(device, non_blocking=True)
    batch = batch.permute(0, 3, 1, 2).float().div_(255.0)
    return batch.sub_(mean.view(1, 3, 1, 1)).div_(std.view(1, 3, 1, 1))


def logits_to_outputs(logits: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(labels uint8 (N, H, W), confidence float32 (N, H, W)) from logits, in float32."""
    probabilities = torch.softmax(logits.float(), dim=1)
    confidence, labels = probabilities.max(dim=1)
    return (labels.to(torch.uint8).cpu().numpy(), confidence.cpu().numpy())


def restore_outputs(labels: np.ndarray, confidence: np.ndarray, restore: Restore) -> Prediction:
    """Crop the padding and resize back to the image's own size (labels nearest, confidence
    bilinear)."""
    if restore.padded:
        rh, rw = restore.resized or restore.size
        labels, confidence = labels[:rh, :rw], confidence[:rh, :rw]
    if restore.resized is not None:
        h, w = restore.size
        labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST_EXACT)
        confidence = cv2.resize(confidence, (w, h), interpolation=cv2.INTER_LINEAR)
        np.clip(confidence, 0.0, 1.0, out=confidence)
    return Prediction(np.ascontiguousarray(labels), np.ascontiguousarray(confidence))


def _check_input_size(input_size) -> Size | None:
    if input_size is None:
        return None
    try:
        h, w = (int(v) for v in input_size)
    except (TypeError, ValueError):
        raise SegNetError(f"input size must be (height, width), got {input_size!r}") from None
    if h < 1 or w < 1:
        raise SegNetError(f"input size must be positive, got {input_size!r}")
    return (h, w)


#: On a CPU the model takes at most about this many pixels per call (N x H x W): four
#: 360x480 frames, sixteen 180x240 ones. Measured on 2 Zen 5 cores, SegNet-Basic, bf16, ms
#: per frame: 360x480 at batch 1/2/4/8: 178/169/169/202; 180x240 at 1/4/8/16: 46/42/43/39.
#: Larger passes fall out of the caches.
CPU_PIXELS_PER_PASS = 4 * 360 * 480


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm2d that directly follows a Conv2d in an nn.Sequential into that
    conv, in place, and return the model; for inference only (uses the running statistics).

    In eval mode BN is y = (x - mean) / sqrt(var + eps) * gamma + beta, a per-channel affine
    map, so conv + BN is one conv with weights scaled by gamma / sqrt(var + eps) and a shifted
    bias. Computed in float64, so the folded conv equals conv + BN to float32 rounding.
    """
    for sequence in model.modules():
        if not isinstance(sequence, nn.Sequential):
            continue
        names = list(sequence._modules)
        for first, second in zip(names, names[1:]):
            conv, bn = sequence._modules[first], sequence._modules[second]
            if not (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)
                    and bn.running_mean is not None and bn.num_features == conv.out_channels):
                continue
            with torch.no_grad():
                scale = torch.rsqrt(bn.running_var.double() + bn.eps)
                if bn.weight is not None:
                    scale = scale * bn.weight.double()
                shift = -bn.running_mean.double() * scale
                if bn.bias is not None:
                    shift = shift + bn.bias.double()
                weight = conv.weight.double() * scale.view(-1, 1, 1, 1)
                bias = shift if conv.bias is None else conv.bias.double() * scale + shift
                dtype = conv.weight.dtype
                conv.weight = nn.Parameter(weight.to(dtype), requires_grad=False)
                conv.bias = nn.Parameter(bias.to(dtype), requires_grad=False)
            sequence._modules[second] = nn.Identity()
    return model


class Float32Layer(nn.Module):
    """Runs `layer` in float32 even under autocast (its output is float32)."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.layer(x.float())


def inference_model(model: nn.Module, precision: str = "fp32",
                    channels_last: bool = True) -> nn.Module:
    """A copy of `model` for inference only: eval mode, no gradients, batch norm folded into
    the convs, channels-last memory when asked, conv weights already in the autocast dtype
    of `precision` (autocast would otherwise cast them at every call). `model` is unchanged.
    Run it under `autocast(device, precision)` as the original.

    In bf16 or fp16 the convs of the encoder (`model.encoder`, where there is one) and the
    last conv (the classifier of SegNet and SegNet-Basic) stay in float32. The encoder
    decides the pooling indices, and 16-bit rounding (8 significant bits in bf16) turns
    near-equal maxima into ties or flips them, so the decoder puts values in other pixels
    (with a bf16 encoder 2-3 % of SegNet's pooling indices differ from fp32's on CamVid
    images, with an fp32 encoder 0.001 %); the classifier's logits are what argmax
    compares. On all of CamVid val with the shipped SegNet-Basic, the class map agreed with
    fp32's on 99.02 % of the pixels with everything in bf16 and on 99.94 % so; with an
    early-training model, 98.9 %, 99.5 % with the encoder alone in fp32, 99.9 % with the
    classifier too. The decoder, in bf16, holds most of SegNet-Basic's work (92 of 118
    GFLOP at 360x480) and half of SegNet's.
    """
    fast = copy.deepcopy(model).eval()
    fast.requires_grad_(False)
    fold_batchnorm(fast)
    if channels_last:
        fast = fast.to(memory_format=torch.channels_last)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    if dtype is None:
        return fast
    convs = [(name, module) for name, module in fast.named_modules()
             if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d))]
    encoder = getattr(fast, "encoder", None)
    in_encoder = ({id(m) for m in encoder.modules()} if isinstance(encoder, nn.Module)
                  else set())
    for i, (name, module) in enumerate(convs):
        if id(module) in in_encoder or i in (0, len(convs) - 1):
            parent_name, _, child = name.rpartition(".")
            parent = fast.get_submodule(parent_name) if parent_name else fast
            parent._modules[child] = Float32Layer(module)
        else:
            module.to(dtype)
    return fast


def compile_stages(model: nn.Module) -> nn.Module:
    """Run each conv stage of `model` (every nn.Sequential held in an nn.ModuleList: the
    encoder and decoder stages of the SegNet family) through `torch.compile`, in place.

    The pooling and unpooling between the stages stay eager: compiled whole, the model
    broke TorchInductor (its scatter for max_unpool2d fails on the index arithmetic of the
    compact indices, torch 2.13), and ATen's own pooling kernels are the faster anyway.
    Each stage compiles on its first call per input shape (SegNet-Basic 7 s, SegNet 18 s
    on 2 cores); measured gain on that CPU: none (within 2 %), as oneDNN's convolutions are
    most of the time.
    """
    lists = [module for module in model.modules() if isinstance(module, nn.ModuleList)]
    for stages in lists:
        for i, stage in enumerate(stages):
            if isinstance(stage, nn.Sequential):
                stages[i] = torch.compile(stage)
    return model


def _weights_version(model: nn.Module) -> tuple | None:
    """Changes whenever a parameter or buffer of `model` is replaced or modified in place
    (PyTorch counts in-place writes per tensor), so a stale inference copy is noticed."""
    try:
        return tuple((id(t), t._version)
                     for t in itertools.chain(model.parameters(), model.buffers()))
    except RuntimeError:  # inference tensors keep no version counter: they cannot change
        return None


@dataclass
class _Batch:
    """Prepared same-size images on their way to the model."""

    keys: list
    restores: list[Restore]
    images: torch.Tensor  # (N, H, W, 3) uint8 on the CPU, pinned when the model is on CUDA


def _prefetched(batches: Iterator[_Batch], depth: int = 1) -> Iterator[_Batch]:
    """`batches`, produced in a background thread up to `depth` batches ahead (plus the one
    it is working on), in the same order; an exception in the thread is raised here at the
    point it happened. Closing this generator stops the thread."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                slots.put(("batch", batch))
                if stop.is_set():
                    return
            slots.put(("end", None))
        except BaseException as error:  # handed to the consumer, raised there
            slots.put(("error", error))

    thread = threading.Thread(target=produce, name="segnet-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        # Take what the producer still puts so it is never stuck on a full queue; it stops
        # after its current item (it may be waiting on the caller's iterator until then).
        while thread.is_alive():
            try:
                slots.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()
        close = getattr(batches, "close", None)
        if close is not None:
            close()


class Predictor:
    """Runs `model` on images: device, precision, resizing or padding, batching.

    model: a network mapping (N, 3, H, W) to logits (N, K, H, W); moved to the device and
        put in eval mode (the Predictor then owns it). Inference runs on a copy prepared by
        `inference_model`, rebuilt when the model's weights change.
    label_set: the K classes the model predicts.
    input_size: (H, W) images are resized to (the size the model was trained at), or None to
        run each image at its own size (padded to 32 pixels a side when smaller).
    normalization: {"mean": [3], "std": [3]} applied to RGB values in [0, 1].
    device, precision: as `resolve_device` and `resolve_precision` take them; "fp32" forces
        full precision.
    batch_size: most images grouped per batch (one pass on CUDA; on a CPU a batch runs in
        passes of at most CPU_PIXELS_PER_PASS pixels).
    channels_last: channels-last memory for the model (None: yes, faster on CPUs and GPUs).
    compile: run the model's conv stages through `torch.compile` (`compile_stages`; the
        first call per input shape is slow).
    prefetch: `predict_iter` prepares the next batch in a background thread (None: on
        CUDA; on a CPU that thread takes a core from the model and gained nothing
        measurable on 2 cores, where decoding a frame is ~1 % of its inference).
    retain_memory: on a CPU, let the process keep freed memory for the next pass
        (`retain_freed_memory`, process-wide; None: yes).
    """

    def __init__(self, model: nn.Module, label_set: LabelSet, *, input_size: Size | None,
                 normalization: dict, device: str | torch.device = "auto",
                 precision: str = "auto", batch_size: int = 4,
                 channels_last: bool | None = None, compile: bool = False,
                 prefetch: bool | None = None, retain_memory: bool | None = None):
        if int(batch_size) < 1:
            raise SegNetError(f"batch size must be at least 1, got {batch_size}")
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        self.precision = resolve_precision(self.device, precision)
        self.device_description = describe_device(self.device)
        model_classes = getattr(model, "architecture", {}).get("num_classes")
        if model_classes is not None and model_classes != label_set.num_classes:
            raise SegNetError(f"the model predicts {model_classes} classes but the label set "
                              f"has {label_set.num_classes}")
        self.model = model.to(self.device).eval()
        self.label_set = label_set
        self.input_size = _check_input_size(input_size)
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

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "auto",
                        precision: str = "auto", batch_size: int = 4,
                        **options: Any) -> "Predictor":
        """A Predictor for the model, classes, input size and normalisation of a checkpoint
        file (CheckpointError naming it when it cannot be used). `options`: channels_last,
        compile, prefetch."""
        from segnet_core.checkpoint import load_checkpoint

        checkpoint = load_checkpoint(path)
        label_set = checkpoint.label_set()
        classes = checkpoint.architecture.get("num_classes")
        if classes != label_set.num_classes:
            raise CheckpointError(Path(path), f"the model predicts {classes} classes but its "
                                              f"label set has {label_set.num_classes}")
        return cls(checkpoint.build_model(), label_set, input_size=checkpoint.input_size,
                   normalization=checkpoint.normalization, device=device, precision=precision,
                   batch_size=batch_size, **options)

    @property
    def num_classes(self) -> int:
        return self.label_set.num_classes

    def warm_up(self) -> float:
        """One pass on a blank image at the input size (64x64 when none is fixed), so the
        first real image does not pay for one-time work: the fast model is built, the
        memory of a pass is reserved, and PyTorch's lazy imports run (the first
        `max_unpool2d` imports sympy, ~0.5 s holding the interpreter lock: an app's window
        would freeze that long). Seconds it took."""
        height, width = self.input_size or (64, 64)
        started = time.perf_counter()
        self.predict(np.zeros((height, width, 3), np.uint8))
        self.last_inference_seconds = 0.0
        return time.perf_counter() - started

    def predict(self, image: np.ndarray) -> Prediction:
        """Labels and confidence of one HxWx3 uint8 RGB image, at its own size."""
        return self.predict_batch([image])[0]

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
                     cancel: CancelToken | None = None) -> Iterator[tuple[Key, Prediction]]:
        """Predict a stream of (key, image) pairs, yielding (key, prediction) in input order.

        Consecutive images of the same prepared size are batched (up to `batch_size`); an
        image of another size closes the batch. Items are pulled lazily: with `prefetch` a
        background thread pulls and prepares the next batch while the model runs, so at
        most about three batches of images are held. Stops early, without error, once
        `cancel` is cancelled (after the batch being yielded). An error raised by `items`
        or by a bad image is raised here after the predictions of the images before it.
        """
        self.last_inference_seconds = 0.0
        elapsed = 0.0
        batches = self._batches(items, cancel)
        if self.prefetch:
            batches = _prefetched(batches)
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
        source = (id(self.model), _weights_version(self.model))
        if self._fast is None or source != self._fast_source:
            fast = inference_model(self.model, self.precision, self.channels_last)
            if self.compile:
                compile_stages(fast)
            self._fast, self._fast_source = fast, source
        return self._fast

    def _passes(self, batch_size: int, height: int, width: int) -> int:
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
        step = self._passes(x.shape[0], x.shape[2], x.shape[3])
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
            labels, confidence = logits_to_outputs(self.logits(x))
        seconds = time.perf_counter() - start
        return ([restore_outputs(labels[i], confidence[i], restore)
                 for i, restore in enumerate(batch.restores)], seconds)


__all__ = ["CPU_PIXELS_PER_PASS", "Float32Layer", "Prediction", "Predictor", "Restore",
           "check_image", "compile_stages", "fold_batchnorm", "images_to_tensor",
           "inference_model", "logits_to_outputs", "normalize_batch", "prepare_image",
           "restore_outputs"]
