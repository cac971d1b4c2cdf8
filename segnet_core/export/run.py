"""`export_masks`: run the chosen formats over the items, with progress, cancel and a
manifest; and one function per format for writing a single format into a folder."""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from segnet_core.atomic import atomic_write_bytes, cannot_write_in
from segnet_core.errors import DataError, ExportError, SegNetError
from segnet_core.labels import LabelSet
from segnet_core.masks.labels_folder import frame_name
from segnet_core.events import CancelToken, CountProgress

from .coco import COCO_SEGMENTATIONS, CONNECTIVITY, CocoExporter
from .images import (ColorExporter, IndexExporter, OverlayExporter, PerClassExporter,
                     VideoExporter)
from .items import ExportItem, carried_links, check_name, split_keys
from .layouts import (SET_ASIDE, SPLIT_NAMES, CamVidExporter, VocExporter, assign_splits,
                      check_split)
from .output import Exporter, ExportOptions, FileLog, Output, disk_errors
from .result import ExportResult

EXPORTERS: dict[str, type[Exporter]] = {
    cls.format: cls for cls in (IndexExporter, ColorExporter, PerClassExporter, OverlayExporter,
                                VideoExporter, CamVidExporter, VocExporter, CocoExporter)
}
#: Format names, in the order `export_masks` writes them.
FORMATS: tuple[str, ...] = tuple(EXPORTERS)
MANIFEST = "manifest.json"
#: The manifest's "format": what an importer looks for (`importing.export_marks`).
MANIFEST_FORMAT = "segnet-studio-export"

ErrorHandler = Callable[[ExportItem, SegNetError], None]


def _check_formats(formats: Sequence[str]) -> list[str]:
    if isinstance(formats, str):
        formats = [formats]
    chosen = list(dict.fromkeys(formats))
    if not chosen:
        raise ValueError("no export format given")
    unknown = [f for f in chosen if f not in EXPORTERS]
    if unknown:
        raise ValueError(f"unknown export format {unknown[0]!r}; use {', '.join(FORMATS)}")
    return chosen


