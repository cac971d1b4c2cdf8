"""`segnet-studio rank` end to end on small images and a video with a tiny model: estimates
from the model's stored calibration, priorities, corrected frames last, JSON and table."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from segnet_core.checkpoint import checkpoint_from_model, load_checkpoint, save_checkpoint
from segnet_core.cli import main
from segnet_core.inference import Predictor
from segnet_core.labels import LabelSet
from segnet_core.io.masks import read_mask, write_index_mask
from segnet_core.models import build_model
from segnet_core.frame_order import plan_priorities
from segnet_core.quality import CONFIDENT_SHARE, AccuracyCalibration
from segnet_core.ranking import (QUALITY_KEY, frame_name, is_trained_on, model_calibration,
                                 rank_inputs, trained_frame_names)

LABELS = LabelSet(("Sky", "Road", "Car"), ((128, 0, 0), (0, 128, 0), (0, 0, 128)))
CPU = ["--device", "cpu", "--precision", "fp32"]
CALIBRATION = AccuracyCalibration(feature=CONFIDENT_SHARE, threshold=0.4, slope=0.5,
                                  intercept=0.3, fitted_on="test frames")


def make_checkpoint(path: Path, calibration: AccuracyCalibration | None) -> Path:
    torch.manual_seed(3)
    model = build_model("bilinear", LABELS.num_classes)
    training = {} if calibration is None else {QUALITY_KEY: calibration.to_dict()}
    save_checkpoint(path, checkpoint_from_model(model, LABELS.to_dict(), (32, 32),
                                                training=training))
    return path


def varied_image(seed: int) -> np.ndarray:
    """Images from flat to noisy, so the model's confidence differs between them."""
    rng = np.random.default_rng(seed)
    image = np.full((40, 48, 3), rng.integers(0, 256, 3), np.uint8)
    noise = rng.integers(-25 * seed, 25 * seed + 1, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("rank") / "calibrated.pt", CALIBRATION)


@pytest.fixture
def images(tmp_path) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):
        assert cv2.imwrite(str(folder / f"f{i}.png"), varied_image(i)[..., ::-1])
    return folder


def test_the_calibration_comes_from_the_checkpoint(calibrated, tmp_path):
    predictor = Predictor.from_checkpoint(calibrated, device="cpu", precision="fp32")
    assert model_calibration(predictor.training) == CALIBRATION
    plain = make_checkpoint(tmp_path / "plain.pt", None)
    predictor = Predictor.from_checkpoint(plain, device="cpu", precision="fp32")
    assert model_calibration(predictor.training) == AccuracyCalibration()


