import pickle
import zipfile

import pytest
import torch

from segnet_core.checkpoint import (Checkpoint, checkpoint_from_model, load_checkpoint,
                                    save_checkpoint)
from segnet_core.errors import CheckpointError
from segnet_core.labels import camvid_label_set
from segnet_core.models import build_model


def _saved(tmp_path, name="segnet-basic", **extra):
    torch.manual_seed(0)
    model = build_model(name, 11)
    checkpoint = checkpoint_from_model(model, camvid_label_set().to_dict(), (360, 480),
                                       training={"epochs": 3, "miou": 0.41, "log": [1, 2]},
                                       **extra)
    path = tmp_path / "model.pt"
    save_checkpoint(path, checkpoint)
    return model, path


def test_round_trip_keeps_weights_and_metadata(tmp_path):
    model, path = _saved(tmp_path)
    loaded = load_checkpoint(path)
    assert loaded.architecture["name"] == "segnet-basic"
    assert loaded.input_size == (360, 480)
    assert loaded.training == {"epochs": 3, "miou": 0.41, "log": [1, 2]}
    assert loaded.normalization["mean"] == [0.485, 0.456, 0.406]
    labels = loaded.label_set()
    assert labels.names[3] == "Road" and labels.void_index == 11
    rebuilt = loaded.build_model()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), rebuilt(x))


def test_resume_state_survives(tmp_path):
    model = build_model("segnet-basic", 11)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(1, 3, 32, 32)).sum().backward()
    optimizer.step()
    resume = {"optimizer": optimizer.state_dict(), "epoch": 4,
              "torch_rng": torch.get_rng_state()}
    _, path = _saved(tmp_path, resume=resume)
    loaded = load_checkpoint(path)
    assert loaded.resume["epoch"] == 4
    assert torch.equal(loaded.resume["torch_rng"], resume["torch_rng"])
    fresh = torch.optim.SGD(build_model("segnet-basic", 11).parameters(), lr=0.1, momentum=0.9)
    fresh.load_state_dict(loaded.resume["optimizer"])


class _Payload:
    """An object whose unpickling would create a file: a stand-in for hostile code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "segnet-studio-checkpoint", "x": _Payload(marker)}, path)
    assert not marker.exists()
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert "evil.pt" in str(info.value) and "refused" in str(info.value)
    assert not marker.exists()
    # the same holds for a raw pickle file
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(CheckpointError, match="raw.pt"):
        load_checkpoint(raw)
    assert not marker.exists()


def test_truncated_file_is_a_clear_error(tmp_path):
    _, path = _saved(tmp_path)
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 100):
        broken = tmp_path / f"cut{cut}.pt"
        broken.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=f"cut{cut}.pt"):
            load_checkpoint(broken)


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="notes.pt"):
        load_checkpoint(text)
    plain = tmp_path / "state.pt"
    torch.save(build_model("segnet-basic", 3).state_dict(), plain)
    with pytest.raises(CheckpointError, match="not a SegNet Studio checkpoint"):
        load_checkpoint(plain)
    with pytest.raises(CheckpointError, match="file not found"):
        load_checkpoint(tmp_path / "absent.pt")


def test_weights_of_another_architecture_are_refused(tmp_path):
    _, path = _saved(tmp_path)
    loaded = load_checkpoint(path)
    loaded.architecture = {"name": "fcn-basic", "num_classes": 11, "options": {}}
    with pytest.raises(CheckpointError, match="do not fit 'fcn-basic'"):
        loaded.build_model()


def test_saving_is_atomic_and_keeps_old_file_on_failure(tmp_path, monkeypatch):
    _, path = _saved(tmp_path)
    before = path.read_bytes()
    bad = Checkpoint({"name": "segnet-basic", "num_classes": 11}, {}, {"x": object()})
    with pytest.raises(TypeError):
        save_checkpoint(path, bad)  # the label dict is not JSON: nothing is written
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
    assert zipfile.is_zipfile(path)


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    from segnet_core.atomic import atomic_write_bytes

    umask = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
    finally:
        os.umask(umask)
    import segnet_core.atomic as atomic
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o666 & ~atomic._UMASK
    assert (tmp_path / "a.bin").stat().st_mode & 0o044  # readable by others, not 0600


def _earlier_key(name: str, key: str) -> str:
    """The name `key` had before the models had a base class, written out here by hand:
    SegNet's classifier was the last conv of its last decoder stage; SegNet-Basic's
    decoder convs, reducers and upsamplers hung off the model itself."""
    if name == "segnet":
        return key.replace("classifier.", "decoder.4.1.") if key.startswith("classifier.") \
            else key
    for part in ("reducers", "upsamplers"):
        key = key.replace(f"decoder.{part}.", f"{part}.")
    return key.replace("decoder.convs.", "decoder.")


@pytest.mark.parametrize("name", ["segnet", "segnet-basic", "fcn-basic",
                                  "fcn-basic-no-dim-reduction"])
def test_checkpoints_written_with_the_earlier_key_names_still_load(tmp_path, name):
    torch.manual_seed(0)
    model = build_model(name, 4).eval()
    checkpoint = checkpoint_from_model(model, {"x": 1}, None)
    checkpoint.state_dict = {_earlier_key(name, k): v for k, v in checkpoint.state_dict.items()}
    assert set(checkpoint.state_dict) != set(model.state_dict())  # they did differ
    path = tmp_path / "earlier.pt"
    save_checkpoint(path, checkpoint)
    rebuilt = load_checkpoint(path).build_model()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), rebuilt(x))


def test_a_checkpoint_needs_a_model_that_knows_its_architecture():
    from segnet_core.errors import SegNetError

    with pytest.raises(SegNetError, match="build_model"):
        checkpoint_from_model(torch.nn.Conv2d(3, 3, 1), {}, None)
