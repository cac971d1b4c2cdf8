"""Small pieces of wording shared by the library's messages and the window's."""

from __future__ import annotations

from typing import Sequence


def some_names(names: Sequence[str], at_most: int = 3) -> str:
    """Names for a sentence, the first few and how many more: "a.png, b.png and 4 more"."""
    if len(names) <= at_most:
        return ", ".join(names)
    return f"{', '.join(names[:at_most])} and {len(names) - at_most} more"