def _check_options(alpha: float, fps: float | None, min_area: int = 0,
                   coco_segmentation: str = "polygons") -> ExportOptions:
    if coco_segmentation not in COCO_SEGMENTATIONS:
        raise ValueError(f"coco_segmentation must be one of {COCO_SEGMENTATIONS}, "
                         f"got {coco_segmentation!r}")
    if int(min_area) != min_area or min_area < 0:
        raise ValueError(f"min_area must be a whole number >= 0, got {min_area}")
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if fps is not None and not (math.isfinite(float(fps)) and float(fps) > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    return ExportOptions(alpha=float(alpha), fps=None if fps is None else float(fps),
                         min_area=int(min_area), coco_segmentation=coco_segmentation)


#: Why an item is set aside (`layouts.SET_ASIDE`).
ASIDE_REASON = "a neighbour of a val or test frame, and its mask may not score a model"


class _Run:
    """One pass over the items for a set of exporters (each with its own folder)."""

    def __init__(self, items: Sequence[ExportItem], roots: dict[str, Path], label_set: LabelSet,
                 options: ExportOptions, split: Sequence[float] | None, seed: int):
        self.items = items
        self.label_set = label_set
        self.log = FileLog()
        self.exporters = [EXPORTERS[fmt](Output(root, fmt, self.log), label_set, options)
                          for fmt, root in roots.items()]
        #: per item, {format: why} for the formats that cannot hold it (left out of those only)
        self.refusals = [self._refusals(item) for item in items]
        if not any(e.uses_split for e in self.exporters):
            split = None  # no format writes one (index, colour, COCO, video...)
        self.split = split
        #: val and test were drawn from the items that may score a model (the others train)
        self.among_corrected = False
        self.splits = self._splits(split, seed) if split is not None else None
        self.records: list[dict[str, Any]] = []
        self.skipped: list[tuple[str, str]] = []
        self.exported = self.corrected = self.propagated = self.set_aside = 0
        self.cancelled = False

    def _refusals(self, item: object) -> dict[str, str]:
        if not isinstance(item, ExportItem):
            return {}  # refused with a TypeError when reached
        try:
            check_name(item.name)
        except SegNetError:
            return {}  # skipped (or raised) when reached, in every format
        return {e.format: why for e in self.exporters if (why := e.refusal(item))}

    def _splits(self, split: Sequence[float], seed: int) -> list[str | None]:
        """Each item's split, drawn among the items a split layout holds (None elsewhere),
        so the fractions are of what the layouts get."""
        held = [i for i, refused in enumerate(self.refusals)
                if any(e.uses_split and e.format not in refused for e in self.exporters)]
        items = [self.items[i] for i in held]
        # with nothing corrected (predictions only), all are split as they are
        corrected = any(isinstance(item, ExportItem) and item.corrected for item in items)
        checked = ([isinstance(item, ExportItem) and item.may_score for item in items]
                   if corrected else None)
        self.among_corrected = checked is not None and sum(checked) < len(items)
        drawn = assign_splits(len(items), split, seed, split_keys(items), checked=checked,
                              links=carried_links(items))
        splits: list[str | None] = [None] * len(self.items)
        for i, name in zip(held, drawn):
            splits[i] = name
        return splits

    def left_out(self) -> list[tuple[str, str, str]]:
        """(item name, format, why) for the exported items some formats could not hold."""
        return [(record["name"], fmt, why) for record in self.records
                for fmt, why in record.get("left_out_of", {}).items()]

    def _record(self, item: ExportItem, split: str | None, status: str, reason: str = "",
                left_out: dict[str, str] | None = None):
        # named and numbered as `rank --json` does (a user's check: "frame" was the index)
        frame = None if item.source is None else frame_name(item.source, item.frame)
        record = {"name": item.name, "source": None if item.source is None else str(item.source),
                  "frame": frame, "index": item.frame, "corrected": bool(item.corrected),
                  "propagated": bool(item.propagated), "status": status}
        # whether it may score a model: not a prediction, propagated labels, labels carried
        # by a propagation or saved as predicted
        record["may_score"] = item.may_score
        if item.carried_from:
            record["carried_from"] = list(item.carried_from)
        if split is not None:
            record["split"] = split
        if reason:
            record["reason"] = reason
        if left_out:
            record["left_out_of"] = dict(left_out)  # {format: why}: the others hold it
        self.records.append(record)

    def run(self, progress: CountProgress | None, cancel: CancelToken | None,
            on_error: ErrorHandler | None) -> None:
        n = len(self.items)
        seen: dict[str, int] = {}
        if progress:
            progress(0, n)
        try:
            for i, item in enumerate(self.items):
                if cancel is not None and cancel.cancelled:
                    self.cancelled = True
                    break
                split = self.splits[i] if self.splits is not None else None
                if not isinstance(item, ExportItem):
                    raise TypeError(f"export item {i} is a {type(item).__name__}, "
                                    "not an ExportItem")
                aside = split == SET_ASIDE
                refused = self.refusals[i]
                writers = [e for e in self.exporters
                           if e.format not in refused and not (aside and e.uses_split)]
                if aside:
                    self.set_aside += 1
                    split = None  # in the formats without a split it is written as usual
                if not writers and len(refused) < len(self.exporters):
                    self._record(item, None, "set aside", ASIDE_REASON)
                    if progress:
                        progress(i + 1, n)
                    continue
                try:
                    if not writers:  # no chosen format can hold it
                        why = "; ".join(dict.fromkeys(refused.values()))
                        raise SegNetError(f"{item.name!r} fits none of the formats chosen "
                                          f"({', '.join(refused)}): {why}")
                    mask, image = self._load(item, seen, i,
                                             any(e.needs_image for e in writers))
                except ExportError:
                    raise
                except SegNetError as error:
                    item.release()
                    if on_error is None:
                        raise
                    self.skipped.append((str(item.name), str(error)))
                    self._record(item, split, "skipped", str(error))
                    on_error(item, error)
                else:
                    for exporter in writers:
                        exporter.add(item, mask, image, split)
                    item.release()
                    self.exported += 1
                    self.corrected += bool(item.corrected)
                    self.propagated += bool(item.propagated)
                    self._record(item, SET_ASIDE if aside else split, "exported",
                                 ASIDE_REASON + ", left out of the split layouts" if aside
                                 else "", refused)
                if progress:
                    progress(i + 1, n)
            for exporter in self.exporters:
                exporter.finish()
        except BaseException:
            for exporter in self.exporters:
                exporter.abort()
            raise

    def _load(self, item: ExportItem, seen: dict[str, int], index: int, needs_image: bool):
        name = check_name(item.name)
        key = name.casefold()  # names differing only by case collide on some file systems
        if key in seen:
            raise SegNetError(f"{name!r}: item {seen[key]} has the same name; every file "
                              "written for an item is named after it")
        mask = item.load_mask(self.label_set)
        image = item.load_image() if needs_image else None
        size = image.shape[:2] if image is not None else item.known_size()
        if size is not None and tuple(size) != mask.shape:
            item.release()
            where = f"frame {item.frame}: " if item.frame is not None else ""
            raise DataError(item.where, (
                f"{where}mask of {name!r} is {mask.shape[0]}x{mask.shape[1]} (height x "
                f"width) but its image is {size[0]}x{size[1]}"))
        seen[key] = index
        return mask, image


def _manifest(run: _Run, out_dir: Path, formats: list[str], status: str,
              split: tuple[float, ...] | None, seed: int, error: str | None) -> dict[str, Any]:
    files = []
    for path, info in run.log.entries:
        try:
            relative = path.relative_to(out_dir).as_posix()
        except ValueError:
            relative = str(path)
        files.append({"path": relative, **info})
    split_counts = _split_counts(run)
    document: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "version": 2,  # 2: each item's "frame" is its name, "index" the frame's index
        "status": status,
        "cancelled": status == "cancelled",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "formats": formats,
        "label_set": run.label_set.to_dict(),
        "coco_connectivity": CONNECTIVITY if "coco" in formats else None,
        "split": None if split is None else {"fractions": list(split), "seed": seed,
                                             "counts": split_counts,
                                             "val_test_corrected_only": run.among_corrected},
        "counts": {"items": len(run.items), "exported": run.exported,
                   "corrected": run.corrected, "propagated": run.propagated,
                   "predicted": run.exported - run.corrected - run.propagated,
                   "skipped": len(run.skipped), "set_aside": run.set_aside,
                   "left_out_of_some_formats": sum("left_out_of" in r for r in run.records),
                   "files": len(files)},
        "items": run.records,
        "files": files,
    }
    if error:
        document["error"] = error
    return document


