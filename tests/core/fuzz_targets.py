"""Fuzz targets for every reader of the project, shared by tests/core/test_fuzz.py (a short
hypothesis run) and benchmarks/fuzz.py (a long run).

A target is a reader plus seed files it reads correctly. `make_input(target, n)` turns the
integer `n` into one input, deterministically: a seed mutated (bit flips, byte overwrites,
truncation, insertion, deletion, duplication, splicing; PNG chunk CRCs repaired half the
time so mutations reach the decoder; checkpoint zip members mutated and re-packed with valid
CRCs) or a foreign input (empty, random bytes, another format, a PNG header declaring huge
dimensions, deeply nested JSON, NUL bytes, text that is not UTF-8...).

The rule checked: each input loads, or raises a SegNetError whose message names the file.
Any other exception, a hang past the time limit or a crash of the process is a failure.
Inputs run in a worker process (`Runner`), so a crash or a hang is counted, not fatal: the
worker is restarted. The worker runs under RLIMIT_AS (8 GiB), so a reader that would
allocate without bound fails with MemoryError (a failure) instead of swamping the machine.
"""

from __future__ import annotations

import io
import json
import os
import random
import select
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 8 << 30

# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    name: str
    file_name: str  # the input is written to <workdir>/<name>/<file_name>
    kind: str  # "png", "binary", "text", "checkpoint", "video"


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("image_png", "input.png", "png"),
    Target("image_jpg", "input.jpg", "binary"),
    Target("mask", "input.png", "png"),
    Target("labels_txt", "label_colors.txt", "text"),
    Target("labels_json", "labels.json", "text"),
    Target("list_file", "train.txt", "text"),
    Target("video_mp4", "input.mp4", "video"),
    Target("video_avi", "input.avi", "video"),
    Target("checkpoint", "model.pt", "checkpoint"),
    Target("project_index", "index.json", "text"),
)}


def _labels():
    from segnet_core.labels import LabelSet

    return LabelSet(("Sky", "Road", "Car"), ((70, 130, 180), (128, 64, 128), (220, 20, 60)))


def run_target(name: str, path: Path) -> None:
    """Read `path` with target `name`'s reader, using what was read as the program would."""
    import numpy as np

    if name in ("image_png", "image_jpg"):
        from segnet_core.io.images import read_image

        image = read_image(path)
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
    elif name == "mask":
        from segnet_core.io.masks import read_mask

        labels = _labels()
        mask = read_mask(path, labels)
        assert mask.ndim == 2 and mask.dtype == np.uint8
        assert ((mask < labels.num_classes) | (mask == labels.void_index)).all()
    elif name in ("labels_txt", "labels_json"):
        from segnet_core.labels import LabelSet

        labels = LabelSet.read(path)
        labels.palette()
        LabelSet.from_dict(labels.to_dict())
    elif name == "list_file":
        from segnet_core.data.datasets import open_dataset

        dataset = open_dataset(path, label_set=_labels())
        for i in range(min(len(dataset), 3)):
            dataset[i]
    elif name in ("video_mp4", "video_avi"):
        from segnet_core.io.video import VideoFrames
        from segnet_core.io.inputs import iter_inputs

        with VideoFrames(path) as video:
            for index, frame in video.frames():
                assert frame.ndim == 3 and frame.shape[2] == 3
                if index >= 60:
                    break
            video.read(0)
        for _ in zip(range(5), iter_inputs([path])):
            pass
    elif name == "checkpoint":
        from segnet_core.checkpoint import load_checkpoint

        checkpoint = load_checkpoint(path)
        checkpoint.label_set()
        model = checkpoint.build_model()
        for value in model.state_dict().values():
            if value.is_floating_point():
                assert bool(value.isfinite().all())
    elif name == "project_index":
        from segnet_core.finetune.versions import ModelVersions

        versions = ModelVersions(path.parent)
        versions.list()
        versions.current
    else:
        raise KeyError(name)


def judge(name: str, path: Path, reader: Callable[[str, Path], None] = run_target
          ) -> tuple[str, str]:
    """("ok", "") when it loads, ("error", message) for our own error naming the file,
    ("fail", why) otherwise."""
    import traceback

    from segnet_core.errors import SegNetError

    try:
        reader(name, path)
    except SegNetError as error:
        text = str(error)
        if str(path) in text:
            return "error", text[:300]
        return "fail", f"{type(error).__name__} does not name the file: {text[:300]}"
    except BaseException as error:  # noqa: B036 - the point is to catch everything
        if isinstance(error, KeyboardInterrupt):
            raise
        tail = "".join(traceback.format_exception(error)[-4:])
        return "fail", f"{type(error).__name__}: {str(error)[:200]}\n{tail[-1500:]}"
    return "ok", ""


