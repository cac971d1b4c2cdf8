"""`benchmarks/confidence_temperature.py`: the estimate bent by a temperature and a partial
undoing of the class weights, and the leave-one-drive-out choice among them."""

import importlib.util
from pathlib import Path

import numpy as np
import torch

from segnet_core.inference.images import class_weight_inverses, unweighted_confidence

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "confidence_temperature.py"
_spec = importlib.util.spec_from_file_location("confidence_temperature", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_the_grid_holds_the_plain_and_the_shipped_confidence():
    torch.manual_seed(0)
    logits = torch.randn(1, 4, 6, 7) * 2
    weights = torch.tensor([0.2, 1.0, 4.0, 6.0])
    probabilities = torch.softmax(logits, dim=1)
    top, labels = probabilities.max(dim=1)
    table = bench.label_confidences(logits, labels, weights)
    t1 = bench.TEMPERATURES.index(1.0)
    shipped = unweighted_confidence(probabilities, labels, class_weight_inverses(weights.tolist()))
    assert np.isclose(table[t1, bench.POWERS.index(1.0)], shipped.mean().item(), atol=1e-6)
    assert np.isclose(table[t1, bench.POWERS.index(0.0)], top.mean().item(), atol=1e-6)
    # a hotter softmax is less sure of its own top label
    assert table[bench.TEMPERATURES.index(2.0), 0] < table[t1, 0] < \
        table[bench.TEMPERATURES.index(0.7), 0]


def test_leave_one_drive_out_never_looks_at_the_drive_it_scores():
    accuracy = np.random.default_rng(0).uniform(0.5, 0.9, 40)
    shape = (len(bench.TEMPERATURES), len(bench.POWERS))
    good, odd = (1, 2), (5, 6)

    def drive(best):
        tables = np.full((40,) + shape, 0.1)
        tables[:, best[0], best[1]] = accuracy  # exact in this cell only
        return accuracy, tables

    measured = {"a": drive(good), "b": drive(odd)}
    # each drive's choice is made on the other alone (with its own frames too, the two
    # cells would tie exactly and the first would win for both)
    assert bench.leave_one_drive_out(measured) == {"a": odd, "b": good}
    assert bench.score(accuracy, measured["b"][1][:, odd[0], odd[1]]) == (1.0, 0.0)
