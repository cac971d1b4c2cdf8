"""Data-set layouts holding index masks: CamVid/SegNet and Pascal VOC.

* CamVid: a folder of list files (``train.txt``: ``image annotation`` lines, paths relative
  to the list file; absolute paths from another machine are looked for beside the list file
  by their last folder and name), or one list file, or a folder of ``*annot/`` folders. Mask
  values are class indices of the ``label_colors.txt`` (or ``labels.json``) beside them,
  mapped by class name; without one, by index. A mask matches the image its line names.
* VOC: ``SegmentationClass/<stem>.png`` palette masks (255 = void) below the given folder
  (or the SegmentationClass folder itself). ``labels.txt`` beside SegmentationClass (class
  names in index order, one a line) maps classes by name; without one, by index.
"""

from __future__ import annotations

from pathlib import Path

from segnet_core.errors import DataError

from .classes import COMMON_VOID, ValueMap
from .pngs import label_set_beside, mask_files, value_mask
from .report import SourceMask

#: Text files in a CamVid folder that are not list files.
NOT_LISTS = frozenset({"label_colors.txt", "labels.txt", "readme.txt"})
VOC_MASKS = "SegmentationClass"
VOC_NAMES = "labels.txt"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise DataError(path, f"cannot read: {error.strerror or error}") from None


def _content_lines(text: str) -> list[tuple[int, str]]:
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.strip().startswith("#")]


def is_list_file(path: Path) -> bool:
    """True for a text file whose first line is an ``image annotation`` pair."""
    if path.suffix.lower() != ".txt" or path.name.lower() in NOT_LISTS or not path.is_file():
        return False
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            lines = _content_lines(handle.read(4096))
    except OSError:
        return False
    return bool(lines) and len(lines[0][1].split()) == 2


def list_files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if is_list_file(f))


def annotation_folders(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_dir() and f.name.endswith("annot"))


def _resolve(list_file: Path, field: str) -> Path:
    path = Path(field)
    if not path.is_absolute():
        return list_file.parent / path
    if path.exists():
        return path
    return list_file.parent / path.parent.name / path.name


def _list_pairs(list_file: Path) -> list[tuple[str, Path]]:
    pairs = []
    for number, line in _content_lines(_read_text(list_file)):
        fields = line.split()
        if len(fields) != 2:
            raise DataError(list_file, f"line {number}: expected 'image annotation' "
                                       f"(2 fields), got {len(fields)}: {line!r}")
        mask = _resolve(list_file, fields[1])
        if not mask.is_file():
            raise DataError(list_file, f"line {number}: annotation file not found: {mask}")
        pairs.append((Path(fields[0]).stem, mask))
    return pairs


def camvid_masks(path: Path, label_set) -> tuple[list[SourceMask], list[str]]:
    """The masks of a CamVid folder or list file, and a note on how classes were mapped."""
    root = path.parent if path.is_file() else path
    if path.is_file():
        pairs = _list_pairs(path)
    elif list_files(path):
        pairs = [pair for file in list_files(path) for pair in _list_pairs(file)]
    elif annotation_folders(path):
        pairs = [(f.stem, f) for folder in annotation_folders(path) for f in mask_files(folder)]
    else:
        raise DataError(path, "not a CamVid folder: no list files (train.txt: 'image "
                              "annotation' lines) and no *annot folders")
    if not pairs:
        raise DataError(path, "the CamVid lists name no masks")
    source = label_set_beside(root)
    if source is None:
        values = ValueMap.by_index(label_set)
        note = f"values read as class indices (no label_colors.txt in {root})"
    else:
        values = ValueMap.from_label_set(label_set, source)
        note = f"classes mapped by name through the label set in {root}"
    masks: dict[str, SourceMask] = {}
    for stem, mask in pairs:
        known = masks.get(stem)
        if known is not None and known.origin.resolve() != mask.resolve():
            raise DataError(path, f"two masks for the image {stem!r}: {known.origin} and "
                                  f"{mask}")
        masks.setdefault(stem, value_mask(mask, values))
    return list(masks.values()), [note]


def voc_masks(path: Path, label_set) -> tuple[list[SourceMask], list[str]]:
    """The masks of a VOC folder, and a note on how classes were mapped."""
    folder = path if path.name == VOC_MASKS else path / VOC_MASKS
    if not folder.is_dir():
        raise DataError(path, f"not a VOC folder: no {VOC_MASKS}/ folder")
    names_file = folder.parent / VOC_NAMES
    if names_file.is_file():
        names = [line for _, line in _content_lines(_read_text(names_file))]
        if not 0 < len(names) < COMMON_VOID:
            raise DataError(names_file, f"holds {len(names)} class names; expected 1 to "
                                        f"{COMMON_VOID - 1} (index masks are 8-bit, 255 void)")
        values = ValueMap.by_name(label_set, dict(enumerate(names)), (COMMON_VOID,))
        note = f"classes mapped by name through {names_file}"
    else:
        values = ValueMap.by_index(label_set)
        note = f"values read as class indices (no {VOC_NAMES} beside {VOC_MASKS})"
    files = mask_files(folder)
    if not files:
        raise DataError(folder, "holds no masks")
    return [value_mask(f, values) for f in files], [note]
