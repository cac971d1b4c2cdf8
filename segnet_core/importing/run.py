"""`import_labels`: read a source's masks, match them to images by stem, and write them as
index masks into the images' labels folder (or another folder), all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Collection, Protocol

from segnet_core.errors import DataError, LabelSetError, SegNetError
from segnet_core.labels import LabelSet, camvid_label_set
from segnet_core.masks.labels_folder import (AS_PREDICTED, LABELS_FOLDER, PROPAGATED_FROM,
                                             LabelsFolder, link_line)

from .classes import UnknownTally, is_named
from .export_marks import export_marks
from .images import ImageFolder, ImageTarget
from .report import ImportFormat, ImportReport, SourceMask
from .sources import read_source
from .writing import StagedMasks

#: `progress(done, total)`: called after each mask is read.
Progress = Callable[[int, int], None]
#: A mask with more than this share of its pixels in values or colours the source names no
#: class for is refused (the import stops, nothing written): it is not a mask in these
#: classes (a photo, an overlay, another tool's palette without its label-set file), and
#: imported it would be mostly void, over the corrections it replaces (a user's check: six
#: of them). Classes the source names and the label set lacks (VOC's background) are made
#: void and reported, as before.
MAX_UNKNOWN_SHARE = 0.5


class Cancel(Protocol):
    """Anything with a `cancelled` flag (segnet_core's CancelToken)."""

    @property
    def cancelled(self) -> bool: ...


def choose_label_set(label_set_file: str | Path | None = None, model: str | Path | None = None,
                     out_dir: str | Path | None = None) -> LabelSet:
    """The label set to import into, as `export` picks it: a label-set file, else the
    model's, else the one saved in the target folder, else CamVid's."""
    if label_set_file is not None:
        return LabelSet.read(label_set_file)
    if model is not None:
        from segnet_core.checkpoint import load_checkpoint

        return load_checkpoint(model).label_set()
    if out_dir is not None:
        try:
            saved = LabelsFolder(out_dir).read_label_set()
        except LabelSetError:
            saved = None
        if saved is not None:
            return saved
    return camvid_label_set()


def _check_unique(masks: list[SourceMask]) -> None:
    seen: dict[str, SourceMask] = {}
    for mask in masks:
        if mask.stem in seen:
            raise DataError(mask.origin, f"two masks for {mask.stem!r}: "
                                         f"{seen[mask.stem].origin} and {mask.origin}")
        seen[mask.stem] = mask


def _check_folder(out: LabelsFolder, label_set: LabelSet, replaced: set[str]) -> None:
    """Refuse to put masks beside masks saved with another label set."""
    try:
        saved = out.read_label_set()
    except LabelSetError:
        return  # a broken file is replaced
    if saved is None or saved == label_set:
        return
    others = sorted(out.mask_names() - replaced)
    if others:
        raise SegNetError(
            f"{out.root} holds {len(others)} mask(s) saved with another label set "
            f"({saved.num_classes} classes: {', '.join(saved.names[:5])}...); import with "
            "that label set or into another folder")


def _check_size(mask: SourceMask, shape: tuple[int, ...], target: ImageTarget,
                images: ImageFolder) -> None:
    """DataError naming the mask's file when `shape` (height, width) is not its image's."""
    size = images.size(target)
    if size is not None and tuple(shape) != size:
        where = target.path if target.frame is None else f"{target.path} frame {target.frame}"
        raise DataError(mask.origin, f"mask {mask.stem!r} is {shape[0]}x{shape[1]} (height x "
                                     f"width) but its image {where} is {size[0]}x{size[1]}")


def _decode(mask: SourceMask, target: ImageTarget, images: ImageFolder):
    if mask.size is not None:  # before decoding: a declared size may be far too large
        _check_size(mask, mask.size, target, images)
    decoded, unknown = mask.read()
    unnamed = {label: count for label, count in unknown.items() if not is_named(label)}
    share = sum(unnamed.values()) / max(decoded.size, 1)
    if share > MAX_UNKNOWN_SHARE:
        raise DataError(mask.origin, f"{100 * share:.0f} % of its pixels are in {len(unnamed)} "
                                     "value(s) or colour(s) that name no class: not a mask in "
                                     "these classes (a photo or an overlay? another tool's "
                                     "colours need its label-set file, e.g. label_colors.txt, "
                                     "beside the masks)")
    _check_size(mask, decoded.shape, target, images)
    return decoded, unknown


def import_labels(source: str | Path, images_dir: str | Path,
                  fmt: ImportFormat | str = ImportFormat.AUTO, out_dir: str | Path | None = None,
                  label_set: LabelSet | None = None, overwrite: bool = False,
                  progress: Progress | None = None, cancel: Cancel | None = None,
                  uncorrected: bool = False, held: Collection[str] = ()) -> ImportReport:
    """Import the masks of `source` for the images in `images_dir`.

    `fmt` is an `ImportFormat` (or its value); AUTO detects it (the report says why). Masks
    are matched to the images (and video frames) of `images_dir` by stem and written as
    index PNGs ``<stem>.png`` into `out_dir`, by default the images' labels folder, with the
    label set beside them. `label_set` defaults to `choose_label_set(out_dir=...)`. An
    existing mask is kept unless `overwrite`. Classes the label set lacks become void and
    are reported, as are masks without an image and images without a mask. A source inside
    a SegNet Studio export whose manifest marks masks as not corrected (a model's
    predictions, propagated labels not accepted: `export_marks`) has those left out, and
    reported, unless `uncorrected`: imported, they would count as corrections. Masks
    `held` (names in `out_dir`: the window holds edits of them not saved yet, whose saving
    would replace the import) are left alone whatever `overwrite` says, and reported.

    All or nothing: a bad input raises DataError naming the file (LabelSetError for a bad
    label-set file), a disk error `MaskWriteError`, and a `cancel` (checked before each mask)
    returns a report with `cancelled` set; in all three cases no mask is written.
    """
    images = ImageFolder(images_dir)
    out = Path(out_dir) if out_dir is not None else images.folder / LABELS_FOLDER
    labels = label_set if label_set is not None else choose_label_set(out_dir=out)
    chosen, reason, masks, notes = read_source(source, fmt, labels)
    _check_unique(masks)
    report = ImportReport(Path(source), chosen, reason, images.folder, out, labels, notes=notes,
                          videos=sorted(path.name for path in images.videos.values()))
    folder = LabelsFolder(out)
    marks = export_marks(source)
    report.marks_from = marks.manifest
    todo: list[tuple[SourceMask, ImageTarget]] = []
    for mask in masks:
        target = images.match(mask.stem)
        if marks.uncorrected(mask.stem) and not uncorrected:
            report.uncorrected_left_out.append(mask)
        elif target is None:
            report.masks_without_image.append(mask)
        elif f"{target.stem}.png" in held:
            report.held.append(folder.mask_path(f"{target.stem}.png"))
        elif folder.mask_path(f"{target.stem}.png").exists() and not overwrite:
            report.kept.append(folder.mask_path(f"{target.stem}.png"))
        else:
            todo.append((mask, target))
            if marks.uncorrected(mask.stem):
                report.uncorrected_imported.append(mask)
    stems = {mask.stem for mask in masks}
    report.set_aside_missing = sorted(marks.set_aside - stems)
    report.images_without_mask = [path for stem, path in images.images.items()
                                  if stem not in stems]
    _check_folder(folder, labels, {f"{target.stem}.png" for _, target in todo})
    replacing = [folder.mask_path(f"{target.stem}.png") for _, target in todo
                 if folder.mask_path(f"{target.stem}.png").exists()]

    staged = StagedMasks(out, labels)
    tally = UnknownTally()
    try:
        if progress:
            progress(0, len(todo))
        for done, (mask, target) in enumerate(todo, start=1):
            if cancel is not None and cancel.cancelled:
                staged.discard()
                report.cancelled = True
                return report
            decoded, unknown = _decode(mask, target, images)
            tally.add_file(unknown)
            staged.add(f"{target.stem}.png", decoded, mask.origin)
            if progress:
                progress(done, len(todo))
    except BaseException:
        staged.discard()
        raise
    report.written = staged.commit() if todo else []
    report.replaced = replacing
    report.unknown_classes = tally.classes()
    _note_carried(folder, marks, todo, report)
    _note_as_predicted(folder, marks, todo, report)
    return report


def _note_as_predicted(folder: LabelsFolder, marks, todo, report: ImportReport) -> None:
    """List in the labels folder's `as_predicted.txt` the imported masks an export marks as
    a prediction saved as it is: no evidence of how right a model is, as before."""
    names = {f"{target.stem}.png" for mask, target in todo
             if mask.stem in marks.saved_as_predicted}
    if _add_lines(folder, AS_PREDICTED, names, report, "list the masks saved as predicted"):
        report.as_predicted_noted = sorted(names)


def _note_carried(folder: LabelsFolder, marks, todo, report: ImportReport) -> None:
    """Note in the labels folder's `propagated_from.txt` the imported masks an export marks
    as carried by a propagation: partly a model's own labels, they stay no evidence of how
    right a model is (and a fine-tune holds them out with their sources or not at all)."""
    lines = {link_line(f"{target.stem}.png", f"{source}.png")
             for mask, target in todo for source in marks.carried_from.get(mask.stem, ())}
    if _add_lines(folder, PROPAGATED_FROM, lines, report,
                  "note the masks carried by propagation"):
        report.carried_noted = len({line.partition(" <- ")[0] for line in lines})


def _add_lines(folder: LabelsFolder, kind, lines: set[str], report: ImportReport,
               what: str) -> bool:
    """Add `lines` to one of the labels folder's lists; whether they are there now. The
    masks are written already: a list that cannot be read or written loses only this note,
    which the report gives."""
    if not lines:
        return False
    try:
        known = folder.read_names(kind)
        if not lines <= known:
            folder.write_names(kind, known | lines)
    except (SegNetError, OSError) as error:
        report.notes.append(f"could not {what} in {folder.root / kind.file} "
                            f"({getattr(error, 'reason', error)}): they count as evidence of "
                            "how right a model is")
        return False
    return True
