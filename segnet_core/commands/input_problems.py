"""What `predict` and `rank` say on stderr about inputs they could not use: "skipped" for an
input left out, and for a video that ends early (`VideoEndsEarly`) which frames could not
be read and how many before them were used.

Not a command: the commands import it, never each other.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TextIO

from segnet_core.errors import SegNetError


class InputProblems:
    """The `on_error(path, error)` of `iter_inputs` and `rank_inputs` for a command: it
    prints each problem on one line and counts the inputs `skipped` and the videos read
    `in_part`. `done` is what the command did with the frames ("ranked"); `every` is the
    step between the frames it takes of a video."""

    def __init__(self, done: str, every: int = 1, stream: TextIO | None = None):
        self.done = done
        self.every = max(1, int(every))
        self.stream = stream
        self.skipped = 0
        self.in_part = 0

    def __call__(self, path: Path | str, error: SegNetError) -> None:
        from segnet_core.io.inputs import VideoEndsEarly

        reason = getattr(error, "reason", error)
        if isinstance(error, VideoEndsEarly):
            self.in_part += 1
            used = math.ceil(error.frames_before / self.every)
            frames = f"{used} frame{'' if used == 1 else 's'}"
            taken = f" taken (every {self.every})" if self.every > 1 else ""
            it = "it" if reason.startswith("frame ") else "them"
            were = "was" if used == 1 else "were"
            line = f"{path}: {reason}; the {frames}{taken} before {it} {were} {self.done}"
        else:
            self.skipped += 1
            line = f"skipped {path}: {reason}"
        print(line, file=self.stream or sys.stderr, flush=True)

    @property
    def any(self) -> bool:
        """Whether some input was left out or read in part (the command then exits 1)."""
        return bool(self.skipped or self.in_part)
