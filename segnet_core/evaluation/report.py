"""Scores (`segnet_core.evaluation.Scores`) for people and programs: a JSON-ready dict in
fractions, and a plain-text table in percent."""

from __future__ import annotations

import math

from segnet_core.evaluation.confusion import Scores

__all__ = ["scores_to_json", "format_scores_table"]


def _fraction(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _class_names(scores: Scores, label_set) -> list[str]:
    names = list(label_set.names)
    if len(names) != scores.num_classes:
        raise ValueError(f"the label set has {len(names)} classes but the scores have "
                         f"{scores.num_classes}")
    return names


def scores_to_json(scores: Scores, label_set, images: int) -> dict:
    """A JSON-ready dict; values are fractions in [0, 1], None where undefined or absent."""
    names = _class_names(scores, label_set)
    per_class = []
    for c, name in enumerate(names):
        per_class.append({
            "name": name,
            "accuracy": _fraction(scores.per_class_accuracy[c]),
            "iou": _fraction(scores.per_class_iou[c]),
            "bf": _fraction(scores.per_class_bf[c]),
            "present": bool(scores.present[c]),
        })
    return {
        "images": int(images),
        "global_accuracy": _fraction(scores.global_accuracy),
        "class_accuracy": _fraction(scores.class_accuracy),
        "miou": _fraction(scores.miou),
        "bf": _fraction(scores.bf),
        "per_class": per_class,
    }


def _percent(value, width: int = 8, missing: str = "-") -> str:
    value = float(value)
    text = missing if math.isnan(value) else f"{100.0 * value:.2f}"
    return text.rjust(width)


def format_scores_table(scores: Scores, label_set, images: int) -> str:
    """A plain-text report in percent: G, C, mIoU, BF, then one row per class.

    A class absent from both ground truth and prediction is shown as "absent"; "-" marks a
    value that is undefined (accuracy of a class only predicted) or not computed (BF).
    """
    names = _class_names(scores, label_set)
    bf_text = ("not computed" if math.isnan(float(scores.bf))
               else f"{100.0 * scores.bf:.2f} %")

    def summary(label: str, value: float) -> str:
        text = "-" if math.isnan(float(value)) else f"{100.0 * value:.2f} %"
        return f"{label:<28}{text}"

    lines = [
        f"Images evaluated: {int(images)}",
        summary("G    global accuracy", scores.global_accuracy),
        summary("C    class accuracy", scores.class_accuracy),
        summary("mIoU mean IoU", scores.miou),
        f"{'BF   boundary F1':<28}{bf_text}",
        "",
    ]
    name_width = max([len("class")] + [len(n) for n in names]) + 2
    lines.append(f"{'class':<{name_width}}{'accuracy':>10}{'IoU':>10}{'BF':>10}")
    for c, name in enumerate(names):
        if not scores.present[c]:
            lines.append(f"{name:<{name_width}}{'absent':>10}")
            continue
        lines.append(f"{name:<{name_width}}{_percent(scores.per_class_accuracy[c], 10)}"
                     f"{_percent(scores.per_class_iou[c], 10)}"
                     f"{_percent(scores.per_class_bf[c], 10)}")
    return "\n".join(lines)

