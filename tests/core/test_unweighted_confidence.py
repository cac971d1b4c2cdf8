"""The confidence with the loss's class weights undone (`inference.images.unweighted_confidence`)
and the per-frame estimate built on it (`quality.UNWEIGHTED_CONFIDENCE`,
`UNWEIGHTED_X_AGREEMENT`)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
from segnet_core.cli import main
from segnet_core.data import drives
from segnet_core.errors import SegNetError
from segnet_core.inference import Predictor
from segnet_core.inference.agreement import estimated_accuracy, scale_agreement
from segnet_core.inference.images import (class_weight_inverses, images_to_tensor,
                                          prepare_image, unweighted_confidence)
from segnet_core.models import build_model
from segnet_core.quality import (CLASS_WEIGHTS_KEY, MEAN_CONFIDENCE, UNWEIGHTED_CONFIDENCE,
                                 UNWEIGHTED_X_AGREEMENT, AccuracyCalibration, carried_over,
                                 recorded_class_weights)
from segnet_core.ranking import QUALITY_KEY, predictor_calibration
from tests.core.test_rank import CPU, LABELS, varied_image

WEIGHTS = [0.25, 1.0, 4.0]  # Sky, Road, Car: the rare class weighs most, as median balancing does
UNWEIGHTED = AccuracyCalibration(feature=UNWEIGHTED_CONFIDENCE, slope=0.9, intercept=0.05,
                                 fitted_on="test frames")
SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "models" / \
    "segnet-basic-lcn-camvid.pt"
CAMVID = Path(__file__).resolve().parents[3] / "shared" / "data" / "camvid"


def make_checkpoint(path: Path, weights, calibration: AccuracyCalibration | None) -> Path:
    torch.manual_seed(5)
    model = build_model("segnet-basic", LABELS.num_classes)
    training = {}
    if weights is not None:
        training[CLASS_WEIGHTS_KEY] = list(weights)
    if calibration is not None:
        training[QUALITY_KEY] = calibration.to_dict()
    save_checkpoint(path, checkpoint_from_model(model, LABELS.to_dict(), (48, 64),
                                                {"mean": [0.5] * 3, "std": [0.25] * 3},
                                                training=training))
    return path


def test_undoing_the_weights_recovers_the_posterior_a_weighted_loss_tilted():
    """A weighted cross-entropy is minimised by outputs proportional to w_c P(c | x): undoing
    the weights gives back P(label | x), whatever the label."""
    rng = np.random.default_rng(0)
    posterior = torch.tensor(rng.dirichlet([1.0, 1.0, 1.0], size=(2, 5, 7)),
                             dtype=torch.float32).permute(0, 3, 1, 2)  # (N, K, H, W)
    weights = torch.tensor(WEIGHTS)
    tilted = posterior * weights.view(1, -1, 1, 1)
    tilted = tilted / tilted.sum(1, keepdim=True)
    labels = tilted.argmax(1)
    undone = unweighted_confidence(tilted, labels, class_weight_inverses(WEIGHTS))
    expected = posterior.gather(1, labels.unsqueeze(1)).squeeze(1)
    torch.testing.assert_close(undone, expected, atol=1e-6, rtol=1e-5)
    # the tilted top probability overstates the rare class and understates the common one
    car, sky = labels == 2, labels == 0
    assert bool((tilted.max(1).values[car] > undone[car] + 1e-6).all())
    assert bool((tilted.max(1).values[sky] < undone[sky] - 1e-6).all())
    # equal weights change nothing
    same = unweighted_confidence(tilted, labels, class_weight_inverses([2.0, 2.0, 2.0]))
    torch.testing.assert_close(same, tilted.max(1).values)


def test_a_class_never_seen_in_training_takes_no_share():
    probabilities = torch.tensor([0.5, 0.3, 0.2]).view(1, 3, 1, 1)
    labels = torch.zeros(1, 1, 1, dtype=torch.long)
    undone = unweighted_confidence(probabilities, labels, class_weight_inverses([1.0, 1.0, 0.0]))
    assert undone.item() == pytest.approx(0.5 / 0.8)


@pytest.mark.parametrize("weights", [[], [1.0, float("nan")], [1.0, -1.0], [0.0, 0.0],
                                     ["heavy", 1.0]])
def test_weights_that_cannot_be_undone_are_refused(weights):
    with pytest.raises(SegNetError, match="class weights"):
        class_weight_inverses(weights)


def test_recorded_weights_need_one_per_class_and_sane_values():
    assert recorded_class_weights({CLASS_WEIGHTS_KEY: WEIGHTS}, 3) == WEIGHTS
    assert recorded_class_weights({CLASS_WEIGHTS_KEY: WEIGHTS}) == WEIGHTS
    assert recorded_class_weights({CLASS_WEIGHTS_KEY: WEIGHTS}, 4) is None  # a class added
    for bad in (None, "1,2,3", [1.0, None, 2.0], [float("inf"), 1, 1], [0, 0, 0], [-1, 1, 1]):
        assert recorded_class_weights({CLASS_WEIGHTS_KEY: bad}, 3) is None
    assert recorded_class_weights({}, 3) is None and recorded_class_weights(None) is None


def test_a_predictor_from_a_checkpoint_with_weights_gives_the_unweighted_mean(tmp_path):
    path = make_checkpoint(tmp_path / "weighted.pt", WEIGHTS, None)
    predictor = Predictor.from_checkpoint(path, device="cpu", precision="fp32")
    assert predictor.undoes_class_weights
    image = varied_image(3)
    found = predictor.predict(image)
    # the same from the model's own softmax at its input size, by hand
    prepared, _ = prepare_image(image, (48, 64))
    x = images_to_tensor([prepared], torch.tensor([0.5] * 3), torch.tensor([0.25] * 3),
                         torch.device("cpu"))
    with torch.inference_mode():
        probabilities = predictor.model(x).float().softmax(1)[0]
    labels = probabilities.argmax(0)
    chosen = probabilities.gather(0, labels[None])[0] / torch.tensor(WEIGHTS)[labels]
    expected = (chosen / (probabilities / torch.tensor(WEIGHTS).view(-1, 1, 1)).sum(0)).mean()
    assert found.unweighted_confidence == pytest.approx(float(expected), abs=1e-5)
    assert found.unweighted_confidence != pytest.approx(float(found.confidence.mean()), abs=1e-3)
    # the labels and the confidence map are the model's as before
    plain = Predictor.from_checkpoint(make_checkpoint(tmp_path / "plain.pt", None, None),
                                      device="cpu", precision="fp32")
    assert not plain.undoes_class_weights
    again = plain.predict(image)
    assert again.unweighted_confidence is None
    np.testing.assert_array_equal(again.labels, found.labels)
    np.testing.assert_allclose(again.confidence, found.confidence, atol=1e-6)


def test_the_estimate_reads_the_unweighted_mean(tmp_path):
    path = make_checkpoint(tmp_path / "weighted.pt", WEIGHTS, UNWEIGHTED)
    predictor = Predictor.from_checkpoint(path, device="cpu", precision="fp32")
    calibration = predictor_calibration(predictor)
    assert calibration == UNWEIGHTED and calibration.uses_unweighted_confidence
    assert not calibration.uses_scale_agreement
    image = varied_image(5)
    found = predictor.predict(image)
    assert estimated_accuracy(calibration, predictor, image, found) == pytest.approx(
        0.9 * found.unweighted_confidence + 0.05)
    with pytest.raises(ValueError, match="summary_of_prediction"):
        calibration.summary_of(found.confidence)  # the map alone is not what it reads

    with_agreement = AccuracyCalibration(feature=UNWEIGHTED_X_AGREEMENT, slope=0.9,
                                         intercept=0.05, fitted_on="test frames")
    assert with_agreement.uses_scale_agreement
    agreement = scale_agreement(predictor, image, found.labels)
    assert estimated_accuracy(with_agreement, predictor, image, found) == pytest.approx(
        0.9 * found.unweighted_confidence * agreement + 0.05)
    assert "class weights undone" in with_agreement.describe()
    assert AccuracyCalibration.from_dict(with_agreement.to_dict()) == with_agreement
    kept = carried_over(with_agreement)
    assert kept is not None and kept.feature == UNWEIGHTED_X_AGREEMENT
    # the weights undone as they are (the shipped estimate) is the model's own probability,
    # nothing fitted to a street: a fine-tuned model keeps it too, unlike a plain mean
    # confidence or a class-share fit
    as_it_is = AccuracyCalibration(feature=UNWEIGHTED_CONFIDENCE, fitted_on="chosen on drives")
    assert carried_over(as_it_is).feature == UNWEIGHTED_CONFIDENCE
    assert carried_over(AccuracyCalibration(fitted_on="chosen on drives")) is None


def test_a_model_without_usable_weights_falls_back_to_the_mean_confidence(tmp_path):
    """A stored line on the unweighted confidence needs the weights for the model's classes
    (not there for an older model, nor for one fine-tuned with a class added): the estimate
    is then the plain mean confidence, not an error on every frame."""
    for name, weights in (("none", None), ("added", WEIGHTS[:2])):
        path = make_checkpoint(tmp_path / f"{name}.pt", weights, UNWEIGHTED)
        predictor = Predictor.from_checkpoint(path, device="cpu", precision="fp32")
        assert not predictor.undoes_class_weights
        assert predictor_calibration(predictor) == AccuracyCalibration()
        image = varied_image(2)
        found = predictor.predict(image)
        with pytest.raises(ValueError, match="class weights"):
            UNWEIGHTED.summary_of_prediction(found)
    # so `rank` ranks it by the mean confidence
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        assert cv2.imwrite(str(folder / f"f{i}.png"), varied_image(i)[..., ::-1])
    assert main(["rank", "--images", str(folder), "--model", str(tmp_path / "none.pt"),
                 "--json", *CPU]) == 0


def test_rank_estimates_by_the_unweighted_line(tmp_path, capsys):
    path = make_checkpoint(tmp_path / "weighted.pt", WEIGHTS, UNWEIGHTED)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        assert cv2.imwrite(str(folder / f"f{i}.png"), varied_image(i + 1)[..., ::-1])
    assert main(["rank", "--images", str(folder), "--model", str(path), "--json", *CPU]) == 0
    rows = {row["frame"]: row["estimated_accuracy"] for row in json.loads(capsys.readouterr().out)}
    predictor = Predictor.from_checkpoint(path, device="cpu", precision="fp32")
    for i in range(3):
        image = cv2.imread(str(folder / f"f{i}.png"))[..., ::-1].copy()
        expected = 0.9 * predictor.predict(image).unweighted_confidence + 0.05
        assert rows[f"f{i}.png"] == pytest.approx(expected, abs=2e-3)


@pytest.mark.skipif(not CAMVID.is_dir(), reason="CamVid (../shared/data/camvid) is not here")
def test_on_camvid_the_unweighted_confidence_means_what_it_says_for_rare_classes():
    """The shipped model was trained with median-frequency weights (Pole, SignSymbol,
    Pedestrian and Bicyclist weigh 4-7, Road and Building about 0.2). Where it labels a
    pixel as one of the heavy classes its top probability claims far more than it gets right;
    with the weights undone the claim is near what it gets right (docs/training.md)."""
    predictor = Predictor.from_checkpoint(SHIPPED, device="cpu", precision="fp32")
    weights = np.asarray(recorded_class_weights(predictor.training, predictor.num_classes))
    heavy = weights >= 4
    assert heavy.sum() >= 3
    frames = drives.drive_frames(CAMVID, "0016E5", predictor.label_set)
    inverses = class_weight_inverses(weights)
    count = right = claimed = undone_sum = 0.0
    for i in range(0, len(frames), 30):
        image, truth = frames[i]
        prepared, _ = prepare_image(image, predictor.input_size)
        x = images_to_tensor([prepared], torch.tensor(predictor.normalization["mean"]),
                             torch.tensor(predictor.normalization["std"]), torch.device("cpu"))
        with torch.inference_mode():
            probabilities = predictor.model(x).float().softmax(1)
        top, labels = probabilities.max(1)
        undone = unweighted_confidence(probabilities, labels, inverses)[0].numpy()
        labels, top = labels[0].numpy(), top[0].numpy()
        small = cv2.resize(truth, labels.shape[::-1], interpolation=cv2.INTER_NEAREST)
        pick = heavy[labels] & (small != predictor.label_set.void_index)
        count += pick.sum()
        right += (small[pick] == labels[pick]).sum()
        claimed += top[pick].sum()
        undone_sum += undone[pick].sum()
    assert count > 10_000
    right, claimed, undone_mean = right / count, claimed / count, undone_sum / count
    assert claimed - right > 0.25  # the weighted claim: overstated by a lot
    assert abs(undone_mean - right) < 0.1  # undone: about what it gets right
    assert abs(undone_mean - right) < (claimed - right) / 3
