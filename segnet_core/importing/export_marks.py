"""Which masks of a SegNet Studio export are no corrections.

An export's manifest (`manifest.json` beside its format folders) marks every item corrected
or not: a model's prediction, or propagated labels nobody accepted. Imported as they are,
those masks would come back as corrections (a user's check: 19 predictions of 23 masks did),
so `import_labels` leaves them out unless asked (`ExportMarks`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

#: The file an export writes beside its format folders, and the format it names.
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "segnet-studio-export"


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

    def uncorrected(self, stem: str) -> bool:
        return stem in self.predicted or stem in self.propagated


def export_marks(source: str | Path) -> ExportMarks:
    """The marks of the export `source` is part of: one of its format folders (or a file or
    folder in one), with the manifest in the folder above; none when there is no such
    manifest, it cannot be read, or it does not name that format folder."""
    path = Path(source).resolve()
    for folder in [path, *path.parents][:4]:
        manifest = folder.parent / MANIFEST
        if folder == folder.parent or not manifest.is_file():
            continue
        try:
            document = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return ExportMarks()
        if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT or \
                folder.name not in (document.get("formats") or []):
            continue
        items = [item for item in document.get("items") or [] if isinstance(item, dict)
                 and isinstance(item.get("name"), str) and item.get("corrected") is False
                 and item.get("status", "exported") == "exported"]  # not those skipped
        carried = {item["name"]: tuple(str(source) for source in item["carried_from"])
                   for item in document.get("items") or [] if isinstance(item, dict)
                   and isinstance(item.get("name"), str)
                   and isinstance(item.get("carried_from"), list)}
        saved = frozenset(item["name"] for item in document.get("items") or []
                          if isinstance(item, dict) and isinstance(item.get("name"), str)
                          and item.get("corrected") is True and item.get("may_score") is False
                          and item["name"] not in carried)
        aside = frozenset(item["name"] for item in document.get("items") or []
                          if isinstance(item, dict) and isinstance(item.get("name"), str)
                          and item.get("split") == "set aside")
        return ExportMarks(manifest,
                           frozenset(i["name"] for i in items if not i.get("propagated")),
                           frozenset(i["name"] for i in items if i.get("propagated")), carried,
                           saved, aside)
    return ExportMarks()
