"""Per-frame accuracy estimates, their calibration and levelling."""

import numpy as np
import pytest

from segnet_core.quality import (CONFIDENT_SHARE, LOCAL_SPAN, AccuracyCalibration, class_shares,
                                 Levelling, LevellingPriors, labelled_accuracy,
                                 fit_calibration, level_offset, levelling, pixel_accuracy,
                                 spearman)


def test_baseline_estimate_is_the_mean_confidence():
    confidence = np.array([[0.2, 0.4], [0.6, 0.8]], dtype=np.float32)
    assert AccuracyCalibration().estimate(confidence) == pytest.approx(0.5)


def test_a_fitted_line_recovers_a_known_relation_and_round_trips():
    rng = np.random.default_rng(0)
    maps = [rng.random((20, 30)).astype(np.float32) ** p for p in np.linspace(0.3, 3, 12)]
    base = AccuracyCalibration(feature=CONFIDENT_SHARE, threshold=0.5)
    features = [base.feature_of(m) for m in maps]
    accuracies = [0.3 + 0.6 * f for f in features]
    fitted = fit_calibration(features, accuracies, feature=CONFIDENT_SHARE, threshold=0.5,
                             fitted_on="test")
    assert fitted.slope == pytest.approx(0.6) and fitted.intercept == pytest.approx(0.3)
    for m, a in zip(maps, accuracies):
        assert fitted.estimate(m) == pytest.approx(a)
    assert AccuracyCalibration.from_dict(fitted.to_dict()) == fitted


def test_class_shares_count_each_class_over_all_pixels():
    labels = np.array([[0, 0, 2], [11, 2, 2]], dtype=np.uint8)  # 11: void, in no share
    assert class_shares(labels, 3) == pytest.approx([2 / 6, 0, 3 / 6])


def test_a_fit_with_class_shares_learns_that_some_classes_are_harder():
    # Frames of equal confidence: accuracy falls with the share of class 1 (hard), so the
    # confidence alone cannot rank them and the class-share fit can.
    rng = np.random.default_rng(1)
    confidence = np.full((10, 10), 0.8, dtype=np.float32)
    frames, accuracies = [], []
    for hard in np.linspace(0.0, 0.9, 10):
        labels = (rng.random((10, 10)) < hard).astype(np.uint8)
        frames.append(labels)
        accuracies.append(0.9 - 0.5 * class_shares(labels, 2)[1])
    features = [AccuracyCalibration().feature_of(confidence)] * len(frames)
    with pytest.raises(ValueError):  # a line of the confidence alone cannot be fitted
        fit_calibration(features, accuracies, feature="mean_confidence", fitted_on="test")
    fitted = fit_calibration(features, accuracies, feature="mean_confidence", fitted_on="test",
                             shares=[class_shares(labels, 2) for labels in frames], ridge=1e-9)
    assert fitted.uses_labels and len(fitted.class_slopes) == 2
    estimates = [fitted.estimate(confidence, labels) for labels in frames]
    assert estimates == pytest.approx(accuracies, abs=1e-3)
    assert spearman(estimates, accuracies) == pytest.approx(1.0)
    assert AccuracyCalibration.from_dict(fitted.to_dict()) == fitted
    with pytest.raises(ValueError, match="labels"):
        fitted.estimate(confidence)


def test_an_unreadable_stored_calibration_falls_back_to_the_baseline():
    assert AccuracyCalibration.from_dict({"feature": "tea leaves"}) == AccuracyCalibration()
    assert AccuracyCalibration.from_dict({"slope": float("nan")}) == AccuracyCalibration()
    assert AccuracyCalibration.from_dict({"class_slopes": [0.1, "x"]}) == AccuracyCalibration()
    assert AccuracyCalibration.from_dict({"class_slopes": [float("inf")]}) == AccuracyCalibration()
    assert AccuracyCalibration.from_dict(None) == AccuracyCalibration()
    with pytest.raises(ValueError):
        fit_calibration([0.5, 0.5], [0.1, 0.9], feature=CONFIDENT_SHARE, fitted_on="x")


def test_pixel_accuracy_ignores_void():
    truth = np.array([[0, 1, 11], [1, 11, 2]], dtype=np.uint8)
    labels = np.array([[0, 2, 3], [1, 0, 2]], dtype=np.uint8)
    assert pixel_accuracy(labels, truth, 11) == pytest.approx(3 / 4)
    assert np.isnan(pixel_accuracy(labels, np.full_like(truth, 11), 11))


