"""Scale agreement: the model run again at other scales, the share of labels that hold, and
the calibration on mean confidence times it (`inference.agreement`, `quality`)."""

from __future__ import annotations

import json

import cv2

import numpy as np
import pytest
import torch

from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
from segnet_core.cli import main
from segnet_core.inference import Predictor
from segnet_core.inference.agreement import (AGREEMENT_SCALES, accuracy_from_summary,
                                             estimated_accuracy, scale_agreement, scaled_size,
                                             warm_up_scales)
from segnet_core.models import build_model
from segnet_core.quality import (CONFIDENCE_X_AGREEMENT, CONFIDENT_SHARE, AccuracyCalibration,
                                 fit_calibration)
from segnet_core.ranking import QUALITY_KEY
from tests.core.test_rank import CPU, LABELS, varied_image

AGREEMENT = AccuracyCalibration(feature=CONFIDENCE_X_AGREEMENT, slope=0.8, intercept=0.15,
                                fitted_on="test frames")


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    torch.manual_seed(11)
    model = build_model("segnet-basic", LABELS.num_classes)
    return Predictor(model, LABELS, input_size=(48, 64),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, device="cpu",
                     precision="fp32")


def test_scaled_sizes_are_multiples_of_eight():
    assert scaled_size((180, 240), 0.5) == (88, 120)
    assert scaled_size((180, 240), 0.75) == (136, 176)
    assert scaled_size((10, 12), 0.1) == (8, 8)


def test_predict_at_the_input_size_is_predict(predictor):
    image = varied_image(4)
    plain = predictor.predict(image)
    again = predictor.predict_at(image, (48, 64))
    assert again.labels.shape == image.shape[:2]
    np.testing.assert_array_equal(again.labels, plain.labels)
    np.testing.assert_allclose(again.confidence, plain.confidence, atol=1e-6)


class RecordingPredictor:
    """A predictor that notes the (image shape, size) of each `predict_at`."""

    def __init__(self, predictor, input_size) -> None:
        self.predictor, self.input_size, self.seen = predictor, input_size, []

    def predict_at(self, image, size):
        self.seen.append((image.shape, size))
        return self.predictor.predict_at(image, size)


def test_warm_up_runs_one_pass_at_each_scale_of_the_input_size(predictor):
    recording = RecordingPredictor(predictor, predictor.input_size)
    assert warm_up_scales(recording) > 0.0
    assert recording.seen == [((48, 64, 3), scaled_size((48, 64), s)) for s in AGREEMENT_SCALES]
    free = RecordingPredictor(predictor, None)  # shapes follow each image: nothing to ready
    assert warm_up_scales(free) == 0.0 and free.seen == []


def test_scale_agreement_is_the_share_of_labels_that_hold_at_each_scale(predictor):
    image = varied_image(5)
    labels = predictor.predict(image).labels
    scaled = [predictor.predict_at(image, scaled_size((48, 64), s)).labels
              for s in AGREEMENT_SCALES]
    expected = np.mean([np.mean(other == labels) for other in scaled])
    assert scale_agreement(predictor, image, labels) == pytest.approx(expected)
    assert 0.0 < expected < 1.0  # the scales do change some labels of this model
    assert scale_agreement(predictor, image, labels, scales=(1.0,)) == 1.0
    wrong = (labels + 1) % LABELS.num_classes
    assert scale_agreement(predictor, image, wrong, scales=(1.0,)) == 0.0
    with pytest.raises(ValueError, match="labels of"):
        scale_agreement(predictor, image, labels[:-1])


def test_a_calibration_on_confidence_times_agreement(predictor):
    confidence = np.full((4, 4), 0.9, np.float32)
    assert AGREEMENT.uses_scale_agreement and not AccuracyCalibration().uses_scale_agreement
    assert AGREEMENT.estimate(confidence, agreement=0.5) == pytest.approx(0.8 * 0.45 + 0.15)
    with pytest.raises(ValueError, match="scale agreement"):
        AGREEMENT.estimate(confidence)
    assert AccuracyCalibration.from_dict(AGREEMENT.to_dict()) == AGREEMENT
    fitted = fit_calibration([0.2, 0.5, 0.8], [0.3, 0.6, 0.9], feature=CONFIDENCE_X_AGREEMENT,
                             fitted_on="three frames")
    assert fitted.uses_scale_agreement
    assert (fitted.slope, fitted.intercept) == (pytest.approx(1.0), pytest.approx(0.1))


