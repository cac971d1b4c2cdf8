"""The CamVid SegNet-Basic-LCN model that ships in resources/: what it declares, that the
commands use it when no --model is given, and that it still scores what it records."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from segnet_core.checkpoint import load_checkpoint
from segnet_core.cli import main
from segnet_core.labels import camvid_label_set
from segnet_core.quality import recorded_class_weights
from segnet_core.ranking import model_calibration
from segnet_core.resources import DEFAULT_MODEL
from segnet_core.train import TrainConfig

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="no shipped model")

#: The labels the shipped model gave `_scene()` (plain fp32 forward) when it was shipped.
EXPECTED_LABELS = Path(__file__).parent / "data" / "shipped_model_labels.png"
HELD_OUT = {"0006R0": 101, "0001TP": 62}  # CamVid's drives but 0016E5, whose stretch is val


def test_the_shipped_model_declares_what_it_is_and_how_it_was_trained():
    assert DEFAULT_MODEL.stat().st_size < 10 * 2**20
    checkpoint = load_checkpoint(DEFAULT_MODEL)
    assert checkpoint.resume is None  # no optimizer state shipped
    assert checkpoint.architecture["name"] == "segnet-basic-lcn"
    assert checkpoint.label_set() == camvid_label_set()
    assert checkpoint.input_size == (180, 240)
    assert checkpoint.normalization == {"mean": [0.485, 0.456, 0.406],
                                        "std": [0.229, 0.224, 0.225]}
    record = checkpoint.training
    recipe = TrainConfig.from_dict(record["config"])
    assert (recipe.model, recipe.size, recipe.balance, recipe.augment) == \
        ("segnet-basic-lcn", (180, 240), "median", True)
    assert recipe.learning_rate_at(0) == pytest.approx(0.1)
    # every frame we have, nothing held out to choose an epoch on: the last epoch ships
    assert record["data"] == {"source": "camvid", "splits": ["train", "val"],
                              "hold_out_drive": None, "validation": None, "frames": 468}
    assert record["val"] is None and record["epochs_completed"] == recipe.epochs


def test_the_shipped_model_records_its_fair_figures_and_its_estimate():
    record = load_checkpoint(DEFAULT_MODEL).training
    held = record["drives_held_out"]  # its recipe, trained without the drive, scored on it
    assert {drive: entry["scores"]["images"] for drive, entry in held.items()} == HELD_OUT
    seen = record["val_scores"]
    assert seen["trained_on_these_frames"]
    for drive, entry in held.items():
        assert entry["data"]["hold_out_drive"] == drive
        assert TrainConfig.from_dict(entry["recipe"]).model == "segnet-basic-lcn"
        assert 0.25 < entry["scores"]["miou"] < seen["scores"]["miou"]  # val flatters
    # chosen on every drive, each segmented by the recipe trained without it: the mean
    # confidence with the class weights undone, as it is (it transferred best across the
    # three drives), so the model's record keeps the weights to undo
    calibration = model_calibration(record, 11)
    assert all(drive in calibration.fitted_on for drive in [*HELD_OUT, "0016E5"])
    assert calibration.uses_unweighted_confidence and calibration.slope > 0
    assert not calibration.uses_scale_agreement  # one pass per frame
    assert recorded_class_weights(record, 11) is not None
    labels = np.full((12, 16), 3, dtype=np.uint8)
    surer = calibration.estimate_from_summary(0.9, labels, agreement=0.95)
    assert 0.0 < calibration.estimate_from_summary(0.6, labels, agreement=0.95) < surer <= 1.0


def test_predict_uses_the_shipped_model_when_none_is_given(tmp_path, capsys):
    image = np.zeros((90, 120, 3), np.uint8)
    image[:40] = (200, 160, 120)  # a bright sky over a dark road
    image[40:] = (70, 60, 80)
    import cv2

    cv2.imwrite(str(tmp_path / "scene.png"), image[..., ::-1])
    assert main(["predict", str(tmp_path / "scene.png"), "--out", str(tmp_path / "out"),
                 "--device", "cpu"]) == 0
    written = sorted(p.name for p in (tmp_path / "out").rglob("*.png"))
    assert written, capsys.readouterr()


def test_it_still_scores_its_recorded_val_miou(camvid_root):
    """Val was trained on: this checks the pipeline end to end, not the model's worth."""
    from segnet_core.evaluation import evaluate_model
    from segnet_core.data import open_dataset
    from segnet_core.inference import Predictor

    checkpoint = load_checkpoint(DEFAULT_MODEL)
    predictor = Predictor.from_checkpoint(DEFAULT_MODEL, device="cpu")
    dataset = open_dataset(camvid_root, "val", camvid_label_set())
    scores, images = evaluate_model(predictor, dataset, compute_bf=False)
    assert images == 101
    # fp32 and bf16 CPUs differ a little; a different model or a broken pipeline by far more
    recorded = checkpoint.training["val_scores"]["scores"]
    assert recorded["images"] == images
    assert abs(scores.miou - recorded["miou"]) < 0.01, scores.miou


def _scene() -> np.ndarray:
    """A 180x240 street-like picture: sky, a band of buildings, road, a red block, noise."""
    rng = np.random.default_rng(15)
    h, w = 180, 240
    image = np.zeros((h, w, 3), np.float64)
    rows = np.linspace(0, 1, h)[:, None]
    image[:70] = (190, 170, 140) - 60 * rows[:70, :, None] * [1, 1, 0]
    image[70:120] = (90, 100, 80)
    image[120:] = (80, 70, 90)
    image[100:150, 30:90] = (150, 30, 30)
    image += rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_the_shipped_model_predicts_the_labels_it_always_did():
    checkpoint = load_checkpoint(DEFAULT_MODEL)
    model = checkpoint.build_model()
    x = torch.from_numpy(_scene()).permute(2, 0, 1)[None].float() / 255
    mean, std = (torch.tensor(checkpoint.normalization[k]).view(1, 3, 1, 1)
                 for k in ("mean", "std"))
    with torch.inference_mode():
        labels = model((x - mean) / std).argmax(1)[0].to(torch.uint8).numpy()
    expected = cv2.imread(str(EXPECTED_LABELS), cv2.IMREAD_UNCHANGED)
    assert expected.shape == labels.shape and len(np.unique(expected)) >= 5
    # other CPUs round a few near-ties the other way; different weights change far more
    assert (labels == expected).mean() >= 0.999
