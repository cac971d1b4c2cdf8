"""Inference speed: a plain SegNet beside SegNet Studio's Predictor, measured in one run.

For each model (`segnet`, `segnet-basic`), frame size and batch size it prints, per frame:

* plain: a reference written here, the way one would write SegNet without thinking about
  speed: fp32, NCHW, eager, `nn.Conv2d` -> `nn.BatchNorm2d` -> ReLU and PyTorch's
  `max_pool2d(return_indices=True)` / `max_unpool2d` with int64 indices, under
  `torch.inference_mode()`. The project model's weights are copied into it, and the run
  checks that both compute the same function;
* studio, model: the Predictor's forward pass alone (`Predictor.logits`: the same input
  tensor in, logits out), so the ratio plain / studio compares like with like;
* studio, end to end: `Predictor.predict_iter` over JPEG-encoded frames: decoding,
  preparing, normalising, the model, softmax / argmax and the outputs at the frame's size;
* achieved GFLOP/s (the convolutions' multiply-adds x 2, counted from the layer shapes)
  against a matrix-multiply peak measured here (`torch.mm`, fp32 and bf16), and the peak
  memory of each configuration, measured in its own subprocess (CPU: the process's peak
  resident set, VmHWM; CUDA: `torch.cuda.max_memory_allocated`).

Times are the best of `--repeats` passes after one warm-up pass. Batch 8 at 720x960 (32
frames' worth of 360x480 pixels) gets one pass without warm-up to keep the default run
near 10 minutes on 2 CPU cores; the output marks it. On a machine shared with other work,
each pass first waits (up to 30 s) until other processes leave the CPUs idle and records
how busy they were; a pass disturbed by them is retried.

The accuracy guard of the fast path runs on all of CamVid's val split when the data and a
trained checkpoint (--checkpoint) are here: class-map agreement with fp32 and the mIoU of both.

`--compile` adds the Predictor with `torch.compile` (its first call, compilation included,
and then its model time). `--ablation` instead measures the model time of each step from
the plain network to the fast path (CPU, batch 1, the first size), with freed memory
returned to the system and kept.

Usage: python benchmarks/inference.py [--models segnet segnet-basic]
           [--sizes 360x480 720x960] [--batches 1 8] [--repeats 3] [--compile]
           [--ablation] [--device auto] [--checkpoint CKPT] [--data ../shared/data/camvid]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segnet_core.device import resolve_device  # noqa: E402
from segnet_core.models import build_model  # noqa: E402
from segnet_core.models.segnet import VGG16_STAGES  # noqa: E402
from segnet_core.resources import DEFAULT_MODEL  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "camvid"
TRAINED_BASIC = ROOT / "runs" / "camvid-basic-180x240" / "best.pt"
CLASSES = 11
HEAVY_FRAMES = 16  # a pass of this many 360x480 frames' worth of pixels gets one pass only


# --------------------------------------------------------------------- plain reference
def _plain_block(cin: int, cout: int, k: int, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _plain_encode_decode(encoder: nn.ModuleList, decoder: nn.ModuleList,
                         x: torch.Tensor) -> torch.Tensor:
    """Encoder stages with PyTorch's int64-index pooling, then unpooling decoder stages."""
    pools = []
    for stage in encoder:
        x = stage(x)
        size = x.shape[-2:]
        x, indices = F.max_pool2d(x, 2, 2, ceil_mode=True, return_indices=True)
        pools.append((indices, size))
    for stage, (indices, size) in zip(decoder, reversed(pools)):
        x = stage(F.max_unpool2d(x, indices, 2, 2, output_size=size))
    return x


