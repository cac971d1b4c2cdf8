"""`segnet-studio weights` and `segnet-studio evaluate` on tiny data sets and on CamVid."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from segnet_core.cli import main
from segnet_core.evaluation import evaluate_predictions
from segnet_core.data.datasets import open_dataset
from segnet_core.labels import LabelSet
from segnet_core.io.masks import write_color_mask, write_index_mask
from segnet_core.evaluation import SegmentationEvaluator

LABELS_TXT = "128 0 0 Sky\n0 128 0 Road\n0 0 128 Car\n0 0 0 Void\n"  # K = 3, void 3


def tiny_masks() -> dict[str, np.ndarray]:
    a = np.zeros((12, 16), np.uint8)
    a[:, 8:] = 1                       # class 0: 96, class 1: 96
    b = np.zeros((12, 16), np.uint8)
    b[6:11] = 2                        # class 0: 96, class 2: 80
    b[11] = 3                          # one void row
    c = np.ones((12, 16), np.uint8)    # class 1: 192
    return {"a": a, "b": b, "c": c}


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, LabelSet, dict[str, np.ndarray]]:
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    (root / "label_colors.txt").write_text(LABELS_TXT)
    label_set = LabelSet.read(root / "label_colors.txt")
    masks = tiny_masks()
    rng = np.random.default_rng(0)
    for stem, mask in masks.items():
        cv2.imwrite(str(root / "images" / f"{stem}.jpg"),
                    rng.integers(0, 255, (12, 16, 3), dtype=np.uint8))
        write_index_mask(root / "masks" / f"{stem}.png", mask, label_set)
    return root, label_set, masks


def write_predictions(folder: Path, masks: dict[str, np.ndarray], label_set: LabelSet) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, mask in masks.items():
        write_index_mask(folder / f"{stem}.png", mask, label_set)
    return folder


def run_json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


# --------------------------------------------------------------------------- weights


def test_weights_json_hand_counted(tiny, capsys):
    root, _, _ = tiny
    data = run_json(capsys, ["weights", "--data", str(root), "--json"])
    assert data["images"] == 3 and data["split"] == "train"
    assert [c["name"] for c in data["classes"]] == ["Sky", "Road", "Car"]
    assert [c["pixels"] for c in data["classes"]] == [192, 288, 80]
    frequency = [192 / 368, 288 / 384, 80 / 176]  # void row left out of image b's total
    assert [c["frequency"] for c in data["classes"]] == pytest.approx(frequency)
    median = 192 / 368
    assert [c["weight"] for c in data["classes"]] == pytest.approx(
        [1.0, median / frequency[1], median / frequency[2]], rel=1e-6)
    natural = run_json(capsys, ["weights", "--data", str(root), "--json", "--balance", "natural"])
    assert [c["weight"] for c in natural["classes"]] == [1.0, 1.0, 1.0]


def test_weights_table_and_absent_class_warning(tiny, capsys):
    root, label_set, masks = tiny
    write_index_mask(root / "masks" / "b.png", np.where(masks["b"] == 2, 0, masks["b"])
                     .astype(np.uint8), label_set)  # no Car left
    assert main(["weights", "--data", str(root)]) == 0
    captured = capsys.readouterr()
    assert "class 2 never appears" in captured.err
    car = next(line for line in captured.out.splitlines() if line.startswith("Car"))
    assert car.split()[1] == "0" and float(car.split()[-1]) == 0.0
    assert main(["weights", "--data", str(root / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


# --------------------------------------------------------------------------- evaluate


def test_evaluate_perfect_predictions(tiny, tmp_path, capsys):
    root, label_set, masks = tiny
    pred = write_predictions(tmp_path / "pred", masks, label_set)
    data = run_json(capsys, ["evaluate", "--predictions", str(pred), "--data", str(root),
                             "--split", "train", "--json"])
    assert set(data) == {"images", "global_accuracy", "class_accuracy", "miou", "bf",
                         "per_class"}
    assert data["images"] == 3
    assert data["global_accuracy"] == data["class_accuracy"] == data["miou"] == data["bf"] == 1.0
    for entry in data["per_class"]:
        assert entry["accuracy"] == entry["iou"] == entry["bf"] == 1.0 and entry["present"]
    no_bf = run_json(capsys, ["evaluate", "--predictions", str(pred), "--data", str(root),
                              "--json", "--no-bf"])
    assert no_bf["bf"] is None and no_bf["miou"] == 1.0
    assert main(["evaluate", "--predictions", str(pred), "--data", str(root)]) == 0
    table = capsys.readouterr().out
    assert "100.00 %" in table and "Images evaluated: 3" in table


def test_evaluate_imperfect_colour_predictions_match_metrics(tiny, tmp_path, capsys):
    root, label_set, masks = tiny
    predicted = {stem: mask.copy() for stem, mask in masks.items()}
    predicted["a"][:, 6:8] = 1          # class 1 spills 2 columns into class 0
    predicted["b"][11] = 2              # on void: not judged
    predicted["c"][0:3, 0:3] = 2        # Car where the truth is Road
    pred = tmp_path / "pred"
    pred.mkdir()
    for stem, mask in predicted.items():  # colour-coded RGB masks are read too
        write_color_mask(pred / f"{stem}.png", mask, label_set)
    data = run_json(capsys, ["evaluate", "--predictions", str(pred), "--data", str(root),
                             "--json"])
    evaluator = SegmentationEvaluator(3, 3)
    for stem in ("a", "b", "c"):
        evaluator.update(predicted[stem], masks[stem])
    expected = evaluator.result()
    correct = 192 - 24 + 176 + 192 - 9
    assert data["global_accuracy"] == pytest.approx(correct / (192 + 176 + 192))
    assert data["global_accuracy"] == pytest.approx(expected.global_accuracy)
    assert data["miou"] == pytest.approx(expected.miou)
    assert data["bf"] == pytest.approx(expected.bf)
    assert 0 < data["bf"] < 1


def test_evaluate_missing_and_bad_predictions(tiny, tmp_path, capsys):
    root, label_set, masks = tiny
    pred = write_predictions(tmp_path / "pred", {k: v for k, v in masks.items() if k != "b"},
                             label_set)
    assert main(["evaluate", "--predictions", str(pred), "--data", str(root)]) == 2
    err = capsys.readouterr().err
    assert "'b'" in err and str(pred) in err

    write_index_mask(pred / "b.png", np.zeros((10, 16), np.uint8), label_set)
    assert main(["evaluate", "--predictions", str(pred), "--data", str(root)]) == 2
    err = capsys.readouterr().err
    assert "b.png" in err and "10x16" in err and "12x16" in err

    void_prediction = masks["b"].copy()
    void_prediction[0, 0] = 3  # void where the truth is a class: not a prediction
    write_index_mask(pred / "b.png", void_prediction, label_set)
    assert main(["evaluate", "--predictions", str(pred), "--data", str(root)]) == 2
    assert "b.png" in capsys.readouterr().err

    assert main(["evaluate", "--predictions", str(tmp_path / "none"), "--data", str(root)]) == 2
    assert "none" in capsys.readouterr().err


def test_evaluate_arguments(tiny, capsys, monkeypatch, tmp_path):
    root, _, _ = tiny
    assert main(["evaluate", "--model", "x.ckpt", "--data", str(root)]) == 2
    assert "--model" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--model", "x.ckpt", "--predictions", "p", "--data", str(root)])
    assert exit_info.value.code == 2
    # neither --model nor --predictions: the shipped default model, here made missing
    import segnet_core.resources as resources
    monkeypatch.setattr(resources, "DEFAULT_MODEL", tmp_path / "absent.pt")
    assert main(["evaluate", "--data", str(root)]) == 2
    assert "--model" in capsys.readouterr().err


def test_evaluate_predictions_progress(tiny, tmp_path):
    root, label_set, masks = tiny
    pred = write_predictions(tmp_path / "pred", masks, label_set)
    calls = []
    scores, images = evaluate_predictions(pred, open_dataset(root), compute_bf=False,
                                          progress=lambda i, n: calls.append((i, n)))
    assert images == 3 and scores.global_accuracy == 1.0
    assert calls == [(1, 3), (2, 3), (3, 3)]


# --------------------------------------------------------------------------- CamVid


@pytest.mark.camvid
def test_camvid_val_against_itself(camvid_root, capsys):
    data = run_json(capsys, ["evaluate", "--predictions", str(camvid_root / "valannot"),
                             "--data", str(camvid_root), "--json"])
    assert data["images"] == 101
    for key in ("global_accuracy", "class_accuracy", "miou", "bf"):
        assert data[key] == 1.0, key
    assert len(data["per_class"]) == 11
    for entry in data["per_class"]:
        assert entry["present"] and entry["accuracy"] == entry["iou"] == entry["bf"] == 1.0


@pytest.mark.camvid
def test_camvid_train_weights(camvid_root, capsys):
    data = run_json(capsys, ["weights", "--data", str(camvid_root), "--json"])
    classes = {c["name"]: c for c in data["classes"]}
    assert len(classes) == 11 and data["images"] == 367
    assert all(c["weight"] > 0 for c in classes.values())
    assert classes["Road"]["weight"] < 1 < classes["Bicyclist"]["weight"]