def _split_counts(run: _Run) -> dict[str, int]:
    counts = {name: 0 for name in SPLIT_NAMES}
    for record in run.records:
        if record["status"] == "exported" and record.get("split") in counts:
            counts[record["split"]] += 1
    return {name: count for name, count in counts.items() if count}


def manifest_text(document: dict[str, Any]) -> str:
    """The manifest as JSON: one top-level key per line, one list entry per line."""
    lines = []
    for key, value in document.items():
        head = f"  {json.dumps(key)}: "
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            entries = ",\n    ".join(json.dumps(v, ensure_ascii=False) for v in value)
            lines.append(f"{head}[\n    {entries}\n  ]")
        else:
            lines.append(head + json.dumps(value, ensure_ascii=False))
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _check_out_dir(out_dir: Path) -> None:
    """Make `out_dir` and try a file in it, so that a folder that cannot be written is said
    before any work, naming it (a user's check: an output folder below a video file failed
    at the first mask, naming that mask)."""
    problem = cannot_write_in(out_dir, MANIFEST)
    if problem:
        raise ExportError(out_dir, problem)


#: the manifest's list of files an earlier export wrote that a cancelled or failed one left
#: in place, for the next export to replace
EARLIER_FILES = "earlier_files"


def earlier_export_files(out_dir: Path) -> list[Path]:
    """The files an earlier export into `out_dir` wrote, as its manifest lists them (with
    those it kept of the export before it, when it was cancelled or failed: `EARLIER_FILES`):
    only those inside a format's folder (`index/...`, `coco/...`) reached through no link
    (a format folder linked to the labels folder would have its masks removed: a review),
    never a path a hand-edited manifest points elsewhere; none when there is no manifest of
    ours or it cannot be read."""
    try:
        document = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return []
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        return []
    listed = [entry.get("path") for entry in document.get("files") or []
              if isinstance(entry, dict)] + list(document.get(EARLIER_FILES) or [])
    root, found = out_dir.resolve(), []
    for relative in listed:
        parts = Path(relative).parts if isinstance(relative, str) else ()
        if len(parts) < 2 or parts[0] not in EXPORTERS or ".." in parts or \
                Path(relative).is_absolute():
            continue
        path = out_dir / relative
        try:
            unlinked = path.parent.resolve() == root.joinpath(*parts[:-1])
        except (OSError, RuntimeError):  # a link loop, a name too long
            continue
        if unlinked and path not in found:
            found.append(path)
    return found


