"""The before / after figures of a fine-tune, as the panel's tables and the command's text show
them: one source for which figures, their labels and their rounding."""

from __future__ import annotations

from segnet_core.finetune.run import FineTuneResult

#: (label, key in a `scores_to_json` dict) of the summary rows.
SUMMARY_FIGURES = (("Global accuracy (G)", "global_accuracy"),
                   ("Class accuracy (C)", "class_accuracy"), ("mIoU", "miou"),
                   ("BF score", "bf"))
#: (label, key in a per-class entry) of the per-class columns, each shown before and after.
CLASS_FIGURES = (("IoU", "iou"), ("Acc.", "accuracy"), ("BF", "bf"))


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
    lines = [f"held-out frames: {held} ({trained} trained); figures in %"]
    lines += _columns([["", "before", "after"]]
                      + [list(row) for row in summary_rows(result.before_json,
                                                           result.after_json)])
    per_class = class_rows(result.before_json, result.after_json)
    if per_class:
        header = ["class"] + [f"{label} {when}" for label, _ in CLASS_FIGURES
                              for when in ("before", "after")]
        lines += [""] + _columns([header] + per_class)
    return "\n".join(lines)