# --------------------------------------------------------------------------- seeds


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_with_size(width: int, height: int, color_type: int = 2, depth: int = 8,
                  data: bytes = b"\x00" * 64) -> bytes:
    """A PNG whose header declares width x height, with a little (too little) pixel data."""
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(data)) + _png_chunk(b"IEND", b""))


def fix_png_crcs(data: bytes) -> bytes:
    """Recompute the CRC of every complete chunk, so a mutation reaches the decoder."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    out, pos = bytearray(data[:8]), 8
    while pos + 8 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        end = pos + 8 + length
        if end + 4 > len(data):
            out += data[pos:]
            return bytes(out)
        kind, body = data[pos + 4:pos + 8], data[pos + 8:end]
        out += data[pos:end] + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        pos = end + 4
    out += data[pos:]
    return bytes(out)


def _encode(image, suffix: str) -> bytes:
    import cv2

    ok, buffer = cv2.imencode(suffix, image)
    assert ok
    return buffer.tobytes()


def _pil_png(array, mode: str | None = None, palette: bytes | None = None) -> bytes:
    from PIL import Image

    image = Image.fromarray(array, mode) if mode else Image.fromarray(array)
    if palette is not None:
        image.putpalette(palette, rawmode="RGB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _checkpoint_seeds() -> list[bytes]:
    import torch

    from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
    from segnet_core.models import build_model

    labels = _labels()
    torch.manual_seed(0)
    model = build_model("segnet-basic-single-channel-decoder", labels.num_classes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seed.pt"
        save_checkpoint(path, checkpoint_from_model(model, labels.to_dict(), (64, 64)))
        return [path.read_bytes()]


def _video_seed(suffix: str) -> bytes:
    import cv2
    import numpy as np

    fourcc = {".mp4": "mp4v", ".avi": "MJPG"}[suffix]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"seed{suffix}"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (48, 32))
        assert writer.isOpened(), suffix
        rng = np.random.default_rng(0)
        for i in range(8):
            frame = np.full((32, 48, 3), 40 * i % 255, np.uint8)
            frame[8:20, 4 * i:4 * i + 12] = rng.integers(0, 255, 3)
            writer.write(frame)
        writer.release()
        return path.read_bytes()


def seeds(name: str) -> list[bytes]:
    """Inputs the target reads correctly (the checkpoint and video ones are built on first
    use and cached in the process)."""
    if name in _SEED_CACHE:
        return _SEED_CACHE[name]
    import numpy as np

    rng = np.random.default_rng(1)
    labels = _labels()
    rgb = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
    index = rng.integers(0, 3, (12, 16), dtype=np.uint8)
    index[0, :4] = labels.void_index
    if name == "image_png":
        out = [_encode(rgb, ".png"), _encode(rgb[:, :, 0], ".png"),
               _encode(np.dstack([rgb, rgb[:, :, :1]]), ".png"),
               _encode((rgb.astype(np.uint16) * 257)[:, :, :3], ".png"),
               _pil_png(index, palette=labels.palette().tobytes())]
    elif name == "image_jpg":
        out = [_encode(rgb, ".jpg"), _encode(rgb[:, :, 0], ".jpg"), _encode(rgb, ".bmp")]
    elif name == "mask":
        colours = labels.colorize(index)
        out = [_pil_png(index, palette=labels.palette().tobytes()), _pil_png(index),
               _pil_png(colours), _encode(index.astype(np.uint16), ".png")]
    elif name == "labels_txt":
        out = [b"70 130 180 Sky\n128 64 128 Road\n220 20 60 Car\n0 0 0 Void\n",
               b"# classes\n\n70 130 180 Sky blue\r\n128 64 128 Road\r\n",
               "\ufeff1 2 3 Ciel\n4 5 6 Rue \u00e9t\u00e9\n".encode("utf-8")]
    elif name == "labels_json":
        out = [json.dumps(labels.to_dict()).encode(),
               b'{"classes": [{"name": "a", "color": [1, 2, 3]}], "void": {"index": 255, '
               b'"name": "v", "color": [0, 0, 0]}}']
    elif name == "list_file":
        out = [b"a.png a_mask.png\nb.jpg b_mask.png\n",
               b"# comment\n\n  a.png   a_mask.png  \r\n", b"\xef\xbb\xbfb.jpg b_mask.png"]
    elif name == "video_mp4":
        out = [_video_seed(".mp4")]
    elif name == "video_avi":
        out = [_video_seed(".avi")]
    elif name == "checkpoint":
        out = _checkpoint_seeds()
    elif name == "project_index":
        entry = {"id": "v001", "file": "v001.pt", "parent": None, "created": "2024-01-01",
                 "recipe": {"kind": "trained", "epochs": 3}, "miou_before": None,
                 "miou_after": 0.5}
        second = dict(entry, id="v002", file="v002.pt", parent="v001", miou_before=0.5)
        out = [json.dumps({"format": "segnet-studio-model-versions", "version": 1,
                           "current": "v002", "versions": [entry, second]}, indent=2).encode(),
               json.dumps({"format": "segnet-studio-model-versions", "version": 1,
                           "current": None, "versions": []}).encode()]
    else:
        raise KeyError(name)
    _SEED_CACHE[name] = out
    return out


_SEED_CACHE: dict[str, list[bytes]] = {}


def foreign(name: str) -> list[bytes]:
    """Inputs of the wrong kind: every target gets all of these."""
    zip_text = io.BytesIO()
    with zipfile.ZipFile(zip_text, "w") as archive:
        archive.writestr("archive/data.pkl", b"not a pickle")
        archive.writestr("readme.txt", "hello")
    return [
        b"", b"\x00", b"\x00" * 4096, bytes(range(256)) * 8, b"hello world\n",
        b"\xff\xfe\xfa not utf-8 \x80\x81\n", b"a.png\x00 a_mask.png\n",
        b"[" * 100_000, b"{\"a\": " * 50_000, b'{"classes": 5}', b'{"classes": [1, 2]}',
        b'{"format": "segnet-studio-model-versions", "version": 1, "current": "v009", '
        b'"versions": [{"id": 1, "file": ["v001.pt"]}]}',
        b'{"format": "segnet-studio-model-versions", "version": 1, "current": "v009", '
        b'"versions": []}',
        b"1e999 1e999 1e999 Sky\n", b"999999999999999999999999 0 0 Big\n",
        b"-1 0 0 Neg\n", b"0 0 0\n", b"70 130 180 Sky\n" * 300,
        png_with_size(100_000, 100_000), png_with_size(30_000, 30_000),
        png_with_size(2 ** 31 - 1, 1), png_with_size(0, 0), png_with_size(40_000, 40_000, 3),
        png_with_size(20_000, 20_000, 0, 16),
        b"\x89PNG\r\n\x1a\n", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"BM" + b"\xff" * 60,
        b"RIFF\xff\xff\xff\xffAVI LIST", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
        b"\x00\x00\x00\x18ftypmp42" + b"\xff" * 64, zip_text.getvalue(),
        b"PK\x03\x04" + b"\xff" * 40, b"\x80\x02}q\x00.",
        b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.",
    ]


# --------------------------------------------------------------------------- mutation

_INTERESTING = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff",
                b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x01\x00\x00"]
_TEXT_TOKENS = [b"\x00", b"\xff\xfe", b"\xc3", b"\n", b"\r", b"\t", b" ", b"#", b"-1",
                b"256", b"99999999999999999999999", b"1e400", b"NaN", b"null", b"true",
                b"[]", b"{}", b'"', b",", b":", b"..", b"/", b"../../etc/passwd",
                b"\xe2\x80\xa8", b"\xef\xbb\xbf", b"v001.pt", b"void", b"a.png", b"b.jpg",
                b"a_mask.png", b"missing.png", b"[" * 3000]


def _mutate_bytes(rng: random.Random, data: bytes, others: list[bytes], text: bool) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 4, 8))):
        op = rng.randrange(9)
        n = len(buffer)
        at = rng.randrange(n + 1) if n else 0
        if op == 0 and n:  # flip a bit
            i = rng.randrange(n)
            buffer[i] ^= 1 << rng.randrange(8)
        elif op == 1 and n:  # overwrite with a random or interesting value
            value = rng.choice(_INTERESTING) if rng.random() < 0.5 else bytes(
                [rng.randrange(256)])
            buffer[at:at + len(value)] = value
        elif op == 2 and n:  # truncate
            del buffer[rng.randrange(n):]
        elif op == 3:  # insert random bytes or a token
            chunk = (rng.choice(_TEXT_TOKENS) if text and rng.random() < 0.7 else
                     bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16))))
            buffer[at:at] = chunk
        elif op == 4 and n:  # delete a range
            del buffer[at:at + rng.randrange(1, 64)]
        elif op == 5 and n:  # duplicate a range
            start = rng.randrange(n)
            buffer[at:at] = buffer[start:start + rng.randrange(1, 256)]
        elif op == 6 and others:  # splice with another input
            other = rng.choice(others)
            cut = rng.randrange(len(other) + 1)
            buffer = buffer[:at] + bytearray(other[cut:])
        elif op == 7 and text:  # replace a number by an odd one
            digits = [i for i, c in enumerate(buffer) if 48 <= c <= 57]
            if digits:
                i = rng.choice(digits)
                buffer[i:i + 1] = rng.choice([b"-1", b"256", b"4294967296", b"1e999", b"0x10",
                                              b"99999999999999999999999999999", b"1.5", b""])
        elif op == 8 and n:  # overwrite a 32-bit field with a big number
            buffer[at:at + 4] = struct.pack(">I", rng.choice(
                (0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 65536, 30000, rng.randrange(2 ** 32))))
    return bytes(buffer)


def _repack_zip(members: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for info, data in members:
            archive.writestr(zipfile.ZipInfo(info.filename, info.date_time), data)
    return out.getvalue()


def _mutate_checkpoint(rng: random.Random, data: bytes) -> bytes:
    """Mutate one member of the zip (mostly the pickle) and re-pack it with valid CRCs."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    pickles = [i for i, (info, _) in enumerate(members) if info.filename.endswith("data.pkl")]
    i = rng.choice(pickles) if pickles and rng.random() < 0.8 else rng.randrange(len(members))
    info, body = members[i]
    choice = rng.random()
    if choice < 0.1:
        del members[i]  # a missing member
    elif choice < 0.15:
        members.append((zipfile.ZipInfo(info.filename + "x"), body))
    else:
        members[i] = (info, _mutate_bytes(rng, body, [], text=False))
    return _repack_zip(members)


