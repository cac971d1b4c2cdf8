"""Hostile checkpoints: pickles that would run code, tensors declaring huge sizes, archives
that would expand without bound, wrong dtypes, missing and extra keys. All are refused with
a CheckpointError naming the file; nothing runs; memory stays bounded (checked in a child
process limited to 2 GiB of address space)."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import torch

from segnet_core.checkpoint import checkpoint_from_model, load_checkpoint, save_checkpoint
from segnet_core.errors import CheckpointError
from segnet_core.labels import LabelSet
from segnet_core.models import build_model
from segnet_core.models.segnet import SegNet, load_vgg16_bn_encoder

ROOT = Path(__file__).resolve().parents[2]
LABELS = LabelSet(("Sky", "Road", "Car"), ((70, 130, 180), (128, 64, 128), (220, 20, 60)))
MODEL = "segnet-basic-single-channel-decoder"


def _good(tmp_path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "good.pt"
    save_checkpoint(path, checkpoint_from_model(build_model(MODEL, 3), LABELS.to_dict(), (64, 64)))
    return path


def _members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _write_zip(path: Path, members, compression=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


class _Call:
    """Pickles as a call of `func(*args)`: what a hostile file holds."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _code_payloads(marker: Path):
    shell = f"touch {marker}"
    return {
        "os.system": _Call(os.system, shell),
        "builtins.exec": _Call(exec, f"open({str(marker)!r}, 'w').close()"),
        "subprocess.Popen": _Call(subprocess.Popen, ["touch", str(marker)]),
        "builtins.eval": _Call(eval, f"open({str(marker)!r}, 'w')"),
    }


@pytest.mark.parametrize("kind", ["os.system", "builtins.exec", "subprocess.Popen",
                                  "builtins.eval"])
def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path, kind):
    marker = tmp_path / "ran"
    evil = _code_payloads(marker)[kind]
    good = _good(tmp_path)
    # 1. torch.save of a checkpoint dict holding the call, as a writer with bad intent would
    as_torch = tmp_path / "torch.pt"
    payload = torch.load(good, weights_only=True)
    payload["training"] = evil
    torch.save(payload, as_torch)
    # 2. the call as the whole pickle inside a well-formed archive
    as_member = _write_zip(tmp_path / "member.pt", [
        (name, pickle.dumps(evil, protocol=2) if name.endswith("data.pkl") else data)
        for name, data in _members(good)])
    # 3. a plain pickle file (the legacy format), not an archive at all
    as_plain = tmp_path / "plain.pt"
    as_plain.write_bytes(pickle.dumps(evil, protocol=2))
    for path in (as_torch, as_member, as_plain):
        with pytest.raises(CheckpointError) as caught:
            load_checkpoint(path)
        assert str(path) in str(caught.value)
        assert "refused" in str(caught.value) or "not a readable checkpoint" in str(caught.value)
        with pytest.raises(CheckpointError):
            load_vgg16_bn_encoder(SegNet(3), path)
    assert not marker.exists(), "the pickle ran code"


def _long1(n: int) -> bytes:
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def _huge_tensor_checkpoint(tmp_path: Path) -> Path:
    """A well-formed archive whose only tensor declares 10^12 float elements (4 TB) in
    both its storage and its size, while the file holds 16 bytes of data."""
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        members = [(i.filename, archive.read(i)) for i in archive.infolist()]
    out = []
    for name, data in members:
        if name.endswith("data.pkl"):
            assert b"K\x04t" in data and b"K\x00K\x04\x85" in data
            data = data.replace(b"K\x04t", _long1(10 ** 12) + b"t", 1)
            data = data.replace(b"K\x00K\x04\x85", b"K\x00" + _long1(10 ** 12) + b"\x85", 1)
        out.append((name, data))
    return _write_zip(tmp_path / "huge.pt", out)