def test_spearman_matches_known_values():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)


def test_level_offset_moves_estimates_toward_the_measured_accuracy():
    # the fit says 0.6 where the model really got 0.8 on two corrected frames: two frames
    # against a prior of two move the estimates half way
    assert level_offset([0.6, 0.6], [0.8, 0.8]) == pytest.approx(0.1)
    assert level_offset([0.6], [0.8]) == pytest.approx(0.2 / 3)  # one frame: a third
    assert level_offset([0.6], [0.8], prior_frames=1) == pytest.approx(0.1)
    assert level_offset([0.6], [0.8], prior_frames=0) == pytest.approx(0.2)
    assert level_offset([0.7, 0.5], [0.6, 0.4]) == pytest.approx(-0.2 / 4)
    assert level_offset([], []) == 0.0
    assert level_offset([0.5, float("nan")], [0.9, 0.1]) == pytest.approx(0.4 / 3)  # NaN: none
    with pytest.raises(ValueError):
        level_offset([0.5], [0.5, 0.6])
    assert Levelling(offset=0.1).apply(0.95) == 1.0
    assert Levelling(offset=-0.1).apply(0.05) == 0.0
    assert Levelling(offset=0.1).apply(0.5) == pytest.approx(0.6)


def test_levelling_tilts_the_estimates_when_they_spread_less_than_the_truth():
    # a model whose confidence moves half as much as its real accuracy, and sits 5 points
    # high: real = 0.7 + 2 * (estimate - 0.75)
    rng = np.random.default_rng(0)
    every = rng.uniform(0.6, 0.9, 60)
    real = 0.7 + 2 * (every - 0.75)
    measured = [3, 17, 29, 41, 55]
    level = levelling(every[measured], real[measured])
    assert level.frames == 5 and 0.4 < level.tilt <= 1.0
    others = np.setdiff1d(np.arange(60), measured)
    moved = np.array([level.apply(v) for v in every[others]])
    flat = every[others] + level_offset(every[measured], real[measured])
    assert np.abs(moved - real[others]).mean() < 0.5 * np.abs(flat - real[others]).mean()
    # fewer than three frames give a level only; a level the estimates already match, none
    two = levelling(every[measured[:2]], real[measured[:2]])
    assert two.tilt == 0.0 and two.offset == level_offset(every[measured[:2]],
                                                          real[measured[:2]])
    same = levelling(every[measured], every[measured])
    assert same.offset == 0.0 and same.tilt == 0.0
    # frames with one and the same estimate cannot say how the spread is off
    assert levelling([0.5, 0.5, 0.5], [0.4, 0.6, 0.5]).tilt == 0.0
    # a wild slope from a few frames is held to the allowed range
    assert levelling([0.5, 0.6, 0.7], [0.1, 0.5, 0.9]).tilt == 1.0
    # the tilt's prior: the same three frames closer together say less about the spread
    # (as if ten frames 5 points either side had matched), and a tighter prior lets them say more
    close = levelling([0.5, 0.51, 0.52], [0.1, 0.5, 0.9])
    assert 0.2 < close.tilt < 0.4
    assert levelling([0.5, 0.51, 0.52], [0.1, 0.5, 0.9],
                     priors=LevellingPriors(tilt_frames=2.0)).tilt == 1.0
    assert levelling([0.5, 0.6, 0.7], [0.1, 0.5, 0.9],
                     priors=LevellingPriors(tilt_min_frames=4)).tilt == 0.0
    with pytest.raises(ValueError, match="positive"):
        LevellingPriors(local_frames=0.0)  # frames far from every anchor would get 0 / 0
    with pytest.raises(ValueError, match="two or more"):
        LevellingPriors(tilt_min_frames=1)


