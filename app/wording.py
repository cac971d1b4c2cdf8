"""Small pieces of the window's wording shared by features."""

from __future__ import annotations

from typing import Sequence


def some_names(names: Sequence[str], at_most: int = 3) -> str:
    """Names for a sentence, the first few and how many more: "a.png, b.png and 4 more"."""
    if len(names) <= at_most:
        return ", ".join(names)
    return f"{', '.join(names[:at_most])} and {len(names) - at_most} more"


def frame_ranges(indices: Sequence[int], at_most: int = 3) -> str:
    """A video's frames by index (from 0) as the window numbers them (from 1), in runs:
    "3, 7-9, 22-40", the first few runs and how many more."""
    runs: list[list[int]] = []
    for index in sorted(set(indices)):
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return some_names([f"{a + 1}" if a == b else f"{a + 1}-{b + 1}" for a, b in runs], at_most)