def make_input(name: str, n: int) -> bytes:
    """Input number `n` of target `name` (deterministic)."""
    rng = random.Random(f"{name}:{n}")
    target = TARGETS[name]
    own = seeds(name)
    strange = foreign(name)
    roll = rng.random()
    if roll < 0.12:
        return rng.choice(strange)
    if roll < 0.15:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2048)))
    if roll < 0.17:
        return rng.choice(own)
    data = rng.choice(own)
    if target.kind == "checkpoint" and rng.random() < 0.7:
        return _mutate_checkpoint(rng, data)
    if target.kind == "video" and rng.random() < 0.3:
        return data[:rng.randrange(len(data))]  # a truncated video
    mutated = _mutate_bytes(rng, data, own + strange[:4], text=target.kind == "text")
    if target.kind == "png" and rng.random() < 0.6:
        mutated = fix_png_crcs(mutated)
    return mutated


# --------------------------------------------------------------------------- worker


def prepare_workdir(root: Path) -> None:
    """Files the readers need beside their input (the list file's images and masks)."""
    import numpy as np

    from segnet_core.io.masks import write_index_mask

    labels = _labels()
    folder = root / "list_file"
    folder.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(2).integers(0, 255, (12, 16, 3), dtype=np.uint8)
    (folder / "a.png").write_bytes(_encode(rgb, ".png"))
    (folder / "b.jpg").write_bytes(_encode(rgb, ".jpg"))
    mask = np.random.default_rng(3).integers(0, 3, (12, 16), dtype=np.uint8)
    write_index_mask(folder / "a_mask.png", mask, labels)
    write_index_mask(folder / "b_mask.png", mask, labels)
    labels.write(folder / "label_colors.txt")
    for name in TARGETS:
        (root / name).mkdir(parents=True, exist_ok=True)


