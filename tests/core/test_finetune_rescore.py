"""`benchmarks/finetune_loop.py --rescore`: the interval it prints around a difference of two
fine-tuning runs' lifts comes from resampling runs of neighbouring scored frames."""

import importlib.util
from pathlib import Path

import numpy as np

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "finetune_loop.py"
_spec = importlib.util.spec_from_file_location("finetune_loop", _PATH)
finetune_loop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(finetune_loop)


def _confusions(rng, frames: int, right: float) -> np.ndarray:
    """Per-frame 3-class confusions (rows: truth) with about `right` of each class right."""
    out = np.zeros((frames, 3, 3))
    for f in range(frames):
        for c in range(3):
            n = rng.integers(50, 150)
            hit = rng.binomial(n, right)
            out[f, c, c] = hit
            out[f, c, (c + 1) % 3] = n - hit
    return out


def test_block_draws_resample_runs_of_neighbouring_frames():
    draws = finetune_loop.block_draws(23, np.random.default_rng(1), draws=50, block=5)
    assert draws.shape == (50, 23)
    assert draws.min() >= 0 and draws.max() <= 22
    steps = np.diff(draws[:, :5], axis=1)  # the first run of each draw
    assert (steps == 1).all()
    assert len({tuple(row) for row in draws}) > 40  # draws differ
    short = finetune_loop.block_draws(3, np.random.default_rng(1), draws=5, block=5)
    assert short.shape == (5, 3) and (short == [0, 1, 2]).all()


def test_the_interval_holds_the_difference_and_tells_a_clear_gain_from_none():
    rng = np.random.default_rng(0)
    before = _confusions(rng, 40, 0.5)
    better = _confusions(rng, 40, 0.9)
    worse = _confusions(rng, 40, 0.6)
    draws = finetune_loop.block_draws(40, np.random.default_rng(0), draws=300)

    same, spread = finetune_loop.paired_difference((before, worse), (before, worse), draws)
    assert same == 0 and (spread == 0).all()

    gain, spread = finetune_loop.paired_difference((before, better), (before, worse), draws)
    expected = finetune_loop.lift(before, better) - finetune_loop.lift(before, worse)
    assert gain == expected > 20
    low, high = np.percentile(spread, [2.5, 97.5])
    assert 0 < low <= gain <= high


def test_the_difference_in_pixel_accuracy_counts_pixels_not_classes():
    # one frame, three classes (rows: truth): the run gets 90 more pixels of a big class
    # right, the reference the 5 wrong ones of a small class; G favours the run, mIoU the
    # reference
    before = np.array([[[900, 0, 100], [0, 5, 5], [0, 0, 1000]]], dtype=float)
    run_after = np.array([[[990, 0, 10], [0, 5, 5], [0, 0, 1000]]], dtype=float)
    reference_after = np.array([[[900, 0, 100], [0, 10, 0], [0, 0, 1000]]], dtype=float)
    draws = np.zeros((3, 1), dtype=int)
    g, _ = finetune_loop.paired_difference((before, run_after), (before, reference_after), draws,
                                           "global_accuracy")
    assert np.isclose(g, 100 * (1995 - 1910) / 2010)
    miou, _ = finetune_loop.paired_difference((before, run_after), (before, reference_after),
                                              draws)
    assert miou < 0


def test_rescore_compares_with_the_run_named(tmp_path, capsys):
    """Saved runs are scored on the frames none picked, and each is set against the first
    evenly spaced run, or against the run `--against` names."""
    rng = np.random.default_rng(2)
    before = _confusions(rng, 6, 0.5)
    for name, corrected, right in [("even-shipped", [1], 0.7), ("plan-shipped", [2], 0.9),
                                   ("rounds-shipped", [3], 0.8)]:
        scored = [i for i in range(6) if i != corrected[0]]
        np.savez(tmp_path / f"0006R0-k1-{name}.npz", scored=np.array(scored),
                 corrected=np.array(corrected), before=before[scored],
                 after=_confusions(rng, 5, right))
    def differences(**against):
        capsys.readouterr()
        assert finetune_loop.rescore([tmp_path], **against) == 0
        rows = [line.split("|") for line in capsys.readouterr().out.splitlines()
                if line.count("|") == 10 and "difference" not in line and "---" not in line]
        return {row[4].strip(): (row[5].strip(), float(row[6])) for row in rows}
    default = differences()
    assert set(default) == {"plan-shipped", "rounds-shipped"}
    assert all(reference == "even-shipped" for reference, _ in default.values())
    assert default["plan-shipped"][1] > default["rounds-shipped"][1] > 0
    named = differences(against="plan-shipped")
    assert set(named) == {"even-shipped", "rounds-shipped"}
    assert named["even-shipped"][1] < named["rounds-shipped"][1] < 0
