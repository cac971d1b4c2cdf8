"""COCO instances files: `images`, `categories` and `annotations` with polygon or RLE
segmentations (see `rle.py`), ``iscrowd`` 0 or 1 alike.

Each image listed becomes one mask, matched by the stem of its ``file_name``. Categories are
mapped to classes by name. Pixels no annotation covers are void; where annotations overlap,
the later one in the file wins. Annotations without a segmentation (boxes only) are left out
and counted in a note.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from segnet_core.errors import DataError
from segnet_core.export import MANIFEST
from segnet_core.labels import LabelSet

from .classes import class_index
from .report import Decoded, SourceMask
from .rle import decode_segmentation

#: JSON files in a folder that are not COCO files (label sets, export manifests).
NOT_COCO = frozenset({"labels.json", MANIFEST})
#: The most pixels an image entry may declare: OpenCV's own limit on an image it decodes
#: (CV_IO_MAX_IMAGE_PIXELS), so no image read here is larger; checked against the matched
#: image's real size too, before its mask is painted (`import_labels`).
MAX_IMAGE_PIXELS = 1 << 30
_UNKNOWN_BASE = 256  # codes from here on: unknown categories while painting


def coco_files(folder: Path) -> list[Path]:
    """The JSON files of `folder` and of its `annotations/` folder that may be COCO files."""
    found = []
    for where in (folder, folder / "annotations"):
        if where.is_dir():
            found += sorted(f for f in where.iterdir() if f.suffix.lower() == ".json"
                            and f.name.lower() not in NOT_COCO and f.is_file())
    return found


def find_coco_file(folder: Path) -> Path:
    """The one COCO file in `folder` (an ``instances*`` file when there are several)."""
    found = coco_files(folder)
    if len(found) > 1:
        found = [f for f in found if f.name.lower().startswith("instances")] or found
    if len(found) == 1:
        return found[0]
    if not found:
        raise DataError(folder, "holds no COCO JSON file")
    raise DataError(folder, "holds several JSON files (" + ", ".join(f.name for f in found)
                    + "); give the one to import")


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _key(value: Any) -> Any:
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


class _Document:
    """The parts of a COCO file an import uses, checked."""

    def __init__(self, path: Path, label_set: LabelSet):
        self.path = path
        self.label_set = label_set
        try:
            data = json.loads(path.read_bytes())
        except OSError as error:
            raise DataError(path, f"cannot read: {error.strerror or error}") from None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise DataError(path, f"not valid JSON ({error})") from None
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise DataError(path, "not a COCO file: no 'images' list")
        self.images = self._images(data["images"])
        self.classes = self._categories(data.get("categories", []))
        self.by_image: dict[Any, list[tuple[str, int, Any]]] = defaultdict(list)
        self.boxes_only = 0
        self._annotations(data.get("annotations", []))

    def fail(self, reason: str) -> DataError:
        return DataError(self.path, reason)

    def _images(self, entries: list) -> dict[Any, dict]:
        images: dict[Any, dict] = {}
        stems: dict[str, str] = {}
        for number, entry in enumerate(entries):
            where = f"images[{number}]"
            if not isinstance(entry, dict) or _key(entry.get("id")) is None:
                raise self.fail(f"{where}: needs an 'id' (number or text)")
            name = entry.get("file_name")
            if not isinstance(name, str) or not Path(name).stem:
                raise self.fail(f"{where}: needs a 'file_name'")
            if not (_positive(entry.get("width")) and _positive(entry.get("height"))):
                raise self.fail(f"{where} ({name}): needs 'width' and 'height' (positive "
                                "whole numbers)")
            if entry["width"] * entry["height"] > MAX_IMAGE_PIXELS:
                raise self.fail(f"{where} ({name}): declares {entry['height']}x"
                                f"{entry['width']} (height x width), more pixels than any "
                                "image read here")
            if entry["id"] in images:
                raise self.fail(f"{where}: image id {entry['id']!r} appears twice")
            stem = Path(name.replace("\\", "/")).stem
            if stem in stems:
                raise self.fail(f"{where}: images {stems[stem]!r} and {name!r} share the "
                                f"stem {stem!r}, so their masks would share a name")
            stems[stem] = name
            images[entry["id"]] = {"stem": stem, "name": name, "height": entry["height"],
                                   "width": entry["width"]}
        return images

    def _categories(self, entries: Any) -> dict[Any, tuple[str, int | None]]:
        if not isinstance(entries, list):
            raise self.fail("'categories' must be a list")
        classes: dict[Any, tuple[str, int | None]] = {}
        for number, entry in enumerate(entries):
            if (not isinstance(entry, dict) or _key(entry.get("id")) is None
                    or not isinstance(entry.get("name"), str)):
                raise self.fail(f"categories[{number}]: needs an 'id' and a 'name'")
            classes[entry["id"]] = (entry["name"], class_index(entry["name"], self.label_set))
        return classes

    def _annotations(self, entries: Any) -> None:
        if not isinstance(entries, list):
            raise self.fail("'annotations' must be a list")
        for number, entry in enumerate(entries):
            where = f"annotations[{number}]"
            if not isinstance(entry, dict):
                raise self.fail(f"{where}: not an object")
            if entry.get("id") is not None:
                where += f" (id {entry['id']!r})"
            image_id, category = entry.get("image_id"), entry.get("category_id")
            if _key(image_id) is None or image_id not in self.images:
                raise self.fail(f"{where}: image_id {image_id!r} is not an image of the file")
            if _key(category) is None or category not in self.classes:
                raise self.fail(f"{where}: category_id {category!r} is not a category of the "
                                "file")
            segmentation = entry.get("segmentation")
            if segmentation in (None, [], {}):
                self.boxes_only += 1
                continue
            self.by_image[image_id].append((where, category, segmentation))

    def decode(self, image_id: Any) -> Decoded:
        """The mask of one image: its annotations painted in file order."""
        image = self.images[image_id]
        height, width = image["height"], image["width"]
        codes = np.full((height, width), self.label_set.void_index, dtype=np.int32)
        unknown_names: list[str] = []
        for where, category, segmentation in self.by_image.get(image_id, []):
            try:
                region = decode_segmentation(segmentation, height, width)
            except ValueError as error:
                raise self.fail(f"{where}, image {image['name']!r}: {error}") from None
            name, index = self.classes[category]
            if index is None:
                if name not in unknown_names:
                    unknown_names.append(name)
                index = _UNKNOWN_BASE + unknown_names.index(name)
            codes[region] = index
        unknown: dict[str, int] = {}
        if unknown_names:
            found, pixels = np.unique(codes[codes >= _UNKNOWN_BASE], return_counts=True)
            for code, count in zip(found.tolist(), pixels.tolist()):
                unknown[repr(unknown_names[code - _UNKNOWN_BASE])] = count
            codes[codes >= _UNKNOWN_BASE] = self.label_set.void_index
        return codes.astype(np.uint8), unknown


def coco_masks(path: Path, label_set: LabelSet) -> tuple[list[SourceMask], list[str]]:
    """The masks of a COCO file (or of the one COCO file in a folder), and notes."""
    file = path if path.is_file() else find_coco_file(path)
    document = _Document(file, label_set)
    masks = [SourceMask(image["stem"], file, lambda key=key: document.decode(key),
                        (image["height"], image["width"]))
             for key, image in document.images.items()]
    notes = ["categories mapped to classes by name"]
    if document.boxes_only:
        notes.append(f"{document.boxes_only} annotation(s) without a segmentation (boxes "
                     "only) were left out")
    return masks, notes
