"""Small pieces of the window's wording shared by features."""

from __future__ import annotations

from typing import Sequence

from segnet_core.wording import some_names

__all__ = ["frame_ranges", "some_names"]


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


def loading_text(name: str | None) -> str:
    """What the status bar says while model `name` loads."""
    return f"Loading model {name}..."
