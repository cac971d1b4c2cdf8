"""Which format a source is in (`detect_format`), and its masks (`read_source`)."""

from __future__ import annotations

from pathlib import Path

from segnet_core.errors import DataError
from segnet_core.export import MANIFEST
from segnet_core.labels import LabelSet

from .coco import coco_files, coco_masks
from .export_marks import export_format_of
from .layouts import VOC_MASKS, annotation_folders, camvid_masks, list_files, voc_masks
from .pngs import color_folder, index_folder, is_color_image, mask_files
from .report import ImportFormat, SourceMask

_READERS = {
    ImportFormat.CAMVID: camvid_masks,
    ImportFormat.VOC: voc_masks,
    ImportFormat.COCO: coco_masks,
    ImportFormat.COLOR: color_folder,
    ImportFormat.INDEX: index_folder,
}
#: The folders of our own export that hold masks: the others hold pictures (overlay, video)
#: or one binary mask per class (per-class), which read as masks would lose the labels
MASK_EXPORTS = ("index", "color", "camvid", "voc", "coco")


def detect_format(source: str | Path) -> tuple[ImportFormat, str]:
    """The format of `source` and why it was chosen; DataError naming the source when it
    cannot tell."""
    path = Path(source)
    if not path.exists():
        raise DataError(path, "no such file or folder")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".json":
            return ImportFormat.COCO, "a JSON file"
        if suffix == ".txt":
            return ImportFormat.CAMVID, "a list file"
        raise DataError(path, "not a label source: give a folder of masks, a CamVid list "
                              "file (.txt) or a COCO file (.json)")
    if (path / VOC_MASKS).is_dir() or path.name == VOC_MASKS:
        return ImportFormat.VOC, f"holds {VOC_MASKS}/"
    if list_files(path):
        return ImportFormat.CAMVID, "holds list files (" + ", ".join(
            f.name for f in list_files(path)) + ")"
    if annotation_folders(path):
        return ImportFormat.CAMVID, "holds *annot/ folders"
    if coco_files(path):
        return ImportFormat.COCO, f"holds {coco_files(path)[0].name}"
    masks = mask_files(path)
    if masks:
        if is_color_image(masks[0]):
            return ImportFormat.COLOR, f"{masks[0].name} is an RGB image"
        return ImportFormat.INDEX, f"{masks[0].name} is a grey or palette image"
    hint = ""
    if (path / MANIFEST).is_file():
        hint = "; it is an export: give one of its format folders (index, color, camvid, voc, coco)"
    raise DataError(path, "cannot tell the label format: no SegmentationClass/, no list "
                          f"files, no COCO JSON file and no mask images{hint}")


def read_source(source: str | Path, fmt: ImportFormat | str,
                label_set: LabelSet) -> tuple[ImportFormat, str, list[SourceMask], list[str]]:
    """(format, why it was detected or "", the source's masks, notes on the mapping)."""
    path = Path(source)
    fmt = ImportFormat(fmt)
    reason = ""
    exported = export_format_of(path) if path.exists() else None
    if exported is not None and exported not in MASK_EXPORTS:
        raise DataError(path, f"the {exported}/ folder of an export holds no masks that can be "
                              f"imported; give one of its {', '.join(MASK_EXPORTS)} folders")
    if fmt is ImportFormat.AUTO:
        fmt, reason = detect_format(path)
    elif not path.exists():
        raise DataError(path, "no such file or folder")
    elif path.is_file() and fmt not in (ImportFormat.COCO, ImportFormat.CAMVID):
        raise DataError(path, f"the {fmt.value} format reads a folder, not a file")
    masks, notes = _READERS[fmt](path, label_set)
    return fmt, reason, masks, notes