class PlainSegNet(nn.Module):
    """SegNet (VGG16-BN encoder, mirrored decoder), written plainly."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.encoder = nn.ModuleList()
        previous = 3
        for channels in VGG16_STAGES:
            blocks = []
            for width in channels:
                blocks.append(_plain_block(previous, width, 3))
                previous = width
            self.encoder.append(nn.Sequential(*blocks))
        self.decoder = nn.ModuleList()
        for stage in reversed(range(len(VGG16_STAGES))):
            channels = VGG16_STAGES[stage]
            out_last = VGG16_STAGES[stage - 1][-1] if stage > 0 else channels[0]
            blocks = [_plain_block(c, c, 3) for c in channels[:-1]]
            if stage > 0:
                blocks.append(_plain_block(channels[-1], out_last, 3))
            else:
                blocks.append(nn.Conv2d(channels[-1], num_classes, 3, padding=1))
            self.decoder.append(nn.Sequential(*blocks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _plain_encode_decode(self.encoder, self.decoder, x)


class PlainSegNetBasic(nn.Module):
    """SegNet-Basic (4 x conv 7x7/64 + BN + ReLU + pool; 4 x unpool + conv 7x7/64 + BN;
    1x1 classifier), written plainly."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.encoder = nn.ModuleList(_plain_block(3 if i == 0 else 64, 64, 7) for i in range(4))
        self.decoder = nn.ModuleList(_plain_block(64, 64, 7, relu=False) for _ in range(4))
        self.classifier = nn.Conv2d(64, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(_plain_encode_decode(self.encoder, self.decoder, x))


PLAIN = {"segnet": PlainSegNet, "segnet-basic": PlainSegNetBasic}


def copy_weights(source: nn.Module, target: nn.Module) -> None:
    """Copy the convs and batch norms of `source` into `target`, in module order."""
    def layers(model):
        return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]

    ours, theirs = layers(source), layers(target)
    if len(ours) != len(theirs):
        raise SystemExit(f"layer counts differ: {len(ours)} vs {len(theirs)}")
    for a, b in zip(ours, theirs):
        if type(a) is not type(b):
            raise SystemExit(f"layer types differ: {a} vs {b}")
        b.load_state_dict(a.state_dict())


def _path(text: str | None) -> Path | None:
    return Path(text) if text else None


