"""The before / after figures of a fine-tune, as the panel's tables and the command's text show
them: one source for which figures, their labels and their rounding."""

from __future__ import annotations

from segnet_core.choices import Choice
from segnet_core.finetune.run import FineTuneResult

#: (label, key in a `scores_to_json` dict) of the summary rows.
SUMMARY_FIGURES = (("Global accuracy (G)", "global_accuracy"),
                   ("Class accuracy (C)", "class_accuracy"), ("mIoU", "miou"),
                   ("BF score", "bf"))
#: (label, key in a per-class entry) of the per-class columns, each shown before and after.
CLASS_FIGURES = (("IoU", "iou"), ("Acc.", "accuracy"), ("BF", "bf"))


#: Below this many held-out frames the before / after figures are called rough.
FEW_HELD_OUT = 3


class Verdict(Choice):
    """How a fine-tuned model did on the held-out frames against the model it started from,
    by mIoU and global pixel accuracy (G) together, as shown (to 0.1 point): on a frame or
    two a few stray pixels of a class the frames do not show count in mIoU as a whole class
    scored 0, so mIoU alone can call a model that gets more pixels right worse."""

    BETTER = "better"  # one rose, neither fell
    WORSE = "worse"  # one fell, neither rose
    MIXED = "mixed"  # one rose, the other fell
    SAME = "same"  # neither moved


#: (key in a `scores_to_json` dict, the name the verdict gives it)
VERDICT_FIGURES = (("miou", "mIoU"), ("global_accuracy", "G"))


def _moves(before: dict | None, after: dict | None) -> dict[str, int] | None:
    """Per `VERDICT_FIGURES` name, +1 / 0 / -1 as the figure rose, held or fell as shown (to
    0.1 point); None when either figure is missing."""
    moves = {}
    for key, name in VERDICT_FIGURES:
        old, new = (before or {}).get(key), (after or {}).get(key)
        if old is None or new is None:
            return None
        old, new = round(100.0 * float(old), 1), round(100.0 * float(new), 1)
        moves[name] = (new > old) - (new < old)
    return moves


def verdict(before: dict | None, after: dict | None) -> Verdict | None:
    """The verdict from two `scores_to_json` dicts; None when either figure is missing."""
    moves = _moves(before, after)
    if moves is None:
        return None
    rose, fell = 1 in moves.values(), -1 in moves.values()
    if rose and fell:
        return Verdict.MIXED
    return Verdict.BETTER if rose else Verdict.WORSE if fell else Verdict.SAME


def _shown(value: float | None) -> str:
    """A figure in a sentence: percent with one decimal, "?" when unknown."""
    return "?" if value is None else percent(value)


def headline(before: dict | None, after: dict | None, held: int,
             drift: float | None = None) -> str:
    """One sentence of the figures and the verdict, as the panel and the command say it:
    mIoU and global pixel accuracy (G) before -> after on `held` held-out frames, the drift
    (the share of the uncorrected frames' pixels whose class changed) when measured."""
    said_drift = "" if drift is None else f"; drift {100.0 * drift:.1f} %"
    if not held:
        return "No held-out frames: no before / after figures" + said_drift
    figures = ", ".join(f"{name} {_shown((before or {}).get(key))} -> "
                        f"{_shown((after or {}).get(key))} %" for key, name in VERDICT_FIGURES)
    text = f"{figures} on {held} held-out frame(s)"
    if held < FEW_HELD_OUT:
        text += " (rough: so few frames)"
    text += said_drift
    judged = verdict(before, after)
    if judged == Verdict.MIXED:
        moves = _moves(before, after)
        rose = next(name for name, move in moves.items() if move > 0)
        fell = next(name for name, move in moves.items() if move < 0)
        return text + f". Mixed: {rose} rose, {fell} fell"
    return text + {Verdict.WORSE: ". The new model scores WORSE than the current one on the "
                                  "held-out frames",
                   Verdict.BETTER: ". The new model scores better",
                   Verdict.SAME: ". No change"}.get(judged, "")


def version_figures(version, mark: bool = True) -> str:
    """A saved version's held-out figures in a line, e.g. "mIoU 63.2 -> 60.3, G 90.4 -> 87.0
    (worse)": G when its index has it; with `mark`, the verdict when worse or mixed."""
    before, after = version.held_out_figures()
    parts = [f"{name} {_shown(before[key])} -> {_shown(after[key])}"
             for key, name in VERDICT_FIGURES if after[key] is not None]
    judged = verdict(before, after)
    said = f" ({judged})" if mark and judged in (Verdict.WORSE, Verdict.MIXED) else ""
    return ", ".join(parts) + said


def percent(value: float | None) -> str:
    """A fraction as the tables show it: percent with one decimal, "-" when undefined."""
    return "-" if value is None else f"{100.0 * float(value):.1f}"


def summary_rows(before: dict | None, after: dict | None) -> list[tuple[str, str, str]]:
    """(label, before, after) per summary figure, from `scores_to_json` dicts (or None)."""
    return [(label, percent((before or {}).get(key)), percent((after or {}).get(key)))
            for label, key in SUMMARY_FIGURES]


def class_rows(before: dict | None, after: dict | None) -> list[list[str]]:
    """[class name, then before and after of each `CLASS_FIGURES`] per class."""
    classes = (after or before or {}).get("per_class", [])
    old_classes = (before or {}).get("per_class", [])
    new_classes = (after or {}).get("per_class", [])
    rows = []
    for index, entry in enumerate(classes):
        old = old_classes[index] if index < len(old_classes) else {}
        new = new_classes[index] if index < len(new_classes) else {}
        row = [entry["name"]]
        for _label, key in CLASS_FIGURES:
            row += [percent(old.get(key)), percent(new.get(key))]
        rows.append(row)
    return rows


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) if c == 0 else cell.rjust(w)
                      for c, (cell, w) in enumerate(zip(row, widths))).rstrip()
            for row in rows]


def before_after_table(result: FineTuneResult) -> str:
    """The figures the panel shows after a run, as text: how many frames they rest on, the
    summary and the per-class scores (percent)."""
    held, trained = len(result.held_out_indices), len(result.train_indices)
    if not held:
        return (f"{trained} frame(s) trained, none held out: no before / after figures "
                "(hold out a share of the corrected frames to measure)")
    drift = (result.checkpoint.training.get("fine_tune", {}).get("drift")
             if result.checkpoint is not None else None)
    lines = [headline(result.before_json, result.after_json, held, drift) + ".",
             f"held-out frames: {held} ({trained} trained); figures in %"]
    lines += _columns([["", "before", "after"]]
                      + [list(row) for row in summary_rows(result.before_json,
                                                           result.after_json)])
    per_class = class_rows(result.before_json, result.after_json)
    if per_class:
        header = ["class"] + [f"{label} {when}" for label, _ in CLASS_FIGURES
                              for when in ("before", "after")]
        lines += [""] + _columns([header] + per_class)
    return "\n".join(lines)