def _zip_bomb(tmp_path: Path, gib: float = 2.5) -> Path:
    """A checkpoint whose weights member is deflate-compressed zeros: 2.5 GiB that fit in a
    few MB; the pickle asks for a tensor of that size."""
    elements = int(gib * (1 << 30)) // 4
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        members = [(i.filename, archive.read(i)) for i in archive.infolist()]
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in members:
            if name.endswith("data.pkl"):
                data = data.replace(b"K\x04t", _long1(elements) + b"t", 1)
                data = data.replace(b"K\x00K\x04\x85", b"K\x00" + _long1(elements) + b"\x85", 1)
            if not name.endswith("data/0"):
                archive.writestr(name, data)
        chunk = bytes(64 << 20)
        with archive.open("archive/data/0", "w", force_zip64=True) as member:
            for _ in range(elements * 4 // len(chunk)):
                member.write(chunk)
    return path


def _declared_too_big(tmp_path: Path) -> Path:
    """A stored (uncompressed) archive whose central directory says a member holds 1 TB."""
    good = _good(tmp_path)
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as archive:
        info = [i for i in archive.infolist() if "/data/" in i.filename][0]
    # patch the central directory record's uncompressed size of that member
    name = info.filename.encode()
    at = data.rfind(b"PK\x01\x02" , 0, data.rfind(name))
    data[at + 24:at + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    path = tmp_path / "declared.pt"
    path.write_bytes(bytes(data))
    return path


LOAD_UNDER_LIMIT = textwrap.dedent("""
    import resource, sys
    from segnet_core.checkpoint import load_checkpoint
    from segnet_core.errors import CheckpointError
    from segnet_core.models.segnet import SegNet, load_vgg16_bn_encoder
    limit = 2 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        if sys.argv[2] == "vgg":
            load_vgg16_bn_encoder(SegNet(3), sys.argv[1])
        else:
            load_checkpoint(sys.argv[1]).build_model()
    except CheckpointError as error:
        print("REFUSED", error)
        sys.exit(3)
    except BaseException as error:
        print("OTHER", type(error).__name__, error)
        sys.exit(4)
    print("LOADED")
""")


def _load_in_limited_child(path: Path, loader: str = "checkpoint") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LOAD_UNDER_LIMIT, str(path), loader], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS checks need Linux")
@pytest.mark.parametrize("make", [_huge_tensor_checkpoint, _declared_too_big, _zip_bomb],
                         ids=["tensor-declares-1e12", "member-declares-4GB", "zip-bomb-2.5GiB"])
@pytest.mark.parametrize("loader", ["checkpoint", "vgg"])
def test_huge_declared_sizes_are_refused_within_2_gib(tmp_path, make, loader):
    path = make(tmp_path)
    assert path.stat().st_size < 64 << 20
    done = _load_in_limited_child(path, loader)
    assert done.returncode == 3, (done.returncode, done.stdout, done.stderr[-2000:])
    assert "REFUSED" in done.stdout and str(path) in done.stdout
    if make is not _huge_tensor_checkpoint:  # refused by the archive check, before reading
        assert "refused: archive member" in done.stdout, done.stdout
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_vgg16_bn_weights_of_the_wrong_type_or_not_finite_are_refused(tmp_path):
    from tests.core.test_models import _fake_vgg16_bn_state

    for name, change in (("nan", lambda t: t.fill_(float("nan"))),
                         ("int", lambda t: t.to(torch.int64))):
        state = _fake_vgg16_bn_state()
        state["features.0.weight"] = change(state["features.0.weight"])
        path = tmp_path / f"vgg-{name}.pth"
        torch.save(state, path)
        model = SegNet(3)
        before = model.encoder[0][0][0].weight.detach().clone()
        with pytest.raises(CheckpointError, match="features.0.weight") as caught:
            load_vgg16_bn_encoder(model, path)
        assert str(path) in str(caught.value)
        assert torch.equal(model.encoder[0][0][0].weight, before)  # left untouched


def _with_state(tmp_path: Path, change) -> Path:
    checkpoint = load_checkpoint(_good(tmp_path))
    change(checkpoint.state_dict)
    path = tmp_path / "changed.pt"
    save_checkpoint(path, checkpoint)
    return path


def _first_conv(state) -> str:
    return next(k for k, v in state.items() if k.endswith("weight") and v.ndim == 4)


def test_integer_weights_are_refused_naming_the_tensor(tmp_path):
    names = []

    def to_int(state):
        names.append(_first_conv(state))
        state[names[0]] = (state[names[0]] * 1000).to(torch.int32)

    path = _with_state(tmp_path, to_int)
    checkpoint = load_checkpoint(path)
    with pytest.raises(CheckpointError) as caught:
        checkpoint.build_model()
    assert str(path) in str(caught.value) and names[0] in str(caught.value)
    assert "int32" in str(caught.value)


def test_a_float_where_an_integer_belongs_and_nan_weights_are_refused(tmp_path):
    def floats(state):
        key = next(k for k in state if k.endswith("num_batches_tracked"))
        state[key] = state[key].double()

    with pytest.raises(CheckpointError, match="num_batches_tracked"):
        load_checkpoint(_with_state(tmp_path, floats)).build_model()

    def nan(state):
        state[_first_conv(state)][0, 0, 0, 0] = float("nan")

    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(_with_state(tmp_path, nan)).build_model()


def test_float64_and_float16_weights_are_converted_to_the_models_float32(tmp_path):
    original = load_checkpoint(_good(tmp_path)).state_dict
    for dtype in (torch.float64, torch.float16):
        def convert(state):
            for key, value in state.items():
                if value.is_floating_point():
                    state[key] = value.to(dtype)

        model = load_checkpoint(_with_state(tmp_path, convert)).build_model()
        for key, value in model.state_dict().items():
            if value.is_floating_point():
                assert value.dtype == torch.float32
                assert torch.allclose(value, original[key], atol=1e-2 if dtype == torch.float16
                                      else 0)


def test_missing_and_extra_keys_are_refused_naming_them(tmp_path):
    removed = []

    def drop(state):
        removed.append(_first_conv(state))
        del state[removed[0]]

    path = _with_state(tmp_path, drop)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path).build_model()
    assert removed[0] in str(caught.value) and str(path) in str(caught.value)

    def extra(state):
        state["decoder.surprise.weight"] = torch.zeros(3)

    path = _with_state(tmp_path, extra)
    with pytest.raises(CheckpointError, match="decoder.surprise.weight"):
        load_checkpoint(path).build_model()


