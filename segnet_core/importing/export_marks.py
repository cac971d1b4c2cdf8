"""Which masks of a SegNet Studio export are no corrections.

An export's manifest (`manifest.json` beside its format folders) marks every item corrected
or not: a model's prediction, or propagated labels nobody accepted. Imported as they are,
those masks would come back as corrections (a user's check: 19 predictions of 23 masks did),
so `import_labels` leaves them out unless asked (`ExportMarks`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from segnet_core.export import EARLIER_FILES, MANIFEST, MANIFEST_FORMAT, SET_ASIDE


@dataclass(frozen=True)
class ExportMarks:
    """The stems of the masks an export's manifest marks as not corrected; `manifest` is the
    file read (None: the source is not in an export's format folder)."""

    manifest: Path | None = None
    predicted: frozenset[str] = frozenset()
    propagated: frozenset[str] = frozenset()
    #: corrections whose labels a propagation carried from other items (stem -> stems):
    #: imported, they are noted in `propagated_from.txt` again, so they stay no evidence
    carried_from: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: corrections saved as a model's prediction taken as it is (`"may_score": false`, not
    #: carried): imported, they are listed in `as_predicted.txt` again
    saved_as_predicted: frozenset[str] = frozenset()
    #: items the export set aside from its split layouts (beside a val or test frame): not
    #: in a CamVid or VOC folder, though written in the export's other formats
    set_aside: frozenset[str] = frozenset()
    #: masks an earlier export into the folder left there, which this one (cancelled or
    #: failed) did not write again: what they are is not known here, so not corrections
    earlier: frozenset[str] = frozenset()

    def uncorrected(self, stem: str) -> bool:
        return stem in self.predicted or stem in self.propagated or stem in self.earlier


def export_marks(source: str | Path) -> ExportMarks:
    """The marks of the export `source` is part of: one of its format folders (or a file or
    folder in one), with the manifest in the folder above; none when there is no such
    manifest, it cannot be read, or it does not name that format folder."""
    found = _export_of(source)
    if found is None:
        return ExportMarks()
    manifest, fmt, document = found
    marks = _marks(manifest, [item for item in document.get("items") or []
                              if isinstance(item, dict) and isinstance(item.get("name"), str)])
    earlier = {Path(path).stem for path in document.get(EARLIER_FILES) or []
               if isinstance(path, str) and Path(path).parts[:1] == (fmt,)}
    return replace(marks, earlier=frozenset(earlier)) if earlier else marks


def export_format_of(source: str | Path) -> str | None:
    """The export format whose folder `source` is (or is in), as the export's manifest names
    it ("overlay", "color"...); None when `source` is not in an export."""
    found = _export_of(source)
    return None if found is None else found[1]


def _export_of(source: str | Path) -> tuple[Path, str, dict] | None:
    """(the manifest, the format folder's name, the manifest's document) of the export
    `source` is part of; None when there is none, or its manifest cannot be read."""
    path = Path(source).resolve()
    for folder in [path, *path.parents][:4]:
        manifest = folder.parent / MANIFEST
        if folder == folder.parent or not manifest.is_file():
            continue
        try:
            document = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT or \
                folder.name not in (document.get("formats") or []):
            continue
        return manifest, folder.name, document
    return None


def _marks(manifest: Path, items: list[dict]) -> ExportMarks:
    """The marks of a manifest's item records (each with a name)."""
    predicted, propagated, saved, aside = set(), set(), set(), set()
    carried: dict[str, tuple[str, ...]] = {}
    for item in items:
        name = item["name"]
        if isinstance(item.get("carried_from"), list):
            carried[name] = tuple(str(source) for source in item["carried_from"])
        if item.get("corrected") is False and item.get("status", "exported") == "exported":
            (propagated if item.get("propagated") else predicted).add(name)  # not skipped
        elif item.get("corrected") is True and item.get("may_score") is False and \
                name not in carried:
            saved.add(name)
        if item.get("split") == SET_ASIDE:
            aside.add(name)
    return ExportMarks(manifest, frozenset(predicted), frozenset(propagated), carried,
                       frozenset(saved), frozenset(aside))