def conv_flops(model: nn.Module, size: tuple[int, int]) -> int:
    """Multiply-adds x 2 of every conv for one frame of `size`, from each conv's shapes
    (traced on the meta device: shapes only, nothing computed)."""
    import copy

    model = copy.deepcopy(model).to("meta")
    x = torch.zeros(1, 3, *size, device="meta")
    total = 0

    def count(module, inputs, output):
        nonlocal total
        n, cout, h, w = output.shape
        kh, kw = module.kernel_size
        total += 2 * n * cout * h * w * (module.in_channels // module.groups) * kh * kw

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.inference_mode():
        model(x)
    for hook in hooks:
        hook.remove()
    return total


# --------------------------------------------------------------------- measuring
_TICK = os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU seconds all processes have been busy so far (from /proc/stat)."""
    try:
        fields = [int(v) for v in open("/proc/stat").readline().split()[1:9]]
    except OSError:
        return 0.0
    return (sum(fields) - fields[3] - fields[4]) / _TICK  # minus idle and iowait


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


def others_load(seconds: float = 0.5) -> float:
    """Cores' worth of CPU other processes used over `seconds`."""
    busy, own, start = _busy_seconds(), _own_seconds(), time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - start
    return max(0.0, (_busy_seconds() - busy) - (_own_seconds() - own)) / elapsed


def wait_for_quiet(max_wait: float, limit: float = 0.1) -> None:
    end = time.perf_counter() + max_wait
    while time.perf_counter() < end and others_load() > limit:
        pass


def timed(fn, repeats: int, sync, wait: float, limit: float = 0.25) -> tuple[float, float]:
    """(best seconds, others' load during that pass) over `repeats` passes of fn(); a pass
    during which other processes used more than `limit` cores is retried (3 times at most)."""
    best, best_load, retries, done = float("inf"), 0.0, 0, 0
    while done < repeats:
        wait_for_quiet(wait)
        busy, own, start = _busy_seconds(), _own_seconds(), time.perf_counter()
        fn()
        sync()
        elapsed = time.perf_counter() - start
        load = max(0.0, (_busy_seconds() - busy) - (_own_seconds() - own)) / elapsed
        if load > limit and retries < 3:
            retries += 1
            continue
        done += 1
        if elapsed < best:
            best, best_load = elapsed, load
    return best, best_load


def peak_memory_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_peak(device: torch.device, dtype: torch.dtype, wait: float) -> dict[str, float]:
    """GFLOP/s of two matrix multiplies in `dtype`: torch.mm on 4096 x 4096 matrices, and a
    1x1 convolution (a 4096 x 1024 by 1024 x 1024 product, channels-last), which goes
    through oneDNN like the networks' convolutions. On a CPU torch.mm uses the BLAS
    PyTorch was built with, which on AMD CPUs may not use AVX-512 (the first run here got
    half of what oneDNN gets), so the larger of the two is the peak."""
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    n = 4096
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    torch.mm(a, b)
    seconds, _ = timed(lambda: torch.mm(a, b), 3, sync, wait)
    result = {"torch.mm": 2 * n**3 / seconds / 1e9}
    conv = nn.Conv2d(1024, 1024, 1, bias=False).to(device, dtype).eval()
    x = torch.randn(1, 1024, 64, 64, device=device).to(dtype)
    if device.type == "cpu":
        conv, x = conv.to(memory_format=torch.channels_last), x.contiguous(
            memory_format=torch.channels_last)
    with torch.inference_mode():
        conv(x)
        seconds, _ = timed(lambda: conv(x), 3, sync, wait)
    result["1x1 conv"] = 2 * 1024 * 1024 * 64 * 64 / seconds / 1e9
    return result


# --------------------------------------------------------------------- inputs and models
def project_model(name: str, checkpoint: Path | None) -> tuple[nn.Module, str]:
    """The project's model `name` with the checkpoint's weights when it holds that
    architecture, else seeded He-initialised weights; and where the weights came from."""
    if checkpoint is not None and checkpoint.is_file():
        from segnet_core.checkpoint import load_checkpoint

        ckpt = load_checkpoint(checkpoint)
        if ckpt.architecture.get("name") == name:
            where = checkpoint.relative_to(ROOT) if checkpoint.is_relative_to(ROOT) else checkpoint
            return ckpt.build_model().eval(), str(where)
    torch.manual_seed(0)
    return build_model(name, CLASSES).eval(), "He-initialised (seed 0)"


def frames(size: tuple[int, int], count: int, data: Path) -> list[np.ndarray]:
    """`count` RGB frames of `size`: CamVid val images resized, else a synthetic scene."""
    import cv2

    h, w = size
    images = []
    if (data / "val.txt").is_file():
        from segnet_core.data import open_dataset

        dataset = open_dataset(data, split="val")
        for i in range(min(count, len(dataset))):
            images.append(cv2.resize(dataset.read_image(i), (w, h),
                                     interpolation=cv2.INTER_LINEAR))
    rng = np.random.default_rng(0)
    while len(images) < count:
        ys, xs = np.mgrid[0:h, 0:w]
        base = np.stack([xs * 255 // w, ys * 255 // h, (xs + ys) * 255 // (h + w)], -1)
        noise = rng.integers(0, 40, (h, w, 3))
        images.append(np.clip(base + noise, 0, 255).astype(np.uint8))
    return images[:count]


def encode(images: list[np.ndarray]) -> list[bytes]:
    import cv2

    return [cv2.imencode(".jpg", cv2.cvtColor(im, cv2.COLOR_RGB2BGR),
                         [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes() for im in images]


def decoded(encoded: list[bytes]):
    import cv2

    for i, data in enumerate(encoded):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        yield i, cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


# --------------------------------------------------------------------- one configuration
def worker(spec: dict) -> dict:
    """Measure one (model, size, batch, implementation) in this process."""
    from segnet_core.labels import LabelSet
    from segnet_core.inference import Predictor, images_to_tensor

    device = resolve_device(spec["device"])
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    h, w = spec["size"]
    batch, heavy, wait = spec["batch"], spec["heavy"], spec["wait"]
    repeats = 1 if heavy else spec["repeats"]
    model, weights = project_model(spec["model"], _path(spec["checkpoint"]))
    images = frames((h, w), batch, Path(spec["data"]))
    mean, std = [0.39, 0.41, 0.43], [0.30, 0.31, 0.31]
    # As the Predictor makes it (a permuted view of the stacked HxWx3 images: channels-last
    # strides); the plain network gets the same values in NCHW.
    x_cpu = images_to_tensor(images, torch.tensor(mean), torch.tensor(std), torch.device("cpu"))
    result = {"weights": weights}
    base = peak_memory_mib(device)

    if spec["impl"] == "plain":
        plain = PLAIN[spec["model"]](CLASSES).eval()
        copy_weights(model, plain)
        probe = x_cpu[:1, :, :96, :128]
        with torch.inference_mode():
            same = (plain(probe) - model(probe)).abs().max().item()
        result["same_function_max_abs_diff"] = same
        result["probe"] = f"{probe.shape[-2]}x{probe.shape[-1]}"
        result["flops_per_frame"] = conv_flops(plain, (h, w))
        del model
        plain = plain.to(device)
        x = x_cpu.contiguous().to(device)
        with torch.inference_mode():
            if not heavy:
                plain(x)
                sync()
            seconds, load = timed(lambda: plain(x), repeats, sync, wait)
        result.update(model_seconds=seconds, model_load=load)
    else:
        labels = LabelSet(tuple(f"class{i}" for i in range(CLASSES)),
                          tuple((i, i, i) for i in range(CLASSES)))
        predictor = Predictor(model, labels, input_size=None,
                              normalization={"mean": mean, "std": std}, device=device,
                              batch_size=batch, compile=spec["impl"] == "compile")
        result["precision"] = predictor.precision
        x = x_cpu.to(device)
        with torch.inference_mode():
            start = time.perf_counter()
            predictor.logits(x)  # builds the inference copy (and compiles it)
            sync()
            result["first_call_seconds"] = time.perf_counter() - start
            if not heavy:
                predictor.logits(x)
                sync()
            seconds, load = timed(lambda: predictor.logits(x), repeats, sync, wait)
        result.update(model_seconds=seconds, model_load=load)
        if spec["impl"] == "studio":
            n_batches = 1 if heavy else 2
            encoded = encode(frames((h, w), batch * n_batches, Path(spec["data"])))

            def end_to_end(prefetch: bool) -> tuple[float, float]:
                predictor.prefetch = prefetch
                def run():
                    return [p.labels for _, p in predictor.predict_iter(decoded(encoded))]

                return timed(run, 1 if heavy else 2, sync, wait)

            default = predictor.prefetch
            e2e, e2e_load = end_to_end(default)
            result.update(e2e_seconds=e2e / (batch * n_batches), e2e_load=e2e_load,
                          prefetch=default)
            if not heavy:
                result["e2e_other_prefetch_seconds"] = (end_to_end(not default)[0]
                                                        / (batch * n_batches))
    result["peak_mib"] = peak_memory_mib(device)
    result["base_mib"] = base
    return result


def accuracy_worker(spec: dict) -> dict:
    """Fast path (auto precision) against the plain fp32 model on all of CamVid val."""
    from segnet_core.checkpoint import load_checkpoint
    from segnet_core.data import open_dataset
    from segnet_core.evaluation import SegmentationEvaluator
    from segnet_core.inference import (Predictor, images_to_tensor, prepare_image,
                                     restore_outputs)

    device = resolve_device(spec["device"])
    ckpt = load_checkpoint(spec["checkpoint"])
    dataset = open_dataset(spec["data"], split="val")
    fast = Predictor.from_checkpoint(spec["checkpoint"], device=device)
    model = ckpt.build_model().to(device).eval()
    norm = ckpt.normalization
    mean = torch.tensor(norm["mean"], device=device)
    std = torch.tensor(norm["std"], device=device)
    k, void = dataset.label_set.num_classes, dataset.label_set.void_index
    ev_fast, ev_plain = (SegmentationEvaluator(k, void, compute_bf=False) for _ in range(2))
    agree = total = 0
    for i in range(len(dataset)):
        image, mask = dataset[i]
        prepared, restore = prepare_image(image, ckpt.input_size)
        with torch.inference_mode():
            logits = model(images_to_tensor([prepared], mean, std, device))
        plain_labels = restore_outputs(logits.argmax(1)[0].to(torch.uint8).cpu().numpy(),
                                       np.zeros(prepared.shape[:2], np.float32), restore).labels
        fast_labels = fast.predict(image).labels
        valid = mask != void if void is not None else np.ones(mask.shape, bool)
        agree += int((fast_labels[valid] == plain_labels[valid]).sum())
        total += int(valid.sum())
        ev_fast.update(fast_labels, mask)
        ev_plain.update(plain_labels, mask)
    return {"images": len(dataset), "agreement": agree / max(1, total),
            "miou_fast": float(ev_fast.result().miou), "miou_fp32": float(ev_plain.result().miou),
            "precision": fast.precision, "input_size": ckpt.input_size,
            "checkpoint": spec["checkpoint"]}


# --------------------------------------------------------------------- ablation
def ablation_worker(spec: dict) -> dict:
    """Model time of each step from the plain network to the Predictor's fast path, in one
    process (with or without retained memory: that setting is process-wide)."""
    import copy

    from segnet_core.device import retain_freed_memory
    from segnet_core.inference import Float32Layer, inference_model

    if spec["retain"]:
        retain_freed_memory()
    h, w = spec["size"]
    model, _ = project_model(spec["model"], _path(spec["checkpoint"]))
    plain = PLAIN[spec["model"]](CLASSES).eval()
    copy_weights(model, plain)
    x = torch.randn(1, 3, h, w)
    x_cl = x.contiguous(memory_format=torch.channels_last)

    def all_bf16(base):  # everything in bf16 but the first and last conv
        fast = inference_model(base, "fp32")
        convs = [(n, m) for n, m in fast.named_modules() if isinstance(m, nn.Conv2d)]
        for i, (name, conv) in enumerate(convs):
            if i in (0, len(convs) - 1):
                parent, _, child = name.rpartition(".")
                fast.get_submodule(parent)._modules[child] = Float32Layer(conv)
            else:
                conv.to(torch.bfloat16)
        return fast

    steps = [
        ("plain: NCHW fp32, int64 indices", plain, x, False),
        ("project model: compact uint8 indices", model, x, False),
        ("+ channels-last", copy.deepcopy(model).to(memory_format=torch.channels_last), x_cl,
         False),
        ("+ batch norm folded", inference_model(model, "fp32"), x_cl, False),
        ("+ bf16 decoder (encoder, classifier fp32)", inference_model(model, "bf16"), x_cl, True),
        ("  (all bf16 instead: less accurate)", all_bf16(model), x_cl, True),
    ]
    times = {}
    with torch.inference_mode():
        for name, net, inp, bf16 in steps:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                net(inp)
                net(inp)
                times[name], _ = timed(lambda: net(inp), spec["repeats"], lambda: None,
                                       spec["wait"])
    return times


def run_worker(spec: dict, kind: str = "worker") -> dict:
    process = subprocess.run([sys.executable, __file__, f"--{kind}", json.dumps(spec)],
                             capture_output=True, text=True)
    if process.returncode != 0:
        sys.stderr.write(process.stderr)
        raise SystemExit(f"{kind} failed for {spec}")
    return json.loads(process.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------- report
def machine(device: torch.device) -> str:
    from segnet_core.device import cpu_has_native_bf16

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory = float("nan")
    text = (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, native bf16: "
            f"{'yes' if cpu_has_native_bf16() else 'no'}; torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads")
    if device.type == "cuda":
        text += f"; GPU {torch.cuda.get_device_name(device)}"
    return text


def ablation(args, device: torch.device, checkpoint: Path | None, wait: float) -> None:
    if device.type != "cpu":
        raise SystemExit("--ablation measures the CPU path")
    size = args.sizes[0]
    print(f"Model time per frame (ms), {size[0]}x{size[1]}, batch 1, best of {args.repeats}:")
    print("| step | " + " | ".join(f"{name}, memory returned | {name}, memory kept"
                                   for name in args.models) + " |")
    print("|---|" + "---:|---:|" * len(args.models))
    columns = []
    for name in args.models:
        for retain in (False, True):
            columns.append(run_worker({"model": name, "size": size, "repeats": args.repeats,
                                       "wait": wait, "retain": retain,
                                       "checkpoint": str(checkpoint) if checkpoint else None},
                                      "ablation-worker"))
    for step in columns[0]:
        print(f"| {step} | " + " | ".join(f"{1000 * c[step]:,.0f}" for c in columns) + " |")
    print("\n'memory kept': retain_freed_memory() (the Predictor's default on a CPU).")


def _size(text: str) -> tuple[int, int]:
    h, w = text.lower().split("x")
    return int(h), int(w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["segnet", "segnet-basic"],
                        choices=sorted(PLAIN))
    parser.add_argument("--sizes", nargs="+", type=_size, default=[(360, 480), (720, 960)])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile", action="store_true",
                        help="also time the Predictor with torch.compile (and its compile time)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="trained weights for the rows of their architecture and the "
                             "accuracy guard (default: the shipped model, SegNet-Basic-LCN, "
                             "else runs/camvid-basic-180x240/best.pt; rows of another "
                             "architecture get seeded He-initialised weights)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--no-wait", action="store_true",
                        help="do not wait for other processes to leave the CPUs idle")
    parser.add_argument("--ablation", action="store_true",
                        help="instead: model time of each fast-path step, batch 1, first size")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--accuracy-worker", help=argparse.SUPPRESS)
    parser.add_argument("--ablation-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for kind, function in (("worker", worker), ("accuracy_worker", accuracy_worker),
                           ("ablation_worker", ablation_worker)):
        if getattr(args, kind):
            print(json.dumps(function(json.loads(getattr(args, kind)))))
            return

    device = resolve_device(args.device)
    checkpoint = args.checkpoint or next(
        (p for p in (DEFAULT_MODEL, TRAINED_BASIC) if p.is_file()), None)
    wait = 0.0 if args.no_wait else 30.0
    started = time.perf_counter()
    print(f"Machine: {machine(device)}; device {device}")
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    if device.type == "cuda":
        dtypes["fp16"] = torch.float16
    measured = {name: matmul_peak(device, dtype, wait) for name, dtype in dtypes.items()}
    peaks = {name: max(m.values()) for name, m in measured.items()}
    print("Matrix-multiply peak, GFLOP/s (the larger of torch.mm 4096^3 and a 1x1 conv "
          "through oneDNN): " + "; ".join(
              f"{name} {peaks[name]:,.0f} (mm {m['torch.mm']:,.0f}, conv {m['1x1 conv']:,.0f})"
              for name, m in measured.items()))
    print()

    if args.ablation:
        ablation(args, device, checkpoint, wait)
        return
    rows = []
    for name in args.models:
        for size in args.sizes:
            for batch in args.batches:
                heavy = batch * size[0] * size[1] >= HEAVY_FRAMES * 360 * 480
                spec = {"model": name, "size": size, "batch": batch, "repeats": args.repeats,
                        "heavy": heavy, "device": str(device), "wait": wait,
                        "checkpoint": str(checkpoint) if checkpoint else None,
                        "data": str(args.data)}
                plain = run_worker({**spec, "impl": "plain"})
                studio = run_worker({**spec, "impl": "studio"})
                compiled = run_worker({**spec, "impl": "compile"}) if args.compile else None
                rows.append((name, size, batch, heavy, plain, studio, compiled))
                print(f"  measured {name} {size[0]}x{size[1]} batch {batch} "
                      f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)

    def ms(seconds, frames_):
        return 1000 * seconds / frames_

    print("| model | size | batch | plain ms/frame | plain fps | studio model ms/frame | "
          "studio fps | speed-up | studio end-to-end ms/frame | e2e fps | e2e speed-up | "
          "plain GFLOP/s (% fp32 peak) | studio GFLOP/s (% peak) | plain peak MiB | "
          "studio peak MiB |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, (h, w), batch, heavy, plain, studio, compiled in rows:
        flops = plain["flops_per_frame"]
        p_ms, s_ms = ms(plain["model_seconds"], batch), ms(studio["model_seconds"], batch)
        e_ms = 1000 * studio["e2e_seconds"]
        p_gf, s_gf = flops / p_ms / 1e6, flops / s_ms / 1e6
        peak_s = peaks.get(studio["precision"], peaks["fp32"])
        mark = "*" if heavy else ""
        print(f"| {name} | {h}x{w} | {batch}{mark} | {p_ms:,.0f} | {1000 / p_ms:.2f} | "
              f"{s_ms:,.0f} | {1000 / s_ms:.2f} | {p_ms / s_ms:.2f}x | {e_ms:,.0f} | "
              f"{1000 / e_ms:.2f} | {p_ms / e_ms:.2f}x | "
              f"{p_gf:,.0f} ({100 * p_gf / peaks['fp32']:.0f} %) | "
              f"{s_gf:,.0f} ({100 * s_gf / peak_s:.0f} % of {studio['precision']}) | "
              f"{plain['peak_mib']:,.0f} | {studio['peak_mib']:,.0f} |")
    print()
    first = rows[0]
    print(f"Studio precision: {first[5]['precision']}. Weights: "
          + "; ".join(sorted({f'{r[0]}: {r[4]["weights"]}' for r in rows})) + ".")
    print("Plain and studio compute the same function: max |logit difference| in fp32 on a "
          "crop of the input: " + ", ".join(sorted(
              {f'{r[0]} {r[4]["same_function_max_abs_diff"]:.1e} ({r[4]["probe"]})'
               for r in rows})) + ".")
    flops = {f'{r[0]} {r[1][0]}x{r[1][1]} {r[4]["flops_per_frame"] / 1e9:.0f} G' for r in rows}
    print("Convolution FLOPs per frame: " + ", ".join(sorted(flops)) + ".")
    base = {r[4]["base_mib"] for r in rows} | {r[5]["base_mib"] for r in rows}
    print(f"Peak memory is the whole process's (idle with its model loaded: "
          f"{min(base):,.0f}-{max(base):,.0f} MiB)." if device.type == "cpu" else
          "Peak memory: torch.cuda.max_memory_allocated.")
    if any(r[3] for r in rows):
        print("* one pass, without warm-up (to keep the run short); the end-to-end time is one "
              "batch, so reading the first frames is not overlapped with anything.")
    disturbed = [f"{r[0]} {r[1][0]}x{r[1][1]} b{r[2]}" for r in rows
                 if max(r[4]["model_load"], r[5]["model_load"], r[5]["e2e_load"]) > 0.25]
    if disturbed:
        print("Other processes were busy (> 0.25 cores) during: " + ", ".join(disturbed))
    prefetch = [r for r in rows if "e2e_other_prefetch_seconds" in r[5]]
    if prefetch:
        def both(r):  # (without, with) prefetching, ms/frame
            pair = (1000 * r[5]["e2e_seconds"], 1000 * r[5]["e2e_other_prefetch_seconds"])
            return pair if not r[5]["prefetch"] else pair[::-1]

        print(f"End to end uses the Predictor's default (prefetch "
              f"{'on' if rows[0][5]['prefetch'] else 'off'} on {device.type}). Without / with "
              "prefetching the next frames in a thread (ms/frame): " + "; ".join(
                  f"{r[0]} {r[1][0]}x{r[1][1]} b{r[2]} {both(r)[0]:,.0f} / {both(r)[1]:,.0f}"
                  for r in prefetch) + ".")
    if args.compile:
        print("torch.compile (first call, incl. compilation; then ms/frame): " + "; ".join(
            f"{r[0]} {r[1][0]}x{r[1][1]} b{r[2]} {r[6]['first_call_seconds']:.0f} s, "
            f"{ms(r[6]['model_seconds'], r[2]):,.0f} ms" for r in rows) + ".")

    if checkpoint is not None and (args.data / "val.txt").is_file():
        acc = run_worker({"checkpoint": str(checkpoint), "data": str(args.data),
                          "device": str(device)}, "accuracy-worker")
        print(f"\nAccuracy guard, CamVid val ({acc['images']} images, {acc['checkpoint']} at "
              f"{acc['input_size']}): the fast path ({acc['precision']}) and plain fp32 agree on "
              f"{100 * acc['agreement']:.2f} % of non-void pixels; mIoU "
              f"{100 * acc['miou_fp32']:.2f} (fp32) vs {100 * acc['miou_fast']:.2f} (fast), "
              f"{100 * (acc['miou_fast'] - acc['miou_fp32']):+.2f} points.")
    print(f"\nTotal time {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
