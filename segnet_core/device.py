"""Choosing where and in which precision a model runs."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import platform
from enum import Enum
from pathlib import Path

import torch

from segnet_core.errors import SegNetError



class Precision(str, Enum):
    """What a model computes in. Resolved precisions are handed around as the plain
    string values ("fp32", ...), which checkpoints and messages store as they are."""

    AUTO = "auto"  # chosen by `resolve_precision` for the device
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"


#: The names `resolve_precision` takes (argparse choices, settings), "auto" first.
PRECISIONS = tuple(p.value for p in Precision)
_DTYPES = {Precision.BF16: torch.bfloat16, Precision.FP16: torch.float16}


def resolve_device(name: str = "auto") -> torch.device:
    """"auto" -> the first CUDA device when there is one, else the CPU; "cpu", "cuda", "cuda:1"."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SegNetError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SegNetError(f"device {name!r} asked for, but this PyTorch sees no CUDA GPU "
                              "(CPU build, or no driver); use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SegNetError(f"device {name!r} asked for, but there are only "
                              f"{torch.cuda.device_count()} CUDA devices")
    elif device.type != "cpu":
        raise SegNetError(f"unsupported device {name!r}; use auto, cpu, cuda or cuda:N")
    return device


def describe_device(device: torch.device) -> str:
    """A short human name: 'CPU (2 threads)' or 'cuda:0 NVIDIA H200'."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} {torch.cuda.get_device_name(index)}"
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 instructions (AVX512-BF16 or AMX), where bf16 autocast pays."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def resolve_precision(device: torch.device, requested: str = "auto") -> str:
    """The precision to run in: 'fp32', 'bf16' or 'fp16'.

    auto: on CUDA bf16 where supported, else fp16; on a CPU bf16 when it has native bf16
    instructions, else fp32 (emulated bf16 is slower than fp32).
    """
    if requested not in PRECISIONS:
        raise SegNetError(f"unknown precision {requested!r}; use one of {', '.join(PRECISIONS)}")
    chosen = Precision(requested)
    if chosen == Precision.AUTO:
        if device.type == "cuda":
            chosen = Precision.BF16 if torch.cuda.is_bf16_supported() else Precision.FP16
        else:
            chosen = Precision.BF16 if cpu_has_native_bf16() else Precision.FP32
    if chosen == Precision.FP16 and device.type == "cpu":
        raise SegNetError("fp16 is for CUDA; on a CPU use bf16 or fp32")
    return chosen.value


def precision_dtype(precision: str) -> torch.dtype | None:
    """The 16-bit dtype autocast computes in for a resolved `precision`; None for fp32."""
    return _DTYPES.get(Precision(precision))


def autocast(device: torch.device, precision: str):
    """Autocast context for `precision` on `device` (a no-op for fp32)."""
    dtype = precision_dtype(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@functools.lru_cache(maxsize=1)
def release_freed_memory() -> bool:
    """Hand the free memory glibc's heap holds back to the system (`malloc_trim(0)`); True
    when done (glibc), False elsewhere. With `retain_freed_memory` on, a moment of high use
    (a backlog of decoded frames, a large batch) would otherwise stay in the process's
    memory for good; a long-running program calls this now and then (the next pass faults
    the pages it needs in again)."""
    if platform.system() != "Linux":
        return False
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim(0)  # ctypes lets other threads run meanwhile
    return True


def retain_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse instead of handing it back to the
    system; True when done (glibc), False elsewhere (nothing changes). Process-wide, once.

    By default blocks above a few MB are mmap-ed and unmapped again on free, so every
    activation of every forward pass lands on fresh pages, which the kernel faults in and
    zeroes one 4 KiB page at a time. With mmap off and no trimming, the heap keeps its
    high-water mark and a pass reuses it, so after the first frames no page is faulted in
    afresh (what that saves per frame: docs/speed.md). The price: the process's memory
    does not shrink after a large batch (the next one reuses it). PyTorch's CPU tuning
    guide suggests jemalloc or tcmalloc for the same reason; this gets it without another
    library.
    """
    if platform.system() != "Linux":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4  # from glibc's <malloc.h>
    # mallopt returns 1 on success; glibc falls back to mmap by itself when the heap
    # cannot grow (and for threads' arenas above 64 MiB), so nothing can fail for want of it.
    return bool(mallopt(m_mmap_max, 0)) and bool(mallopt(m_trim_threshold, 2**31 - 1))