def test_bad_label_sets_and_fields_inside_a_checkpoint_are_checkpoint_errors(tmp_path):
    checkpoint = load_checkpoint(_good(tmp_path))
    checkpoint.labels = {"classes": [{"name": "a", "color": [1, 2, 300]}]}
    path = tmp_path / "labels.pt"
    save_checkpoint(path, checkpoint)
    with pytest.raises(CheckpointError, match="colour"):
        load_checkpoint(path).label_set()
    payload = torch.load(_good(tmp_path), weights_only=True)
    payload["input_size"] = [float("inf"), 3]
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(path)


def test_an_input_size_too_large_to_run_is_refused_on_loading_naming_the_file(tmp_path,
                                                                             capsys):
    import cv2
    import numpy as np

    from segnet_core.cli import main
    from segnet_core.models import MAX_INPUT_SIDE
    from segnet_core.train_config import parse_size

    checkpoint = load_checkpoint(_good(tmp_path))
    checkpoint.input_size = (MAX_INPUT_SIDE, 64)  # the largest side taken
    path = tmp_path / "huge.pt"
    save_checkpoint(path, checkpoint)
    assert load_checkpoint(path).input_size == (8192, 64)
    checkpoint.input_size = (100000, 100000)
    save_checkpoint(path, checkpoint)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    assert str(caught.value) == f"{path}: damaged checkpoint: input size 100000x100000 is " \
                                "too large: at most 8192 pixels a side"
    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.full((40, 48, 3), 90, np.uint8))
    out = tmp_path / "out"
    assert main(["predict", "--model", str(path), str(image), "--out", str(out),
                 "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "100000x100000 is too large" in err and "Traceback" not in err
    with pytest.raises(ValueError, match="at most 8192 pixels a side"):
        parse_size("8200x480")  # training there would write a model no one could load
