"""`ExportResult`: what an export wrote, and the summary the command and the window show."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: How many names of items left out of a format the summary shows (per note).
LEFT_OUT_NAMES = 5


@dataclass
class ExportResult:
    """What an export wrote. `files` lists every written file (the manifest last, when one
    was written); `skipped` holds (item name, reason) for items left out."""

    out_dir: Path
    formats: list[str]
    files: list[Path]
    total: int
    exported: int
    corrected: int
    predicted: int
    propagated: int = 0  # propagated labels not accepted yet
    skipped: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    manifest: Path | None = None
    split_counts: dict[str, int] = field(default_factory=dict)
    split_among_corrected: bool = False  # val and test hold corrected masks only
    set_aside: int = 0  # neighbours of val / test frames whose masks may not score: not written
    empty_splits: list[str] = field(default_factory=list)  # asked for, given no item
    #: (item name, format, why): items exported, but left out of a format that cannot hold
    #: them (a name with a space in CamVid's list files); the other formats hold them
    left_out: list[tuple[str, str, str]] = field(default_factory=list)
    #: files an earlier export into the folder wrote that this one did not: removed
    removed_earlier: int = 0

    def removed_note(self) -> str:
        """"; removed the 7 files of an earlier export here that this one did not write"
        ("" when none)."""
        return (f"; removed the {self.removed_earlier} file(s) of an earlier export here that "
                "this one did not write" if self.removed_earlier else "")

    @property
    def written(self) -> int:
        """How many files the formats wrote (the manifest not counted)."""
        return len([path for path in self.files if path != self.manifest])

    def kinds(self) -> str:
        """"3 corrected, 2 propagated not accepted, 1 predicted" (propagated only when any)."""
        propagated = f"{self.propagated} propagated not accepted, " if self.propagated else ""
        return f"{self.corrected} corrected, {propagated}{self.predicted} predicted"

    def summary(self) -> str:
        skipped = f", skipped {len(self.skipped)}" if self.skipped else ""
        sizes = f" ({self.split_sizes()})" if self.split_counts else ""
        return (f"exported {self.exported} of {self.total} items ({self.kinds()}) as "
                f"{', '.join(self.formats)}: {self.written} files and the manifest in "
                f"{self.out_dir}{skipped}{sizes}{self.removed_note()}{self.left_out_notes()}"
                f"{self.split_notes()}"
                + (" -- cancelled" if self.cancelled else ""))

    def left_out_notes(self) -> str:
        """"; 'a b' left out of camvid/ only (why), every other format holds it" for the
        items left out of some formats ("" when none), a few names at most per note."""
        formats: dict[str, list[str]] = {}
        reasons: dict[str, list[str]] = {}
        for name, fmt, reason in self.left_out:
            formats.setdefault(name, []).append(fmt)
            reasons.setdefault(name, []).append(reason)
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
        for name, fmts in formats.items():
            groups.setdefault((tuple(fmts), tuple(reasons[name])), []).append(name)
        text = ""
        for (fmts, why), names in groups.items():
            shown = ", ".join(repr(name) for name in names[:LEFT_OUT_NAMES])
            if len(names) > LEFT_OUT_NAMES:
                shown += f" and {len(names) - LEFT_OUT_NAMES} more"
            where = " and ".join(f"{fmt}/" for fmt in fmts)
            why = tuple(dict.fromkeys(why))  # one reason said once
            text += (f"; {shown} left out of {where} only ({'; '.join(why)}), every other "
                     f"format holds {'it' if len(names) == 1 else 'them'}")
        return text

    def split_sizes(self) -> str:
        """"train 20, val 1, test 1": the items each split got ("" without a split)."""
        return ", ".join(f"{name} {count}" for name, count in self.split_counts.items())

    def split_notes(self) -> str:
        """What a user needs to know of the split beside its counts ("" when nothing): that
        val and test hold corrected masks only, and which split asked for got nothing."""
        text = ""
        if self.split_among_corrected:
            text += ("; val and test hold only corrections of a person's own (not predictions, "
                     "propagated labels or labels saved as predicted), the others train")
            if self.set_aside:
                text += (f"; {self.set_aside} other mask(s) beside val or test frames left out "
                         "of the split layouts (in train, a nearly identical image would "
                         "flatter a model)")
        if self.empty_splits and not self.cancelled:
            few = ("of the corrections that may go there" if self.split_among_corrected
                   else "frames")
            text += (f"; no item in {' or '.join(self.empty_splits)}: too few {few} for the "
                     "fractions, or they are neighbours kept together")
        return text