def serve() -> None:
    """The worker: read 'target<TAB>path' lines, answer one JSON line each."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):
        pass
    import warnings

    warnings.simplefilter("ignore")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    for line in sys.stdin:
        name, path = line.rstrip("\n").split("\t")
        status, detail = judge(name, Path(path))
        sys.stdout.write(json.dumps({"status": status, "detail": detail}) + "\n")
        sys.stdout.flush()


class Runner:
    """Runs inputs in a worker process; a crash or hang is reported and the worker restarted."""

    def __init__(self, workdir: Path, timeout: float = 30.0):
        self.workdir = Path(workdir)
        self.timeout = timeout
        prepare_workdir(self.workdir)
        self.process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ, OPENCV_LOG_LEVEL="SILENT", OPENCV_FFMPEG_LOGLEVEL="-8",
                   PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        return subprocess.Popen(
            [sys.executable, "-c", "from tests.core.fuzz_targets import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=ROOT, env=env, text=True)

    def check(self, name: str, data: bytes) -> tuple[str, str]:
        """("ok"|"error"|"fail"|"crash"|"hang", detail) for `data` given to target `name`."""
        path = self.workdir / name / TARGETS[name].file_name
        path.write_bytes(data)
        if self.process is None or self.process.poll() is not None:
            self.process = self._start()
        process = self.process
        try:
            process.stdin.write(f"{name}\t{path}\n")
            process.stdin.flush()
        except BrokenPipeError:
            pass
        ready, _, _ = select.select([process.stdout], [], [], self.timeout)
        if not ready:
            self.close()
            return "hang", f"no answer within {self.timeout:g} s"
        line = process.stdout.readline()
        if not line:
            code = process.wait()
            self.process = None
            return "crash", f"worker died with exit status {code}"
        answer = json.loads(line)
        return answer["status"], answer["detail"]

    def close(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