def remove_stale(earlier: list[Path], written: list[Path], out_dir: Path) -> int:
    """Remove the files of an earlier export (`earlier_export_files`) that this one did not
    write again, and the format folders that leaves empty; how many files went. Exporting
    again into a folder left the earlier export's masks beside the new ones (a user's check:
    12 masks under a manifest of 5, and an import took the 7 predictions left over as
    corrections). Done just before the new manifest is written, so that a kill during the
    export leaves each file old or new, and the folder holds what its manifest lists."""
    again = set(written)
    removed, folders = 0, set()
    root = out_dir.resolve()
    for path in earlier:
        if path in again or path.is_dir():
            continue
        with disk_errors(path):
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
        folders.update(parent for parent in path.parents
                       if parent != out_dir and parent.is_relative_to(out_dir)
                       and not parent.is_symlink() and parent.resolve().is_relative_to(root))
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        try:
            folder.rmdir()  # only when empty: a file of the user's keeps it
        except OSError:
            pass
    return removed


def export_masks(items: Sequence[ExportItem], out_dir: str | Path, formats: Sequence[str],
                 label_set: LabelSet, *, split: Sequence[float] | None = None, seed: int = 0,
                 alpha: float = ExportOptions.alpha, fps: float | None = None, min_area: int = 0,
                 coco_segmentation: str = "polygons",
                 progress: CountProgress | None = None, cancel: CancelToken | None = None,
                 on_error: ErrorHandler | None = None) -> ExportResult:
    """Write `items` in each of `formats` (see FORMATS), each format in its own folder
    `out_dir/<format>/`, and `out_dir/manifest.json` listing every written file.

    `split` (train[, val[, test]] fractions adding up to 1) splits the CamVid and VOC layouts,
    drawn with `seed`. `alpha` is the colour weight of overlays and videos; `fps` the video
    frame rate; `min_area` the fewest pixels a COCO region needs to be written (0: all),
    `coco_segmentation` how COCO regions are written (see COCO_SEGMENTATIONS).
    `progress(done, total)` is called after each item. `cancel` is checked before
    each item: files already written stay, the list and JSON files are written for the items
    done, and the manifest says ``"status": "cancelled"``. An item that cannot be used (bad
    name, unreadable image, bad mask, sizes differ) goes to `on_error(item, error)` and is
    skipped; without `on_error` the error is raised. An item whose name a format cannot hold
    (a space, in the CamVid and VOC list files) is left out of that format only, said in
    `ExportResult.left_out` and the manifest item's "left_out_of"; when no chosen format
    holds it, it is skipped as above. A disk error raises ExportError naming
    the file; every file is written to a temporary name and renamed when complete, so no
    partial file sits under a final name (the manifest is then written, when it still can
    be, with ``"status": "failed"``). An earlier export into `out_dir` is replaced: the
    files its manifest lists that this one did not write go before the new manifest is
    written (`remove_stale`; `ExportResult.removed_earlier`); a cancelled or failed export
    removes none, and its manifest lists those left (`EARLIER_FILES`) for the next one (a
    review: a re-export cancelled after one frame had removed the earlier export).
    """
    chosen = _check_formats(formats)
    options = _check_options(alpha, fps, min_area, coco_segmentation)
    fractions = check_split(split)
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    items = list(items)
    run = _Run(items, {fmt: out_dir / fmt for fmt in chosen}, label_set, options, fractions,
               int(seed))
    manifest_path = out_dir / MANIFEST
    earlier, removed = earlier_export_files(out_dir), [0]

    def write_manifest(status: str, error: str | None = None) -> None:
        kept: list[str] = []
        if status == "complete":
            removed[0] += remove_stale(earlier, run.log.paths, out_dir)
        else:  # the earlier export stays whole where this one did not write
            written = set(run.log.paths)
            kept = [path.relative_to(out_dir).as_posix() for path in earlier
                    if path not in written and (path.exists() or path.is_symlink())]
        document = _manifest(run, out_dir, chosen, status, run.split, int(seed), error)
        if kept:
            document[EARLIER_FILES] = kept
        data = manifest_text(document).encode("utf-8")
        with disk_errors(manifest_path):
            atomic_write_bytes(manifest_path, data)

    new_folders = [out_dir / fmt for fmt in chosen if not (out_dir / fmt).exists()]
    try:
        run.run(progress, cancel, on_error)
    except SegNetError as error:
        for root in new_folders:  # made for this export, left empty (a probe: a full disk
            _remove_empty_folders(root)  # left an empty index/)
        try:
            write_manifest("failed", str(error))
        except SegNetError:
            pass
        raise
    write_manifest("cancelled" if run.cancelled else "complete")
    counts = _split_counts(run)
    return ExportResult(out_dir=out_dir, formats=chosen, files=run.log.paths + [manifest_path],
                        total=len(items), exported=run.exported, corrected=run.corrected,
                        predicted=run.exported - run.corrected - run.propagated,
                        propagated=run.propagated, skipped=run.skipped,
                        cancelled=run.cancelled, manifest=manifest_path,
                        split_counts=counts, split_among_corrected=run.among_corrected,
                        set_aside=run.set_aside, left_out=run.left_out(),
                        removed_earlier=removed[0],
                        empty_splits=[name for name, share in zip(SPLIT_NAMES, run.split or ())
                                      if share > 0 and not counts.get(name)])


