"""`segnet-studio predict` and `segnet-studio evaluate --model` on tiny checkpoints and data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

import segnet_core.resources
from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
from segnet_core.cli import main
from segnet_core.evaluation import evaluate_model
from segnet_core.data.datasets import open_dataset
from segnet_core.labels import LabelSet
from segnet_core.io.images import read_image
from segnet_core.io.masks import write_index_mask
from segnet_core.models import build_model
from segnet_core.inference import Predictor
from segnet_core.events import CancelToken

K = 3
LABELS_TXT = "128 0 0 Sky\n0 128 0 Road\n0 0 128 Car\n0 0 0 Void\n"
LABELS = LabelSet(("Sky", "Road", "Car"), ((128, 0, 0), (0, 128, 0), (0, 0, 128)),
                  void_name="Void")
CPU = ["--device", "cpu", "--precision", "fp32"]


def make_checkpoint(path: Path, input_size=(64, 64), classes: int = K,
                    labels: LabelSet = LABELS) -> Path:
    torch.manual_seed(1)
    model = build_model("bilinear", classes)
    save_checkpoint(path, checkpoint_from_model(model, labels.to_dict(), input_size))
    return path


def random_image(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def write_rgb(path: Path, image: np.ndarray) -> None:
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def write_video(path: Path, frames: int) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), 20 * i, np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt")


@pytest.fixture
def inputs(tmp_path) -> tuple[Path, Path, dict[str, tuple[int, int]]]:
    folder = tmp_path / "in"
    folder.mkdir()
    sizes = {"a": (40, 50), "b": (33, 61), "c": (64, 64)}
    write_rgb(folder / "a.png", random_image(40, 50, 0))
    write_rgb(folder / "b.jpg", random_image(33, 61, 1))
    write_rgb(folder / "c.bmp", random_image(64, 64, 2))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    video = write_video(tmp_path / "clip.avi", 5)
    return folder, video, sizes


def test_predict_folder_video_and_a_corrupt_image(checkpoint, inputs, tmp_path, capsys):
    folder, video, sizes = inputs
    out = tmp_path / "out"
    code = main(["predict", "--model", str(checkpoint), str(folder), str(video),
                 "--out", str(out), "--every", "2", "--batch-size", "2", *CPU])
    captured = capsys.readouterr()
    assert code == 1
    assert "skipped" in captured.err and "broken.png" in captured.err
    expected = {"a.png", "b.png", "c.png",
                "clip_000000.png", "clip_000002.png", "clip_000004.png"}
    assert {p.name for p in out.iterdir()} == expected  # no temporary files left
    sizes.update({name[:-4]: (48, 64) for name in expected if name.startswith("clip")})
    for name in expected:
        with Image.open(out / name) as image:
            assert image.mode == "P"
            labels = np.asarray(image)
        assert labels.shape == sizes[name[:-4]]
        assert labels.max() < K
    summary = captured.out.strip().splitlines()[-1]
    assert f"written 6 files to {out}" in summary and "skipped 1" in summary
    assert "precision fp32" in summary and "ms/image" in summary and "CPU" in summary


def test_two_videos_of_one_name_clash_in_one_line_and_a_count(checkpoint, tmp_path, capsys):
    """A probe: clip.avi beside clip.mp4 printed one "already written" line per frame."""
    write_video(tmp_path / "clip.avi", 4)
    write_video(tmp_path / "clip.mkv", 4)
    out = tmp_path / "out"
    assert main(["predict", "--model", str(checkpoint), str(tmp_path / "clip.avi"),
                 str(tmp_path / "clip.mkv"), "--out", str(out), *CPU]) == 1
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("skipped")]
    assert lines == [
        f"skipped {tmp_path / 'clip.mkv'}: output clip_000000.png was already written for "
        f"{tmp_path / 'clip.avi'}; rename one of them",
        f"skipped 3 more output(s) of {tmp_path / 'clip.mkv'} for the same reason: "
        f"{tmp_path / 'clip.avi'} has them"]
    assert "skipped 4" in captured.out and len(list(out.iterdir())) == 4


def test_index_output_is_the_predictors_labels(checkpoint, inputs, tmp_path, capsys):
    folder, _, _ = inputs
    out = tmp_path / "out"
    assert main(["predict", "--model", str(checkpoint), str(folder / "b.jpg"),
                 "--out", str(out), *CPU]) == 0
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu", precision="fp32")
    expected = predictor.predict(read_image(folder / "b.jpg")).labels
    with Image.open(out / "b.png") as image:
        np.testing.assert_array_equal(np.asarray(image), expected)
        assert np.array_equal(np.asarray(image.getpalette()[:9]).reshape(3, 3),
                              np.array(LABELS.colors))


def test_each_format_writes_the_right_kind_of_file(checkpoint, inputs, tmp_path, capsys):
    folder, _, _ = inputs
    source = folder / "a.png"
    image = read_image(source)
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu", precision="fp32")
    prediction = predictor.predict(image)
    colors = LABELS.colorize(prediction.labels)
    results = {}
    for fmt, extra in (("color", []), ("overlay", ["--alpha", "0.25"]),
                       ("confidence", []), ("overlay", ["--alpha", "0"]),
                       ("overlay", ["--alpha", "1"])):
        out = tmp_path / f"{fmt}{extra}"
        assert main(["predict", "--model", str(checkpoint), str(source), "--out", str(out),
                     "--format", fmt, *extra, *CPU]) == 0
        written = cv2.imread(str(out / "a.png"), cv2.IMREAD_UNCHANGED)
        results[fmt, tuple(extra)] = (written if written.ndim == 2
                                      else cv2.cvtColor(written, cv2.COLOR_BGR2RGB))
    capsys.readouterr()
    color = results["color", ()]
    assert color.shape == (40, 50, 3)
    np.testing.assert_array_equal(color, colors)
    overlay = results["overlay", ("--alpha", "0.25")]
    assert overlay.shape == (40, 50, 3)
    expected = np.rint(image * 0.75 + colors * 0.25)
    assert np.abs(overlay.astype(int) - expected).max() <= 1
    np.testing.assert_array_equal(results["overlay", ("--alpha", "0")], image)
    np.testing.assert_array_equal(results["overlay", ("--alpha", "1")], colors)
    confidence = results["confidence", ()]
    assert confidence.shape == (40, 50) and confidence.dtype == np.uint8
    assert np.abs(confidence.astype(int) - np.rint(prediction.confidence * 255)).max() <= 1


def tiny_dataset(root: Path) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    (root / "label_colors.txt").write_text(LABELS_TXT)
    rng = np.random.default_rng(5)
    for stem, (h, w) in {"x": (40, 56), "y": (72, 48), "z": (50, 50)}.items():
        write_rgb(root / "images" / f"{stem}.png", random_image(h, w, ord(stem)))
        mask = rng.integers(0, K, (h, w), dtype=np.uint8)
        mask[:3] = 3  # a void band
        write_index_mask(root / "masks" / f"{stem}.png", mask, LABELS)
    return root


def test_predict_then_evaluate_equals_evaluate_model(checkpoint, tmp_path, capsys):
    data = tiny_dataset(tmp_path / "data")
    pred = tmp_path / "pred"
    assert main(["predict", "--model", str(checkpoint), str(data / "images"),
                 "--out", str(pred), "--format", "index", *CPU]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--predictions", str(pred), "--data", str(data), "--json"]) == 0
    from_files = json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--model", str(checkpoint), "--data", str(data), "--json",
                 *CPU]) == 0
    from_model = json.loads(capsys.readouterr().out)
    assert from_model == from_files
    assert from_model["images"] == 3 and 0 < from_model["global_accuracy"] < 1
    assert main(["evaluate", "--model", str(checkpoint), "--data", str(data), "--no-bf",
                 *CPU]) == 0
    assert "Images evaluated: 3" in capsys.readouterr().out


def test_evaluate_model_function(checkpoint, tmp_path):
    dataset = open_dataset(tiny_dataset(tmp_path / "data"))
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu", precision="fp32",
                                          batch_size=2)
    calls = []
    scores, images = evaluate_model(predictor, dataset, compute_bf=False,
                                    progress=lambda i, n: calls.append((i, n)))
    assert images == 3 and calls == [(1, 3), (2, 3), (3, 3)] and np.isnan(scores.bf)
    cancel = CancelToken()
    cancel.cancel()
    _, none = evaluate_model(predictor, dataset, compute_bf=False, cancel=cancel)
    assert none == 0


def test_evaluate_model_with_other_classes(tmp_path, capsys):
    data = tiny_dataset(tmp_path / "data")
    five = LabelSet(tuple("abcde"), tuple((i, 0, 0) for i in range(1, 6)))
    ckpt = make_checkpoint(tmp_path / "five.pt", classes=5, labels=five)
    assert main(["evaluate", "--model", str(ckpt), "--data", str(data), *CPU]) == 2
    err = capsys.readouterr().err
    assert "5 classes" in err and "has 3" in err


def test_missing_default_model_says_to_pass_model(monkeypatch, inputs, tmp_path, capsys):
    monkeypatch.setattr(segnet_core.resources, "DEFAULT_MODEL", tmp_path / "none" / "m.pt")
    folder, _, _ = inputs
    assert main(["predict", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--model" in err and "default model" in err
    assert not (tmp_path / "out").exists()
    data = tiny_dataset(tmp_path / "data")
    assert main(["evaluate", "--data", str(data)]) == 2
    assert "--model" in capsys.readouterr().err


def test_bad_model_and_arguments(inputs, tmp_path, capsys):
    folder, _, _ = inputs
    assert main(["predict", "--model", str(tmp_path / "nope.pt"), str(folder),
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--model" in err and "nope.pt" in err
    for bad in (["--every", "0"], ["--batch-size", "0"], ["--alpha", "2"],
                ["--format", "jpeg"], ["--precision", "fp8"]):
        with pytest.raises(SystemExit) as info:
            main(["predict", str(folder), "--out", str(tmp_path / "o"), *bad])
        assert info.value.code == 2
    with pytest.raises(SystemExit):
        main(["predict", str(folder)])  # --out is required


def test_only_bad_inputs(checkpoint, tmp_path, capsys):
    missing = tmp_path / "missing.png"
    assert main(["predict", "--model", str(checkpoint), str(missing),
                 "--out", str(tmp_path / "out"), *CPU]) == 1
    captured = capsys.readouterr()
    assert f"skipped {missing}" in captured.err
    assert "written 0 files" in captured.out and "skipped 1" in captured.out


def test_same_output_name_twice_is_skipped(checkpoint, tmp_path, capsys):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        write_rgb(tmp_path / folder / "same.png", random_image(32, 32, 0))
    out = tmp_path / "out"
    assert main(["predict", "--model", str(checkpoint), str(tmp_path / "one"),
                 str(tmp_path / "two"), "--out", str(out), *CPU]) == 1
    err = capsys.readouterr().err
    assert "two" in err and "same.png" in err
    assert [p.name for p in out.iterdir()] == ["same.png"]


def test_predict_rank_and_export_take_a_folders_videos_as_the_window_does(
        checkpoint, tmp_path, capsys):
    """A folder gives its images, then its videos, to every command, as the window opens it
    (they were left out without a word)."""
    folder = tmp_path / "street"
    folder.mkdir()
    write_rgb(folder / "still.png", random_image(48, 64, 0))
    write_video(folder / "clip.avi", 3)
    out = tmp_path / "predicted"
    assert main(["predict", "--model", str(checkpoint), str(folder), "--out", str(out),
                 *CPU]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "clip_000000.png", "clip_000001.png", "clip_000002.png", "still.png"]
    capsys.readouterr()
    assert main(["rank", "--images", str(folder), "--model", str(checkpoint), "--json",
                 *CPU]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert sorted(frame["frame"] for frame in ranked) == [
        "clip.avi · frame 1", "clip.avi · frame 2", "clip.avi · frame 3", "still.png"]
    (folder / "labels").mkdir()
    (folder / "labels" / "label_colors.txt").write_text(LABELS_TXT)
    write_index_mask(folder / "labels" / "clip_000001.png", np.ones((48, 64), np.uint8),
                     LABELS)  # a corrected frame of the folder's video
    exported = tmp_path / "exported"
    assert main(["export", "--images", str(folder), "--format", "index",
                 "--out", str(exported)]) == 0
    assert [p.name for p in (exported / "index").iterdir()] == ["clip_000001.png"]
    assert "3 without a mask" in capsys.readouterr().out  # still.png, clip frames 0 and 2
    videos_only = tmp_path / "videos"
    videos_only.mkdir()
    write_video(videos_only / "drive.avi", 2)
    assert main(["predict", "--model", str(checkpoint), str(videos_only), "--out",
                 str(tmp_path / "drive"), *CPU]) == 0
    assert sorted(p.name for p in (tmp_path / "drive").iterdir()) == [
        "drive_000000.png", "drive_000001.png"]


def test_predict_says_what_it_segmented_of_a_video_that_ends_early_and_ends_its_bar(
        checkpoint, inputs, tmp_path, capsys):
    folder, video, _ = inputs
    data = video.read_bytes()
    index = data.rfind(b"idx1")
    video.write_bytes(data[:data.rfind(b"00dc", 0, index)])  # the last of its 5 frames cut
    out = tmp_path / "out"
    code = main(["predict", "--model", str(checkpoint), str(folder), str(video),
                 "--out", str(out), "--every", "2", *CPU])
    captured = capsys.readouterr()
    assert code == 1
    err = captured.err.splitlines()
    assert (f"{video}: frame 4 (counted from 0; the window's 5) of the 5 its container "
            "announces cannot be read (damaged, or it ends early); the 2 frames taken "
            "(every 2) before it were segmented") in err
    assert f"skipped {folder / 'broken.png'}: " in captured.err
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("clip")) == [
        "clip_000000.png", "clip_000002.png"]
    bar = [line for line in err if line.startswith("predict [")]
    # not 6/7: the frame the video lacks is no frame; broken.png counts, as gone through
    assert bar[-1].startswith(f"predict [{'#' * 24}] 6/6 "), bar
    assert "skipped 1, 1 video(s) read in part" in captured.out


def test_a_video_ending_early_is_no_problem_when_no_frame_taken_was_lost(
        checkpoint, inputs, tmp_path, capsys):
    """--every 3 takes frames 0 and 3 of the 5: the cut frame 4 is not one of them, so the
    command did all it was asked and exits 0."""
    _folder, video, _ = inputs
    data = video.read_bytes()
    index = data.rfind(b"idx1")
    video.write_bytes(data[:data.rfind(b"00dc", 0, index)])  # the last of its 5 frames cut
    out = tmp_path / "out"
    assert main(["predict", "--model", str(checkpoint), str(video), "--out", str(out),
                 "--every", "3", *CPU]) == 0
    assert "cannot be read" not in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["clip_000000.png", "clip_000003.png"]


def test_the_progress_counts_images_that_cannot_be_read_and_keeps_its_total(checkpoint,
                                                                            tmp_path, capsys):
    import re

    folder = tmp_path / "shots"
    folder.mkdir()
    for i in range(3):
        write_rgb(folder / f"good{i}.png", random_image(20, 24, i))
    for name in ("bad1.png", "bad2.png", "bad3.png"):  # counted as inputs, never read
        (folder / name).write_bytes(b"not an image")
    assert main(["predict", "--model", str(checkpoint), str(folder), "--out",
                 str(tmp_path / "out"), "--batch-size", "1", *CPU]) == 1
    err = capsys.readouterr().err
    counts = re.findall(r"predict \[[#.]+\] (\d+)/(\d+)", err)
    assert counts and {total for _, total in counts} == {"6"}  # one total throughout
    assert counts[-1] == ("6", "6") and err.count("skipped") == 3


def test_predict_skips_an_output_name_too_long_for_the_file_system_and_goes_on(
        checkpoint, tmp_path, capsys):
    """A tester's check: a valid 244-character image name failed the whole run ("File name
    too long": its atomic write's temporary name was longer), and a video of a 248-character
    stem, whose frames' names (stem + `_000000.png`) no file can have, stopped it."""
    folder = tmp_path / "in"
    folder.mkdir()
    write_rgb(folder / "a_short.png", random_image(24, 32, 0))
    write_rgb(folder / ("L" * 240 + ".png"), random_image(24, 32, 1))
    write_rgb(folder / "z_short.png", random_image(24, 32, 2))
    video = write_video(folder / ("V" * 248 + ".avi"), 2)
    out = tmp_path / "out"
    assert main(["predict", "--model", str(checkpoint), str(folder), "--out", str(out),
                 *CPU]) == 1
    captured = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["L" * 240 + ".png", "a_short.png",
                                                     "z_short.png"]
    skipped = [line for line in captured.err.splitlines() if line.startswith("skipped")]
    assert skipped == [f"skipped {video}: cannot write {out / ('V' * 248 + f'_00000{i}.png')}: "
                       "its name is too long for the file system (259 bytes, at most 255)"
                       for i in range(2)]
    assert "written 3 files" in captured.out and "skipped 2" in captured.out