def test_levelling_with_places_moves_the_frames_near_a_correction_by_its_miss():
    """Along a sequence the model's real accuracy drifts slowly (a dark stretch, then a bright
    one) while its confidence stays flat: a level and tilt cannot follow the drift, the local
    part does, and it leaves frames far from every correction at the level alone."""
    places = np.arange(100)
    estimates = np.full(100, 0.7) + np.random.default_rng(1).normal(0, 0.01, 100)
    real = 0.55 + 0.3 / (1 + np.exp(-(places - 50) / 6.0))  # 0.55 before frame 50, 0.85 after
    measured = [10, 30, 45, 55, 70, 90]
    flat = levelling(estimates[measured], real[measured])
    local = levelling(estimates[measured], real[measured], positions=measured, length=100)
    assert local.offset == flat.offset and local.tilt == flat.tilt and local.frames == 6
    assert local.width == pytest.approx(LOCAL_SPAN * 100)
    others = np.setdiff1d(places, measured)
    flat_error = np.abs([flat.apply(e) - r for e, r in zip(estimates[others], real[others])])
    local_error = np.abs([local.apply(e, p) - r
                          for e, p, r in zip(estimates[others], others, real[others])])
    assert local_error.mean() < 0.7 * flat_error.mean()  # 0.08 against 0.13
    assert spearman([local.apply(e, p) for e, p in zip(estimates[others], others)],
                    real[others]) > 0.7 > spearman(estimates[others], real[others])
    # beside a measured frame an estimate moves by what the level and tilt left of its miss,
    # shrunk as if one more frame there had matched; far from all of them, by the level alone
    left = real[30] - flat.apply(estimates[30])
    assert dict(local.anchors)[30.0] == pytest.approx(left)
    weights = np.exp(-0.5 * ((30 - np.array(measured)) / local.width) ** 2)
    misses = np.array([m for _, m in local.anchors])
    assert local.local_miss(30) == pytest.approx(weights @ misses / (weights.sum() + 1))
    wider = levelling(estimates[measured], real[measured], positions=measured, length=100,
                      priors=LevellingPriors(local_frames=2.0, local_span=0.1))
    assert wider.width == pytest.approx(10.0)
    assert wider.local_miss(30) == pytest.approx(
        np.exp(-0.5 * ((30 - np.array(measured)) / 10.0) ** 2) @ misses
        / (np.exp(-0.5 * ((30 - np.array(measured)) / 10.0) ** 2).sum() + 2))
    assert local.apply(0.7, 10_000) == pytest.approx(flat.apply(0.7))
    assert local.apply(0.7) == flat.apply(0.7)  # no place: no local part
    # many at once, as the window levels a long video: the same as one by one
    assert local.apply_all(estimates, places) == pytest.approx(
        [local.apply(e, p) for e, p in zip(estimates, places)])
    assert local.apply_all([0.7], [np.nan])[0] == pytest.approx(flat.apply(0.7))


def test_levelling_places_need_the_sequence_length_and_one_per_frame():
    with pytest.raises(ValueError, match="length"):
        levelling([0.5], [0.6], positions=[3])
    with pytest.raises(ValueError, match="positions"):
        levelling([0.5, 0.6], [0.6, 0.7], positions=[3], length=10)
    # a short sequence still weighs its neighbours one frame wide; NaN frames are no anchors
    level = levelling([0.5, 0.5], [0.7, float("nan")], positions=[2, 3], length=4)
    assert level.width == 1.0 and level.anchors == ((2.0, pytest.approx(0.2 * 2 / 3)),)


def test_a_correction_counts_as_evidence_only_when_mostly_labelled():
    predicted = np.zeros((64, 50), np.uint8)
    corrected = np.zeros((64, 50), np.uint8)
    corrected[:16] = 1  # the user fixed a quarter of the frame
    assert labelled_accuracy(predicted, corrected, 11) == pytest.approx(3 / 4)
    corrected[16:48] = 11  # half the frame left void: half is labelled, still enough
    assert labelled_accuracy(predicted, corrected, 11) == pytest.approx(1 / 2)
    corrected[48, 0] = 11  # under half labelled: says nothing of the frame
    assert labelled_accuracy(predicted, corrected, 11) is None
    assert labelled_accuracy(predicted, np.zeros((50, 64), np.uint8), 11) is None  # shape


def test_a_correction_of_a_few_pixels_is_no_evidence_however_fully_labelled():
    """A user's check: a 1x1 image corrected moved every other frame's estimate by up to 40
    points."""
    assert labelled_accuracy(np.zeros((1, 1), np.uint8), np.ones((1, 1), np.uint8), 11) is None
    small = np.zeros((31, 33), np.uint8)  # 1023 pixels
    assert labelled_accuracy(small, small, 11) is None
    assert labelled_accuracy(np.zeros((32, 32), np.uint8), np.zeros((32, 32), np.uint8),
                             11) == 1.0