def test_the_extra_passes_run_only_for_a_calibration_that_needs_them(predictor, monkeypatch):
    image = varied_image(3)
    prediction = predictor.predict(image)
    sizes = []
    real_predict_at = predictor.predict_at
    monkeypatch.setattr(predictor, "predict_at",
                        lambda img, size: sizes.append(size) or real_predict_at(img, size))
    plain = estimated_accuracy(AccuracyCalibration(), predictor, image, prediction)
    assert sizes == []
    assert plain == pytest.approx(float(np.mean(prediction.confidence)))
    value = estimated_accuracy(AGREEMENT, predictor, image, prediction)
    assert sizes == [scaled_size((48, 64), s) for s in AGREEMENT_SCALES]
    monkeypatch.undo()
    agreement = scale_agreement(predictor, image, prediction.labels)
    assert value == pytest.approx(0.8 * plain * agreement + 0.15)


@pytest.mark.parametrize("calibration", [
    AccuracyCalibration(slope=0.7, intercept=0.2),
    AccuracyCalibration(feature=CONFIDENT_SHARE, threshold=0.3, slope=0.6, intercept=0.1),
    AccuracyCalibration(slope=0.5, intercept=0.2, class_slopes=(0.1, -0.2, 0.3)),
    AGREEMENT,
], ids=["mean", "confident-share", "classes", "x-agreement"])
def test_an_estimate_from_the_kept_summary_is_the_estimate_from_the_map(predictor, calibration):
    """Segment all keeps a frame's labels and the summary of its confidence map until the
    extra passes run: the estimate made from them is the one made at once."""
    image = varied_image(4)
    prediction = predictor.predict(image)
    at_once = estimated_accuracy(calibration, predictor, image, prediction)
    summary = calibration.summary_of(prediction.confidence)
    assert isinstance(summary, float)
    later = accuracy_from_summary(calibration, predictor, image, prediction.labels, summary)
    assert later == pytest.approx(at_once, abs=1e-12)
    assert 0.0 < later < 1.0
    other = accuracy_from_summary(calibration, predictor, image, prediction.labels,
                                  summary * 0.5)
    assert other != pytest.approx(at_once)  # the summary is what it is made from


def test_a_calibration_says_in_words_what_it_is_and_what_it_was_fitted_on():
    from segnet_core.quality import carried_over

    assert AccuracyCalibration().describe() == "the mean confidence as it is (not calibrated)"
    assert AGREEMENT.describe() == ("a line of the mean confidence x scale agreement, fitted "
                                    "on test frames")
    assert carried_over(AGREEMENT).describe().endswith(
        "fitted on test frames (carried over from the base model)")
    assert "and the class shares" in AccuracyCalibration(
        slope=0.5, class_slopes=(0.1, 0.2), fitted_on="x").describe()
    assert "0.50 sure" in AccuracyCalibration(feature=CONFIDENT_SHARE, fitted_on="x").describe()


def test_rank_estimates_with_a_stored_agreement_calibration(tmp_path, capsys):
    torch.manual_seed(3)
    model = build_model("bilinear", LABELS.num_classes)
    path = tmp_path / "agreement.pt"
    save_checkpoint(path, checkpoint_from_model(model, LABELS.to_dict(), (32, 32),
                                                training={QUALITY_KEY: AGREEMENT.to_dict()}))
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(4):
        assert cv2.imwrite(str(folder / f"f{i}.png"), varied_image(i)[..., ::-1])
    assert main(["rank", "--images", str(folder), "--model", str(path), "--json",
                 "--order", "frame", *CPU]) == 0
    rows = json.loads(capsys.readouterr().out)
    predictor = Predictor.from_checkpoint(path, device="cpu", precision="fp32")
    for i, row in enumerate(rows):
        image = varied_image(i)
        prediction = predictor.predict(image)
        agreement = scale_agreement(predictor, image, prediction.labels)
        expected = 0.8 * float(np.mean(prediction.confidence)) * agreement + 0.15
        assert row["estimated_accuracy"] == pytest.approx(expected, abs=1e-4)