def _remove_empty_folders(root: Path) -> None:
    """Remove `root` and the folders in it, where they hold nothing (a file keeps its own)."""
    if not root.is_dir() or root.is_symlink():
        return
    for folder, _dirs, _files in sorted(os.walk(root), key=lambda entry: -len(entry[0])):
        try:
            os.rmdir(folder)
        except OSError:
            pass  # not empty, or not ours to remove


def export_format(fmt: str, items: Sequence[ExportItem], out_dir: str | Path,
                  label_set: LabelSet, *, split: Sequence[float] | None = None, seed: int = 0,
                  alpha: float = ExportOptions.alpha, fps: float | None = None, min_area: int = 0,
                  coco_segmentation: str = "polygons",
                  progress: CountProgress | None = None, cancel: CancelToken | None = None,
                  on_error: ErrorHandler | None = None) -> list[Path]:
    """Write one format straight into `out_dir` (no subfolder, no manifest) and return the
    written paths. Options and errors as for `export_masks`."""
    (fmt,) = _check_formats([fmt])
    options = _check_options(alpha, fps, min_area, coco_segmentation)
    fractions = check_split(split)
    _check_out_dir(Path(out_dir))
    run = _Run(list(items), {fmt: Path(out_dir)}, label_set, options, fractions, int(seed))
    run.run(progress, cancel, on_error)
    return run.log.paths


def export_index(items, out_dir, label_set, **options) -> list[Path]:
    """`<stem>.png` palette PNGs of the class indices."""
    return export_format("index", items, out_dir, label_set, **options)


def export_color(items, out_dir, label_set, **options) -> list[Path]:
    """`<stem>.png` RGB PNGs in the label set's colours."""
    return export_format("color", items, out_dir, label_set, **options)


def export_per_class(items, out_dir, label_set, **options) -> list[Path]:
    """`<stem>/<class>.png` binary masks (0/255), one per class."""
    return export_format("per-class", items, out_dir, label_set, **options)


def export_overlay(items, out_dir, label_set, **options) -> list[Path]:
    """`<stem>.png` images blended with their mask colours (option `alpha`)."""
    return export_format("overlay", items, out_dir, label_set, **options)


def export_video(items, out_dir, label_set, **options) -> list[Path]:
    """One mp4 of overlays per source video (`images.mp4` for stills); option `fps`."""
    return export_format("video", items, out_dir, label_set, **options)


def export_camvid(items, out_dir, label_set, **options) -> list[Path]:
    """The CamVid/SegNet layout (options `split`, `seed`)."""
    return export_format("camvid", items, out_dir, label_set, **options)


def export_voc(items, out_dir, label_set, **options) -> list[Path]:
    """The Pascal VOC layout (options `split`, `seed`)."""
    return export_format("voc", items, out_dir, label_set, **options)


def export_coco(items, out_dir, label_set, **options) -> list[Path]:
    """COCO instances JSON, and the images: polygons, RLE for a region with holes (options
    `coco_segmentation`, `min_area`)."""
    return export_format("coco", items, out_dir, label_set, **options)
