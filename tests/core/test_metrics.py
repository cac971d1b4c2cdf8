"""Scores: hand-worked cases and an independent brute-force implementation on random masks."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest

from segnet_core.evaluation import (BF_TOLERANCE, ConfusionMatrix, Scores,
                                    SegmentationEvaluator, boundary_f1_image, boundary_map,
                                    format_scores_table, scores_from_confusion,
                                    scores_to_json)

# --------------------------------------------------------------------------- brute force
# Written independently of segnet_core.evaluation: plain Python loops over pixels.


def brute_confusion(prediction, target, k, void):
    matrix = [[0] * k for _ in range(k)]
    for t_row, p_row in zip(target.tolist(), prediction.tolist()):
        for t, p in zip(t_row, p_row):
            if t == void:
                continue
            matrix[t][p] += 1
    return matrix


def brute_scores(matrix):
    k = len(matrix)
    total = sum(sum(row) for row in matrix)
    diag = [matrix[c][c] for c in range(k)]
    rows = [sum(matrix[c]) for c in range(k)]
    cols = [sum(matrix[r][c] for r in range(k)) for c in range(k)]
    g = sum(diag) / total
    accuracies = [diag[c] / rows[c] for c in range(k) if rows[c] > 0]
    ious = [diag[c] / (rows[c] + cols[c] - diag[c]) for c in range(k)
            if rows[c] + cols[c] > 0]
    return g, sum(accuracies) / len(accuracies), sum(ious) / len(ious)


def brute_boundary(labels):
    h, w = len(labels), len(labels[0])
    points = []
    for y in range(h):
        for x in range(w):
            for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                yy, xx = y + dy, x + dx
                if 0 <= yy < h and 0 <= xx < w and labels[yy][xx] != labels[y][x]:
                    points.append((y, x))
                    break
    return points


def brute_bf(prediction, target, void, tolerance):
    gt, pr = target.tolist(), prediction.tolist()
    h, w = len(gt), len(gt[0])
    tol = tolerance * math.hypot(h, w)
    classes = sorted({v for row in gt for v in row if v != void})
    if not classes:
        return math.nan, {}
    gt_edges, pr_edges = brute_boundary(gt), brute_boundary(pr)

    def near(point, others):
        return any(math.hypot(point[0] - q[0], point[1] - q[1]) <= tol for q in others)

    per_class = {}
    for c in classes:
        truth = [(y, x) for (y, x) in gt_edges if gt[y][x] == c]
        predicted = [(y, x) for (y, x) in pr_edges if pr[y][x] == c]
        judged = [(y, x) for (y, x) in predicted if gt[y][x] != void]
        precision = sum(near(p, truth) for p in judged) / len(judged) if judged else 1.0
        recall = sum(near(g, predicted) for g in truth) / len(truth) if truth else 1.0
        per_class[c] = (2 * precision * recall / (precision + recall)
                        if precision + recall > 0 else 0.0)
    return sum(per_class.values()) / len(per_class), per_class


def blobby_masks(seed, k=5, void=5, shape=(20, 24)):
    """A ground truth and a prediction with regions, noise and (in the truth) void pixels."""
    rng = np.random.default_rng(seed)
    h, w = shape
    coarse = rng.integers(0, k, size=(h // 4, w // 4))
    target = np.kron(coarse, np.ones((4, 4), dtype=np.int64)).astype(np.uint8)
    flip = rng.random(shape) < 0.05
    target[flip] = rng.integers(0, k, size=int(flip.sum()))
    prediction = target.copy()
    shift = rng.integers(-2, 3)
    prediction = np.roll(prediction, shift, axis=int(rng.integers(0, 2)))
    noise = rng.random(shape) < 0.1
    prediction[noise] = rng.integers(0, k, size=int(noise.sum()))
    target[rng.random(shape) < 0.08] = void
    y, x = rng.integers(0, h - 4), rng.integers(0, w - 5)
    target[y:y + 4, x:x + 5] = void
    return prediction, target


# --------------------------------------------------------------------------- confusion


def test_confusion_hand_worked_2x3():
    target = np.array([[0, 0, 1], [1, 2, 1]])  # 2 is void
    prediction = np.array([[0, 1, 1], [0, 0, 1]])
    cm = ConfusionMatrix(2, void_index=2)
    cm.update(prediction, target)
    np.testing.assert_array_equal(cm.matrix, [[1, 1], [1, 2]])
    assert cm.matrix.dtype == np.int64
    s = scores_from_confusion(cm.matrix)
    assert s.global_accuracy == pytest.approx(3 / 5, abs=1e-12)
    np.testing.assert_allclose(s.per_class_accuracy, [1 / 2, 2 / 3])
    assert s.class_accuracy == pytest.approx(7 / 12, abs=1e-12)
    np.testing.assert_allclose(s.per_class_iou, [1 / 3, 2 / 4])
    assert s.miou == pytest.approx(5 / 12, abs=1e-12)
    assert s.present.tolist() == [True, True]
    assert np.isnan(s.bf) and np.isnan(s.per_class_bf).all()


def test_predicted_only_and_absent_classes():
    # K = 4, void 4. Class 2 is predicted but never in the truth; class 3 is predicted only
    # on a void pixel, which is dropped, so it is absent from the whole set.
    target = np.array([[0, 0, 1], [1, 1, 4]], dtype=np.uint8)
    prediction = np.array([[0, 2, 1], [1, 0, 3]], dtype=np.uint8)
    cm = ConfusionMatrix(4, 4)
    cm.update(prediction, target)
    np.testing.assert_array_equal(cm.matrix, [[1, 0, 1, 0], [1, 2, 0, 0], [0] * 4, [0] * 4])
    s = cm.scores()
    assert s.global_accuracy == pytest.approx(3 / 5)
    # accuracy undefined for 2 and 3 (no ground truth): C over classes 0 and 1 only
    assert np.isnan(s.per_class_accuracy[2]) and np.isnan(s.per_class_accuracy[3])
    assert s.class_accuracy == pytest.approx((1 / 2 + 2 / 3) / 2)
    # IoU of the predicted-only class is 0 and counts; the absent class is left out
    assert s.per_class_iou[2] == 0.0 and np.isnan(s.per_class_iou[3])
    assert s.miou == pytest.approx((1 / 3 + 2 / 3 + 0) / 3)
    assert s.present.tolist() == [True, True, True, False]


def test_confusion_merge_reset_and_dtypes():
    rng = np.random.default_rng(1)
    a = ConfusionMatrix(3, 255)
    b = ConfusionMatrix(3, 255)
    whole = ConfusionMatrix(3, 255)
    p1, t1 = rng.integers(0, 3, (6, 7)), rng.integers(0, 3, (6, 7))
    p2, t2 = rng.integers(0, 3, (5, 4)).astype(np.int32), rng.integers(0, 3, (5, 4)).astype(np.uint8)
    t2[0, 0] = 255
    a.update(p1, t1)
    b.update(p2, t2)
    whole.update(p1, t1)
    whole.update(p2, t2)
    a += b
    np.testing.assert_array_equal(a.matrix, whole.matrix)
    assert a.total == 6 * 7 + 5 * 4 - 1
    a.reset()
    assert a.total == 0
    with pytest.raises(ValueError):
        a.merge(ConfusionMatrix(4, 255))


def test_confusion_rejects_bad_values():
    cm = ConfusionMatrix(3, 11)
    with pytest.raises(ValueError, match="7"):
        cm.update(np.zeros((2, 2), int), np.array([[0, 7], [1, 11]]))
    with pytest.raises(ValueError, match="3"):
        cm.update(np.array([[0, 3], [1, 1]]), np.zeros((2, 2), int))
    with pytest.raises(ValueError, match="-1"):
        cm.update(np.array([[0, -1], [1, 1]]), np.zeros((2, 2), int))
    with pytest.raises(ValueError, match="shape"):
        cm.update(np.zeros((2, 2), int), np.zeros((2, 3), int))
    with pytest.raises(ValueError, match="integer"):
        cm.update(np.zeros((2, 2)), np.zeros((2, 2), int))
    assert cm.total == 0
    # a prediction outside the classes is not judged where the truth is void
    cm.update(np.array([[0, 9]]), np.array([[0, 11]]))
    assert cm.total == 1
    with pytest.raises(ValueError, match="void"):
        ConfusionMatrix(3, 2)


def test_empty_set_scores_are_nan():
    s = ConfusionMatrix(3, 3).scores()
    assert math.isnan(s.global_accuracy) and math.isnan(s.class_accuracy) and math.isnan(s.miou)
    assert not s.present.any()


@pytest.mark.parametrize("seed", range(6))
def test_confusion_and_scores_match_brute_force(seed):
    k, void = 5, 5
    cm = ConfusionMatrix(k, void)
    expected = [[0] * k for _ in range(k)]
    for image in range(3):
        prediction, target = blobby_masks(seed * 10 + image, k, void)
        cm.update(prediction, target)
        for r, row in enumerate(brute_confusion(prediction, target, k, void)):
            for c, value in enumerate(row):
                expected[r][c] += value
    np.testing.assert_array_equal(cm.matrix, expected)
    g, c, miou = brute_scores(expected)
    s = cm.scores()
    assert abs(s.global_accuracy - g) < 1e-9
    assert abs(s.class_accuracy - c) < 1e-9
    assert abs(s.miou - miou) < 1e-9


# --------------------------------------------------------------------------- boundary F1


def test_boundary_map_ignores_image_border():
    labels = np.zeros((4, 5), np.uint8)
    assert not boundary_map(labels).any()
    labels[:, 3:] = 1
    expected = np.zeros((4, 5), bool)
    expected[:, 2:4] = True
    np.testing.assert_array_equal(boundary_map(labels), expected)


def test_bf_hand_worked_partial_match():
    # Truth: columns 0-2 class 0, 3-5 class 1. Prediction: rows 2-3 push class 0 to column 4.
    target = np.zeros((4, 6), np.uint8)
    target[:, 3:] = 1
    prediction = target.copy()
    prediction[2:, 3:5] = 0
    tolerance = 1.2 / math.hypot(4, 6)  # 1.2 px
    score, per_class = boundary_f1_image(prediction, target, 2, 2, tolerance)
    # class 0: P = 3/5, R = 3/4 -> F1 = 2/3; class 1 likewise (worked out by hand)
    assert per_class[0] == pytest.approx(2 / 3, abs=1e-12)
    assert per_class[1] == pytest.approx(2 / 3, abs=1e-12)
    assert score == pytest.approx(2 / 3, abs=1e-12)
    # With the default tolerance (< 1 px here) only exact pixels match: P = 2/5, R = 2/4
    score, per_class = boundary_f1_image(prediction, target, 2, 2)
    assert per_class[0] == pytest.approx(2 * 0.4 * 0.5 / 0.9, abs=1e-12)


def test_bf_special_cases():
    full = np.zeros((6, 6), np.uint8)
    # class fills the image in both: both boundaries empty -> 1
    assert boundary_f1_image(full, full, 2, 2) == (1.0, {0: 1.0})
    # truth has no boundary, prediction has one -> 0; class 1 is not in the truth: not scored
    prediction = full.copy()
    prediction[2:4, 2:4] = 1
    assert boundary_f1_image(prediction, full, 2, 2) == (0.0, {0: 0.0})
    # class in the truth never predicted -> 0
    target = full.copy()
    target[:, 3:] = 1
    score, per_class = boundary_f1_image(full, target, 2, 2)
    assert per_class == {0: 0.0, 1: 0.0} and score == 0.0
    # perfect prediction -> 1 for every class
    assert boundary_f1_image(target, target, 2, 2) == (1.0, {0: 1.0, 1: 1.0})
    # only void in the truth -> nan, nothing scored
    score, per_class = boundary_f1_image(full, np.full((6, 6), 2, np.uint8), 2, 2)
    assert math.isnan(score) and per_class == {}
    with pytest.raises(ValueError, match="tolerance"):
        boundary_f1_image(full, full, 2, 2, tolerance=-0.1)
    with pytest.raises(ValueError, match="2-D"):
        boundary_f1_image(full[None], full[None], 2, 2)


def test_bf_predicted_boundary_on_void_is_ignored():
    target = np.zeros((8, 8), np.uint8)
    target[2:6, 2:6] = 2  # void block
    prediction = np.zeros((8, 8), np.uint8)
    prediction[3:5, 3:5] = 1  # predicted blob inside the void: its class-0 ring lies on void
    tolerance = 1.2 / math.hypot(8, 8)
    score, per_class = boundary_f1_image(prediction, target, 2, 2, tolerance)
    # precision: nothing judged -> 1; recall: 8 of the 16 truth ring pixels lie within 1.2 px
    assert per_class == {0: pytest.approx(2 * 1 * 0.5 / 1.5, abs=1e-12)}
    assert brute_bf(prediction, target, 2, tolerance)[1][0] == pytest.approx(per_class[0])


@pytest.mark.parametrize("tolerance", [BF_TOLERANCE, 0.05, 0.1, 0.2])
@pytest.mark.parametrize("seed", range(4))
def test_bf_matches_brute_force(seed, tolerance):
    prediction, target = blobby_masks(100 + seed)
    score, per_class = boundary_f1_image(prediction, target, 5, 5, tolerance)
    expected_score, expected = brute_bf(prediction, target, 5, tolerance)
    assert per_class.keys() == expected.keys()
    for c in expected:
        assert abs(per_class[c] - expected[c]) < 1e-9, c
    assert abs(score - expected_score) < 1e-9


def test_bf_matches_brute_force_on_odd_shape_without_void():
    rng = np.random.default_rng(7)
    target = np.kron(rng.integers(0, 3, (5, 3)), np.ones((3, 5), int))  # 15 x 15
    prediction = np.roll(target, 1, axis=0)
    prediction[rng.random(target.shape) < 0.1] = 2
    for tolerance in (0.04, 0.09):
        score, per_class = boundary_f1_image(prediction, target, 3, None, tolerance)
        expected_score, expected = brute_bf(prediction, target, None, tolerance)
        assert per_class == pytest.approx(expected, abs=1e-9)
        assert score == pytest.approx(expected_score, abs=1e-9)


# --------------------------------------------------------------------------- evaluator


def test_evaluator_matches_brute_force_and_batches():
    tolerance = 0.1
    pairs = [blobby_masks(200 + i) for i in range(4)]
    all_void = np.full((20, 24), 5, np.uint8)
    pairs.append((np.zeros((20, 24), np.uint8), all_void))  # skipped by BF, no pixels counted

    single = SegmentationEvaluator(5, 5, tolerance=tolerance)
    for prediction, target in pairs:
        single.update(prediction, target)
    batched = SegmentationEvaluator(5, 5, tolerance=tolerance)
    batched.update(np.stack([p for p, _ in pairs[:2]]), np.stack([t for _, t in pairs[:2]]))
    rest = SegmentationEvaluator(5, 5, tolerance=tolerance)
    rest.update(np.stack([p for p, _ in pairs[2:]]), np.stack([t for _, t in pairs[2:]]))
    batched += rest

    matrix = [[0] * 5 for _ in range(5)]
    image_scores, class_scores = [], {c: [] for c in range(5)}
    for prediction, target in pairs:
        for r, row in enumerate(brute_confusion(prediction, target, 5, 5)):
            for c, value in enumerate(row):
                matrix[r][c] += value
        score, per_class = brute_bf(prediction, target, 5, tolerance)
        if not math.isnan(score):
            image_scores.append(score)
            for c, value in per_class.items():
                class_scores[c].append(value)
    g, c_acc, miou = brute_scores(matrix)

    for evaluator in (single, batched):
        s = evaluator.result()
        assert evaluator.images == 5 and evaluator.bf_images == 4
        assert abs(s.global_accuracy - g) < 1e-9
        assert abs(s.class_accuracy - c_acc) < 1e-9
        assert abs(s.miou - miou) < 1e-9
        assert abs(s.bf - sum(image_scores) / len(image_scores)) < 1e-9
        for c in range(5):
            if class_scores[c]:
                assert abs(s.per_class_bf[c] - np.mean(class_scores[c])) < 1e-9
            else:
                assert np.isnan(s.per_class_bf[c])


def test_evaluator_without_bf_and_bad_batch():
    evaluator = SegmentationEvaluator(3, 3, compute_bf=False)
    target = np.array([[0, 1], [2, 3]])
    evaluator.update(target, target)
    s = evaluator.result()
    assert s.global_accuracy == 1.0 and s.miou == 1.0 and math.isnan(s.bf)
    bad = np.stack([target, target])
    bad_prediction = bad.copy()
    bad_prediction[1, 0, 0] = 5
    with pytest.raises(ValueError, match="5"):
        evaluator.update(bad_prediction, bad)
    assert evaluator.images == 1 and evaluator.confusion.total == 3
    with pytest.raises(ValueError, match="shape"):
        evaluator.update(np.zeros((1, 1, 2, 2), int), np.zeros((1, 1, 2, 2), int))


# --------------------------------------------------------------------------- output

LABELS = types.SimpleNamespace(names=("Sky", "Road", "Bicyclist"), num_classes=3, void_index=3)


def _sample_scores() -> Scores:
    cm = ConfusionMatrix(3, 3)
    cm.update(np.array([[0, 0, 1, 1]]), np.array([[0, 1, 1, 3]]))
    s = cm.scores()
    s.bf = 0.5
    s.per_class_bf = np.array([1.0, 0.25, np.nan])
    return s


def test_scores_to_json():
    data = scores_to_json(_sample_scores(), LABELS, images=1)
    assert set(data) == {"images", "global_accuracy", "class_accuracy", "miou", "bf", "per_class"}
    assert data["images"] == 1
    assert data["global_accuracy"] == pytest.approx(2 / 3)
    assert data["class_accuracy"] == pytest.approx(0.75)
    assert data["miou"] == pytest.approx(0.5)
    assert data["bf"] == 0.5
    assert data["per_class"][0] == {"name": "Sky", "accuracy": 1.0, "iou": 0.5, "bf": 1.0,
                                    "present": True}
    assert data["per_class"][2] == {"name": "Bicyclist", "accuracy": None, "iou": None,
                                    "bf": None, "present": False}
    import json
    json.dumps(data)  # plain Python types only


def test_format_scores_table():
    text = format_scores_table(_sample_scores(), LABELS, images=1)
    assert "66.67 %" in text and "75.00 %" in text and "50.00 %" in text
    lines = text.splitlines()
    bicyclist = next(line for line in lines if line.startswith("Bicyclist"))
    assert "absent" in bicyclist
    road = next(line for line in lines if line.startswith("Road"))
    assert "50.00" in road and "25.00" in road
    no_bf = _sample_scores()
    no_bf.bf = math.nan
    assert "not computed" in format_scores_table(no_bf, LABELS, images=1)
    with pytest.raises(ValueError):
        scores_to_json(_sample_scores(), types.SimpleNamespace(names=("a",)), 1)