def test_predict_says_before_loading_the_model_when_out_cannot_be_made(tmp_path, capsys):
    """A tester's check: `--out plain.jpg/sub` or `--out /proc/foo` gave a traceback, once the
    model had loaded; export says it cleanly, and so does predict now, first."""
    image = tmp_path / "plain.jpg"
    write_rgb(image, random_image(24, 32, 0))
    model = ["--model", str(tmp_path / "nope.pt")]  # said after --out: never loaded
    assert main(["predict", *model, str(image), "--out", str(image / "sub")]) == 2
    assert capsys.readouterr().err == (f"error: --out {image / 'sub'}: cannot be made: "
                                       f"{image} is a file, not a folder\n")
    assert main(["predict", *model, str(image), "--out", "/proc/segnet-none"]) == 2
    assert capsys.readouterr().err == ("error: --out /proc/segnet-none: cannot write: "
                                       "No such file or directory\n")
    # a folder it could make is made, and taken back when the model cannot be loaded
    assert main(["predict", *model, str(image), "--out", str(tmp_path / "a" / "b")]) == 2
    assert "nope.pt" in capsys.readouterr().err and not (tmp_path / "a").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_predict_says_when_out_is_a_read_only_folder(tmp_path, capsys):
    image = tmp_path / "plain.jpg"
    write_rgb(image, random_image(24, 32, 0))
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert main(["predict", "--model", str(tmp_path / "nope.pt"), str(image),
                     "--out", str(folder)]) == 2
    finally:
        folder.chmod(0o755)
    assert capsys.readouterr().err == (f"error: --out {folder}: no file can be made in "
                                       f"{folder}: Permission denied\n")


def test_an_empty_path_is_no_input_nor_output_folder(checkpoint, tmp_path, capsys,
                                                      monkeypatch):
    """A tester's check: `predict "" --out X` segmented the folder it was run in."""
    monkeypatch.chdir(tmp_path)
    write_rgb(tmp_path / "here.png", random_image(24, 32, 0))
    for args in (["", "--out", "out"], ["here.png", "--out", ""]):
        with pytest.raises(SystemExit) as info:
            main(["predict", "--model", str(checkpoint), *args, *CPU])
        assert info.value.code == 2
        assert "an empty path; give a file or folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here.png"]
