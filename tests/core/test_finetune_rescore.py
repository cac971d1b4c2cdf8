"""`benchmarks/finetune_loop.py`: `--rescore` sets saved fine-tuning runs against a reference
run, with an interval from resampling runs of neighbouring scored frames; `plan-rounds`
plans each of its two rounds whole, with a fine-tune between."""

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


def _save_runs(folder: Path, drive: str, runs, rng) -> None:
    """Saved runs of one drive (k = 1, six frames): (name, the frame given, share right after)."""
    folder.mkdir(exist_ok=True)
    before = _confusions(rng, 6, 0.5)
    for name, corrected, right in runs:
        scored = [i for i in range(6) if i != corrected]
        np.savez(folder / f"{drive}-k1-{name}.npz", scored=np.array(scored),
                 corrected=np.array([corrected]), before=before[scored],
                 after=_confusions(rng, 5, right))


def _differences(folders, capsys, **against):
    """The rows of the difference table: run -> (the run it is set against, difference),
    per folder; and the code `rescore` returned, and what it printed."""
    capsys.readouterr()
    code = finetune_loop.rescore(folders, **against)
    out = capsys.readouterr().out
    rows = [line.split("|") for line in out.splitlines()
            if line.count("|") == 10 and "difference" not in line and "---" not in line]
    table = {}
    for row in rows:
        table.setdefault(row[1].strip(), {})[row[4].strip()] = (row[5].strip(), float(row[6]))
    return table, code, out


def test_rescore_compares_with_the_run_named(tmp_path, capsys):
    """Saved runs are scored on the frames none picked, and each is set against the evenly
    spaced run in the middle of each stretch (not a shifted one, whatever the names sort), or
    against the run `--against` names; a folder without that run is named, not averaged in."""
    rng = np.random.default_rng(2)
    one, two = tmp_path / "one", tmp_path / "two"
    _save_runs(one, "0006R0", [("even-early-shipped", 0, 0.6), ("even-shipped", 1, 0.7),
                               ("plan-shipped", 2, 0.9), ("rounds-shipped", 3, 0.8)], rng)
    _save_runs(two, "0001TP", [("even-shipped", 1, 0.7), ("rounds-shipped", 3, 0.8)], rng)

    default, code, out = _differences([one, two], capsys)
    assert code == 0 and set(default) == {"mean of 2", str(one), str(two)}
    assert set(default[str(one)]) == {"even-early-shipped", "plan-shipped", "rounds-shipped"}
    assert all(reference == "even-shipped" for reference, _ in default[str(one)].values())
    assert default[str(one)]["plan-shipped"][1] > default[str(one)]["rounds-shipped"][1] > 0
    mean = (default[str(one)]["rounds-shipped"][1] + default[str(two)]["rounds-shipped"][1]) / 2
    assert np.isclose(default["mean of 2"]["rounds-shipped"][1], mean, atol=0.01)

    named, code, out = _differences([one, two], capsys, against="plan-shipped")
    assert code == 0 and set(named) == {str(one)}  # no mean over one folder
    assert set(named[str(one)]) == {"even-early-shipped", "even-shipped", "rounds-shipped"}
    assert named[str(one)]["even-shipped"][1] < named[str(one)]["rounds-shipped"][1] < 0
    assert f"not compared (no plan-shipped saved): {two} 0001TP 1" in out

    _, code, out = _differences([one, two], capsys, against="plan-shiped")
    assert code == 1 and "not compared" in out


def test_plan_rounds_fine_tune_between_the_rounds_and_plan_each_whole(monkeypatch):
    """`--choose plan-rounds`: k // 2 frames planned on the base's estimates, a fine-tune on
    them, the other k - k // 2 planned together on the fine-tuned model's estimates (odd k
    too); with k = 1 there is no second round and nothing is fine-tuned."""
    from types import SimpleNamespace

    from segnet_core.frame_order import plan_picks

    n = 60
    base_estimates = np.full(n, 0.8)
    tuned_estimates = np.where(np.arange(n) < 20, 0.3, 0.95)  # the tuned model doubts 0-19
    tuned = []
    monkeypatch.setattr(finetune_loop, "run_finetune", lambda checkpoint, frames, *a, **k: (
        tuned.append(len(frames)) or SimpleNamespace(checkpoint="tuned")))
    monkeypatch.setattr(finetune_loop, "base_estimates", lambda checkpoint, *a, **k: (
        list(tuned_estimates), None, list(tuned_estimates), None, None))
    frames = [(np.zeros((2, 2, 3)), None)] * n
    base = (list(base_estimates), None, list(base_estimates), None, None)

    picks = finetune_loop.picks_in_rounds("base", frames, None, 7, base)
    assert tuned == [3] and len(set(picks)) == 7
    first = sorted(plan_picks(base_estimates, count=3))
    assert set(first) <= set(picks)
    second = sorted(set(picks) - set(first))
    assert second == sorted(plan_picks(tuned_estimates, corrected=first, count=4))
    assert sum(i < 20 for i in second) >= 2  # pulled to where the tuned model doubts

    tuned.clear()
    assert len(finetune_loop.picks_in_rounds("base", frames, None, 1, base)) == 1
    assert tuned == []