def test_rank_json_lists_every_frame_with_its_calibrated_estimate(calibrated, images,
                                                                   capsys):
    write_index_mask(images / "labels" / "f2.png", np.zeros((40, 48), np.uint8), LABELS)
    assert main(["rank", "--images", str(images), "--model", str(calibrated), "--json",
                 "--order", "frame", *CPU]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert [row["frame"] for row in rows] == [f"f{i}.png" for i in range(6)]
    assert all(list(row) == ["frame", "estimated_accuracy", "priority", "corrected", "flagged",
                             "propagated", "trained_on", "as_predicted", "carried",
                             "real_accuracy", "path", "index", "mask"] for row in rows)
    assert [(row["path"], row["index"], row["mask"]) for row in rows] == [
        (str((images / f"f{i}.png").resolve()), None, f"f{i}.png") for i in range(6)]
    assert sorted(row["priority"] for row in rows) == [1, 2, 3, 4, 5, 6]
    assert rows[2]["priority"] == 6  # the corrected frame comes last
    assert [row["corrected"] for row in rows] == [False, False, True, False, False, False]
    assert not any(row["flagged"] or row["propagated"] for row in rows)
    assert "rank" in captured.err  # progress on stderr

    predictor = Predictor.from_checkpoint(calibrated, device="cpu", precision="fp32")
    predictions = [predictor.predict(varied_image(i)) for i in range(6)]
    stored = [0.5 * float(np.mean(p.confidence >= 0.4)) + 0.3 for p in predictions]
    # the corrected frame's mask (all Sky) shows the model's real accuracy there; every
    # estimate moves a third of the way (one frame against the fit's prior of two) toward it
    real = float(np.mean(predictions[2].labels == 0))
    offset = (real - stored[2]) / 3
    assert abs(offset) > 0.01  # the test image does move the estimates
    # and what that leaves of its miss moves its neighbours too (a Gaussian weight one frame
    # wide in a short sequence, shrunk as if one frame there had matched)
    left = real - min(1.0, max(0.0, stored[2] + offset))
    weights = [np.exp(-0.5 * (i - 2) ** 2) for i in range(6)]
    expected = [min(1.0, max(0.0, e + offset + w * left / (w + 1)))
                for e, w in zip(stored, weights)]
    for row, value in zip(rows, expected):
        assert row["estimated_accuracy"] == pytest.approx(value, abs=1e-4)
    # the corrected frame says how right the model really is there, as the window does
    assert rows[2]["real_accuracy"] == pytest.approx(real, abs=1e-4)
    assert all(row["real_accuracy"] is None for i, row in enumerate(rows) if i != 2)
    assert len({round(e, 3) for e in expected}) >= 3  # the frames do differ
    # priority by the plan covering the frames in order (weighted by expected error), the
    # corrected frame 2 covering its neighbours
    assert [row["priority"] for row in rows] == plan_priorities(expected, corrected=[2])


def test_frames_the_model_was_trained_on_do_not_move_the_estimates(images, tmp_path, capsys):
    """A fine-tuned model knows its training frames by heart: their masks say nothing of how
    right it is elsewhere."""
    write_index_mask(images / "labels" / "f2.png", np.zeros((40, 48), np.uint8), LABELS)
    checkpoint = make_checkpoint(tmp_path / "tuned.pt", CALIBRATION)
    model = load_checkpoint(checkpoint)
    save_checkpoint(checkpoint, replace(model, training=dict(
        model.training, fine_tune={"frames": {"train": ["f2.png"], "held_out": []}})))
    assert main(["rank", "--images", str(images), "--model", str(checkpoint), "--json",
                 "--order", "frame", *CPU]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["trained_on"] for row in rows] == [i == 2 for i in range(6)]
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu", precision="fp32")
    for i, row in enumerate(rows):
        confidence = predictor.predict(varied_image(i)).confidence
        assert row["estimated_accuracy"] == pytest.approx(
            0.5 * float(np.mean(confidence >= 0.4)) + 0.3, abs=1e-4)


def test_a_mask_listed_as_saved_as_predicted_does_not_move_the_estimates(calibrated, images,
                                                                        capsys):
    """Saved as a model's prediction (labels/as_predicted.txt), a mask says nothing of how
    right this model is, even where this model predicts otherwise: corrected, not levelled."""
    from segnet_core.masks.labels_folder import AS_PREDICTED

    write_index_mask(images / "labels" / "f2.png", np.zeros((40, 48), np.uint8), LABELS)
    (images / "labels" / AS_PREDICTED.file).write_text("# saved as predicted\nf2.png\n")
    assert main(["rank", "--images", str(images), "--json", "--order", "frame",
                 "--model", str(calibrated), *CPU]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["corrected"] for row in rows] == [False, False, True, False, False, False]
    assert [row["as_predicted"] for row in rows] == [False, False, True, False, False, False]
    predictor = Predictor.from_checkpoint(calibrated, device="cpu", precision="fp32")
    for i, row in enumerate(rows):  # as stored: nothing levelled (the same mask unlisted
        confidence = predictor.predict(varied_image(i)).confidence  # moves them: above)
        assert row["estimated_accuracy"] == pytest.approx(
            0.5 * float(np.mean(confidence >= 0.4)) + 0.3, abs=1e-4)


def test_names_of_trained_frames_in_either_form():
    names = trained_frame_names({"fine_tune": {"frames": {"train": [
        "a.png", "clip.mp4 [4]", "other.mp4 · frame 8"]}}})
    assert is_trained_on(names, "/x/a.png", None)
    assert not is_trained_on(names, "/x/b.png", None)
    assert is_trained_on(names, "/x/clip.mp4", 4) and not is_trained_on(names, "/x/clip.mp4", 5)
    assert is_trained_on(names, "/y/other.mp4", 7)  # frame 8 as people count is index 7
    assert trained_frame_names({}) == frozenset() == trained_frame_names(None)


def test_rank_table_and_video_frames(calibrated, images, tmp_path, capsys):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (48, 40))
    for i in range(4):
        writer.write(varied_image(i)[..., ::-1].copy())
    writer.release()
    assert main(["rank", "--images", str(video), str(images / "f0.png"), "--model",
                 str(calibrated), *CPU]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["priority", "accuracy", "frame"]
    body = lines[1:]
    assert [int(line.split()[0]) for line in body] == [1, 2, 3, 4, 5]  # by priority
    names = sorted(line.split("%")[1].strip() for line in body)
    assert names == sorted([f"clip.avi · frame {i + 1}" for i in range(4)] + ["f0.png"])
    assert main(["rank", "--images", str(video), "--model", str(calibrated), "--json",
                 "--order", "frame", *CPU]) == 0  # where each frame is, for a script
    rows = json.loads(capsys.readouterr().out)
    assert [(row["frame"], row["path"], row["index"], row["mask"]) for row in rows] == [
        (f"clip.avi · frame {i + 1}", str(video.resolve()), i, f"clip_{i:06d}.png")
        for i in range(4)]


def test_rank_inputs_reports_unreadable_inputs_and_keeps_going(calibrated, images, tmp_path):
    (images / "broken.png").write_bytes(b"not a png")
    problems = []
    predictor = Predictor.from_checkpoint(calibrated, device="cpu", precision="fp32")
    ranked = rank_inputs([images, tmp_path / "missing.png"], predictor,
                         on_error=lambda path, error: problems.append(path))
    assert [frame.frame for frame in ranked] == [f"f{i}.png" for i in range(6)]
    assert len(problems) == 2 and not any(frame.corrected for frame in ranked)


def test_rank_says_which_frames_of_a_damaged_video_it_could_not_read(calibrated, tmp_path,
                                                                    capsys):
    """A video cut short (its container still announces every frame) ranks the frames that
    decode, names the file and the frames it could not read, and exits 1, so a script does
    not take the clip as covered."""
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (48, 40))
    for i in range(10):
        writer.write(varied_image(i % 6)[..., ::-1].copy())
    writer.release()
    data = video.read_bytes()
    video.write_bytes(data[:len(data) // 2])
    assert main(["rank", "--images", str(video), "--model", str(calibrated), "--json",
                 *CPU]) == 1
    out, err = capsys.readouterr()
    ranked = json.loads(out)
    assert 1 <= len(ranked) < 10
    assert sorted(frame["frame"] for frame in ranked) == sorted(
        f"clip.avi · frame {i + 1}" for i in range(len(ranked)))
    n = len(ranked)
    assert (f"\n{video}: frames {n}-9 (counted from 0; the window's {n + 1}-10) of the 10 its "
            f"container announces cannot be read (damaged, or it ends early); the {n} frames "
            "before them were ranked\n") in err
    assert "skipped" not in err
    assert err.splitlines()[-1].startswith(f"rank [{'#' * 24}] {n}/{n} ")  # the bar ends


def video_without_its_last_frame(path: Path, frames: int) -> Path:
    """An MJPG AVI whose header still announces `frames` frames, cut before the last one."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (48, 40))
    for i in range(frames):
        writer.write(varied_image(i % 6)[..., ::-1].copy())
    writer.release()
    data = path.read_bytes()
    index = data.rfind(b"idx1")  # the index at the end; the last frame's chunk before it
    path.write_bytes(data[:data.rfind(b"00dc", 0, index)])
    return path


def test_a_video_whose_last_frame_cannot_be_read_is_ranked_up_to_it(calibrated, images,
                                                                     tmp_path, capsys):
    """Its frames before are ranked, so it is not "skipped"; and with an input skipped as
    well the progress bar still ends full, at what there was to rank."""
    video = video_without_its_last_frame(tmp_path / "damaged.avi", 20)
    (images / "broken.png").write_bytes(b"not a png")
    assert main(["rank", "--images", str(video), str(images), "--model", str(calibrated),
                 "--json", *CPU]) == 1
    out, err = capsys.readouterr()
    assert len(json.loads(out)) == 19 + 6
    assert (f"{video}: frame 19 (counted from 0; the window's 20) of the 20 its container "
            "announces cannot be read (damaged, or it ends early); the 19 frames before it "
            "were ranked") in err.splitlines()
    assert f"skipped {images / 'broken.png'}: " in err and "skipped " + str(video) not in err
    bar = [line for line in err.splitlines() if line.startswith("rank [")]
    assert bar[-1].startswith(f"rank [{'#' * 24}] 25/25 "), bar  # not 25/27


def test_rank_names_a_file_opencv_cannot_read_once_and_keeps_its_logs_off_the_terminal(
        calibrated, tmp_path):
    """A broken video gives the command's one "skipped" line, not FFmpeg's and OpenCV's own
    (a fresh process: native libraries write to the terminal, not to Python's streams),
    unless the environment asks for those logs."""
    import os
    import subprocess
    import sys

    (tmp_path / "fake.mp4").write_bytes(b"not a video at all")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "segnet_core.cli", "rank", "--images",
               str(tmp_path / "fake.mp4"), "--model", str(calibrated), "--device", "cpu"]
    quiet = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 1
    assert f"skipped {tmp_path / 'fake.mp4'}: cannot open as a video" in quiet.stderr
    assert "moov atom" not in quiet.stderr and "VIDEOIO" not in quiet.stderr
    assert "no frame to rank (1 input(s) skipped)" in quiet.stderr and quiet.stdout == ""
    loud = subprocess.run(command, env=dict(env, OPENCV_LOG_LEVEL="WARNING",
                                            OPENCV_FFMPEG_LOGLEVEL="16"),
                          capture_output=True, text=True, timeout=120)
    assert "moov atom" in loud.stderr or "VIDEOIO" in loud.stderr  # asked for: they speak


def test_frame_names():
    assert frame_name("/x/street.png", None) == "street.png"
    assert frame_name("/x/clip.mp4", 12) == "clip.mp4 · frame 13"  # as the window says


def test_masks_no_reader_would_use_do_not_make_a_frame_corrected(calibrated, images, capsys):
    """A probe: `rank` called frames corrected whose masks every other reader refuses (of
    another size than the frame, values no class has), exit 0 and nothing said."""
    write_index_mask(images / "labels" / "f1.png", np.zeros((30, 48), np.uint8), LABELS)
    bad_values = np.zeros((40, 48), np.uint8)
    bad_values[0, 0] = 200
    Image.fromarray(bad_values).save(images / "labels" / "f2.png")
    write_index_mask(images / "labels" / "f3.png", np.zeros((40, 48), np.uint8), LABELS)
    for again in (False, True):  # the second run from the kept estimates: said again
        assert main(["rank", "--images", str(images), "--model", str(calibrated), "--json",
                     "--order", "frame", *CPU]) == 1
        captured = capsys.readouterr()
        rows = json.loads(captured.out)
        assert [row["corrected"] for row in rows[1:4]] == [False, False, True], again
        assert f"skipped {images / 'labels' / 'f1.png'}: mask is 30x48 (height x width) but " \
            "its frame is 40x48; f1.png is ranked as not corrected\n" in captured.err
        assert f"skipped {images / 'labels' / 'f2.png'}: mask value 200 " in captured.err
        assert captured.err.count("skipped") == 2


def test_masks_that_say_little_or_cannot_be_read_rank_but_do_not_level(calibrated, images,
                                                                        capsys):
    mostly_void = np.full((40, 48), LABELS.void_index, np.uint8)
    mostly_void[:10] = 0  # a quarter labelled
    write_index_mask(images / "labels" / "f1.png", mostly_void, LABELS)
    (images / "labels" / "f4.png").write_bytes(b"not a png")
    assert main(["rank", "--images", str(images), "--model", str(calibrated), "--json",
                 "--order", "frame", *CPU]) == 1  # a file it could not read, as for inputs
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert rows[1]["corrected"] and rows[1]["priority"] == 6  # corrected: last
    assert not rows[4]["corrected"] and rows[4]["real_accuracy"] is None
    assert f"skipped {images / 'labels' / 'f4.png'}: cannot be read as a mask: not an image " \
           "file; f4.png is ranked as not corrected\n" in captured.err
    assert captured.err.count("f4.png") == 2 and "BytesIO" not in captured.err
    assert main(["rank", "--images", str(images), "--model", str(calibrated), *CPU]) == 1
    captured = capsys.readouterr()  # again, from the kept estimates: said once again
    assert captured.err.count("skipped") == 1
    [line] = [line for line in captured.out.splitlines() if line.endswith("f4.png")]
    assert "corrected" not in line
    predictor = Predictor.from_checkpoint(calibrated, device="cpu", precision="fp32")
    for i, row in enumerate(rows):  # as stored: no evidence moved them
        confidence = predictor.predict(varied_image(i)).confidence
        assert row["estimated_accuracy"] == pytest.approx(
            0.5 * float(np.mean(confidence >= 0.4)) + 0.3, abs=1e-4)


def test_frames_flagged_in_the_labels_folder_come_first(calibrated, images, capsys):
    """`labels/flagged.txt` (the window's Go > Flag frame) puts those frames first, the lowest
    estimate first; a flagged frame that is corrected still comes last."""
    assert main(["rank", "--images", str(images), "--model", str(calibrated), "--json",
                 "--order", "frame", *CPU]) == 0
    plain = json.loads(capsys.readouterr().out)
    late = sorted(range(1, 6), key=lambda i: plain[i]["priority"])[-2:]  # put last by the plan
    (images / "labels").mkdir()
    (images / "labels" / "flagged.txt").write_text(
        "# a comment\n" + "".join(f"f{i}.png\n" for i in [*late, 0]))
    write_index_mask(images / "labels" / "f0.png", np.zeros((40, 48), np.uint8), LABELS)
    assert main(["rank", "--images", str(images), "--model", str(calibrated), "--json",
                 "--order", "frame", *CPU]) == 0
    rows = json.loads(capsys.readouterr().out)
    estimates = [row["estimated_accuracy"] for row in rows]
    first = sorted(late, key=lambda i: (estimates[i], i))
    assert [rows[i]["priority"] for i in first] == [1, 2]
    assert rows[0]["priority"] == 6  # flagged, but corrected
    assert [i for i, row in enumerate(rows) if row["flagged"]] == sorted([*late, 0])
    assert rows[0]["corrected"] and not any(row["corrected"] for row in rows[1:])
    assert [row["priority"] for row in rows] == plan_priorities(estimates, corrected=[0],
                                                                flagged=[*late, 0])


def test_the_rank_table_marks_flagged_frames(calibrated, images, capsys):
    (images / "labels").mkdir()
    (images / "labels" / "flagged.txt").write_text("f4.png\n")
    assert main(["rank", "--images", str(images), "--model", str(calibrated), *CPU]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    first = lines[1].split()
    assert first[0] == "1" and first[-2:] == ["f4.png", "(flagged)"]
    assert sum("(flagged)" in line for line in lines) == 1


def test_a_flags_file_rank_cannot_read_is_reported_and_ranks_without_flags(calibrated, images,
                                                                          capsys):
    (images / "labels").mkdir()
    (images / "labels" / "flagged.txt").write_bytes(b"\xff\xfe\x00")
    assert main(["rank", "--images", str(images), "--model", str(calibrated), "--json",
                 *CPU]) == 0
    captured = capsys.readouterr()
    assert "flagged.txt" in captured.err
    assert len(json.loads(captured.out)) == 6


def _ranking(images: Path, model: Path, capsys):
    """A function that ranks `images` by `rank --json` in frame order and gives the rows."""
    def ranked() -> list[dict]:
        assert main(["rank", "--images", str(images), "--model", str(model), "--json",
                     "--order", "frame", *CPU]) == 0
        return json.loads(capsys.readouterr().out)
    return ranked


def test_frames_with_propagated_labels_not_accepted_rank_as_not_corrected(calibrated, images,
                                                                          capsys):
    """`labels/propagated.txt` (the window's propagated labels not accepted yet): such a
    frame's mask neither puts it last nor levels the estimates, as if it had none."""
    ranked = _ranking(images, calibrated, capsys)
    (images / "labels").mkdir()
    write_index_mask(images / "labels" / "f0.png", np.zeros((40, 48), np.uint8), LABELS)
    without = ranked()  # f0 corrected, f3 not
    write_index_mask(images / "labels" / "f3.png", np.ones((40, 48), np.uint8), LABELS)
    (images / "labels" / "propagated.txt").write_text("# carried by optical flow\nf3.png\n")
    rows = ranked()
    assert [row["propagated"] for row in rows] == [False, False, False, True, False, False]
    assert not rows[3]["corrected"]
    assert [{**row, "propagated": False} for row in rows] == without
    assert [row["priority"] for row in rows] == plan_priorities(
        [row["estimated_accuracy"] for row in rows], corrected=[0])
    assert main(["rank", "--images", str(images), "--model", str(calibrated), "--order",
                 "frame", *CPU]) == 0
    table = capsys.readouterr().out.splitlines()
    real = without[0]["real_accuracy"]  # as the window's note says it
    assert table[1].endswith(f"f0.png  (corrected: model {100 * real:.0f} % right)")
    assert table[4].endswith("f3.png  (propagated, not accepted)")  # to look over, said so
    (images / "labels" / "propagated.txt").unlink()  # accepted: now it is a correction
    accepted = ranked()
    assert {accepted[0]["priority"], accepted[3]["priority"]} == {5, 6}  # both last


def test_a_frame_carried_to_by_a_propagation_is_corrected_but_no_evidence(calibrated, images,
                                                                         capsys):
    """Accepted (not in propagated.txt) but carried from f0 (`propagated_from.txt`): f3's
    mask is partly the model's own prediction, so it comes last as corrected but neither
    says how right the model is nor levels the estimates."""
    ranked = _ranking(images, calibrated, capsys)
    (images / "labels").mkdir()
    write_index_mask(images / "labels" / "f0.png", np.zeros((40, 48), np.uint8), LABELS)
    alone = ranked()  # f0 corrected
    write_index_mask(images / "labels" / "f3.png", np.ones((40, 48), np.uint8), LABELS)
    both = ranked()  # f3 a correction of its own: evidence
    assert both[3]["corrected"] and both[3]["real_accuracy"] is not None
    assert [row["estimated_accuracy"] for row in both] != \
        [row["estimated_accuracy"] for row in alone]
    (images / "labels" / "propagated_from.txt").write_text("# carried\nf3.png <- f0.png\n")
    rows = ranked()
    assert rows[3]["corrected"] and rows[3]["carried"] and rows[3]["real_accuracy"] is None
    assert not any(row["carried"] for row in rows[:3] + rows[4:])
    assert {rows[0]["priority"], rows[3]["priority"]} == {5, 6}  # both last
    assert [row["estimated_accuracy"] for row in rows] == \
        [row["estimated_accuracy"] for row in alone]  # levelled by f0 alone
    # propagated and not accepted yet, f4 is carried too (a user's check: it said false)
    write_index_mask(images / "labels" / "f4.png", np.ones((40, 48), np.uint8), LABELS)
    (images / "labels" / "propagated.txt").write_text("f4.png\n")
    (images / "labels" / "propagated_from.txt").write_text("f3.png <- f0.png\nf4.png <- f0.png\n")
    rows = ranked()
    assert rows[4]["propagated"] and rows[4]["carried"] and not rows[4]["corrected"]
    assert [row["carried"] for row in rows] == [False, False, False, True, True, False]


def fine_tuned_project(images: Path, checkpoint: Path):
    """`images` made a project fine-tuned on: v001 the model the first fine-tune started from,
    v002 its fine-tuned version, made current ("Use this model")."""
    from segnet_core.finetune import ModelVersions

    base = load_checkpoint(checkpoint)
    versions = ModelVersions(images / "labels" / "models")
    versions.save(base, make_current=True)
    tuned = replace(base, training={**base.training, "fine_tune": {
        "recipe": {"epochs": 1}, "frames": {"train": [], "held_out": []}}})
    version = versions.save(tuned)
    versions.set_current(version.id)
    return versions, version


def test_rank_without_a_model_estimates_with_the_projects_current_fine_tuned_version(
        calibrated, images, capsys):
    """As the window does: no --model, and the inputs' project has a current fine-tuned
    version, so that version estimates (said on stderr); --model still wins; a version that
    will not load leaves the shipped model, with a warning naming it."""
    _versions, version = fine_tuned_project(images, calibrated)
    assert main(["rank", "--images", str(images), "--json", "--order", "frame", *CPU]) == 0
    followed = capsys.readouterr()
    assert "estimating with the fine-tuned model v002 of frames, its current version" in \
        followed.err
    assert main(["rank", "--images", str(images), "--json", "--order", "frame", "--model",
                 str(version.path), *CPU]) == 0
    named = capsys.readouterr()
    assert "estimating with" not in named.err
    assert json.loads(followed.out) == json.loads(named.out)

    version.path.write_bytes(b"damaged")
    assert main(["rank", "--images", str(images), "--json", "--order", "frame", *CPU]) == 0
    fallen_back = capsys.readouterr()
    assert "warning: the fine-tuned model v002 of frames could not be loaded" in fallen_back.err
    assert str(version.path) in fallen_back.err and "using the shipped model" in fallen_back.err
    assert "estimating with" not in fallen_back.err  # nothing said of a model not used
    shipped = json.loads(fallen_back.out)
    assert [row["frame"] for row in shipped] == [f"f{i}.png" for i in range(6)]
    assert [row["estimated_accuracy"] for row in shipped] != \
        [row["estimated_accuracy"] for row in json.loads(named.out)]


def test_rank_reads_past_a_projects_versions_index_it_cannot_read(calibrated, images, capsys):
    versions, _version = fine_tuned_project(images, calibrated)
    versions.index_path.write_text("{ not json")
    assert main(["rank", "--images", str(images), "--json", "--model", str(calibrated),
                 *CPU]) == 0  # named: the index is not even read
    assert "warning" not in capsys.readouterr().err
    assert main(["rank", "--images", str(images), "--json", *CPU]) == 0
    err = capsys.readouterr().err
    assert f"warning: {versions.index_path}" in err and "fine-tuned models are left out" in err


def test_predict_export_and_finetune_follow_the_projects_version_too(calibrated, images,
                                                                      tmp_path, capsys):
    """The commands that segment a project's frames use the model the window would, without
    --model: predict's masks are the version's, export --predict-missing and finetune say
    which model they use."""
    _versions, version = fine_tuned_project(images, calibrated)
    assert main(["predict", str(images / "f1.png"), "--out", str(tmp_path / "followed"),
                 *CPU]) == 0
    assert "segmenting with the fine-tuned model v002 of frames" in capsys.readouterr().err
    assert main(["predict", str(images / "f1.png"), "--out", str(tmp_path / "named"),
                 "--model", str(version.path), *CPU]) == 0
    assert "segmenting with" not in capsys.readouterr().err
    followed = read_mask(tmp_path / "followed" / "f1.png", LABELS)
    assert np.array_equal(followed, read_mask(tmp_path / "named" / "f1.png", LABELS))

    assert main(["export", "--images", str(images), "--format", "index", "--out",
                 str(tmp_path / "export"), "--predict-missing", *CPU]) == 0
    assert "predicting the missing masks with the fine-tuned model v002 of frames" in \
        capsys.readouterr().err
    exported = read_mask(next((tmp_path / "export").rglob("f1.png")), LABELS)
    assert np.array_equal(exported, followed)

    write_index_mask(images / "labels" / "f2.png", np.zeros((40, 48), np.uint8), LABELS)
    tuned = tmp_path / "tuned.pt"
    finetune = ["finetune", "--images", str(images), "--out", str(tuned), "--epochs", "1",
                "--holdout", "0", "--size", "32x32", *CPU]
    assert main(finetune) == 0
    assert "fine-tuning with the fine-tuned model v002 of frames" in capsys.readouterr().err
    assert load_checkpoint(tuned).training["fine_tune"]["parent"]["version"] == "v002"

    version.path.write_bytes(b"damaged")  # will not load: the shipped model, with a warning
    assert main(finetune) == 0
    err = capsys.readouterr().err
    assert "warning: the fine-tuned model v002 of frames could not be loaded" in err
    assert load_checkpoint(tuned).training["fine_tune"]["parent"]["version"] is None


def test_the_shipped_model_by_name_and_inputs_from_several_projects(calibrated, images,
                                                                    tmp_path, capsys):
    """`--model shipped` asks for the shipped model where a project would bring its own;
    inputs from two projects get the shipped model, with a warning, not one project's model
    for the other's frames."""
    from segnet_core.resources import default_model_path

    fine_tuned_project(images, calibrated)
    other = tmp_path / "other"
    other.mkdir()
    assert cv2.imwrite(str(other / "g.png"), varied_image(3)[..., ::-1])
    shipped = Predictor.from_checkpoint(default_model_path(), device="cpu", precision="fp32")
    assert shipped.label_set != LABELS  # the two models tell apart by their classes

    assert main(["predict", str(images / "f1.png"), "--out", str(tmp_path / "named"),
                 "--model", "shipped", *CPU]) == 0
    assert "segmenting with" not in capsys.readouterr().err
    assert main(["predict", str(images / "f1.png"), str(other), "--out",
                 str(tmp_path / "both"), *CPU]) == 0
    err = capsys.readouterr().err
    assert "warning: the inputs are in 2 projects, and frames has a fine-tuned model: " \
        "segmenting with the shipped model" in err
    for out in ("named", "both"):
        written = read_mask(tmp_path / out / "f1.png", shipped.label_set)
        assert np.array_equal(written, shipped.predict(varied_image(1)).labels), out
