"""Folders of mask images: plain index masks (grey or palette: the pixel values are class
indices) and colour masks (RGB in a label set's colours).

A label-set file beside the masks (label_colors.txt or labels.json) names the classes: then
values (or colours) are mapped by class name; without one, index masks are read by index
(the void index and 255 are void) and colour masks by the label set's own colours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from segnet_core.errors import DataError
from segnet_core.io.masks import open_mask_image, unreadable_mask
from segnet_core.labels import LabelSet

from .classes import ColorMap, ValueMap
from .report import Decoded, SourceMask

#: Suffixes read as mask images: lossless formats only (a JPEG's colours are not exact).
MASK_SUFFIXES = (".png", ".bmp", ".tif", ".tiff")
#: Label-set files looked for beside masks, in this order.
LABEL_SET_NAMES = ("label_colors.txt", "labels.json")
_VALUE_MODES = {"P", "L", "1", "I", "I;16", "I;16L", "I;16B", "I;16N"}
_COLOR_MODES = {"RGB", "RGBA"}


def is_color_image(path: Path) -> bool:
    """True when the mask image holds colours (RGB), False for values (grey or palette)."""
    try:
        with Image.open(path) as image:
            return image.mode in _COLOR_MODES
    except Exception as error:  # Pillow raises many types for broken files
        raise unreadable_mask(path, error) from None


def read_values(path: Path) -> np.ndarray:
    """The HxW values of a grey or palette mask (palette indices, not colours)."""
    image = open_mask_image(path)
    if image.mode in ("LA", "PA"):
        image = image.getchannel(0)
    if image.mode not in _VALUE_MODES:
        raise DataError(path, f"a {image.mode} image, not an index mask (grey or palette); "
                              "read colour masks with the color format")
    values = np.asarray(image)
    if values.dtype == bool:
        return values.astype(np.uint8)
    if values.dtype != np.uint8 and values.size and (values.min() < 0 or values.max() > 65535):
        raise DataError(path, "mask values outside 0..65535")
    return values.astype(np.uint16) if values.dtype != np.uint8 else values


def read_colors(path: Path) -> np.ndarray:
    """The HxWx3 uint8 RGB colours of a colour mask (alpha dropped)."""
    image = open_mask_image(path)
    if image.mode not in _COLOR_MODES:
        raise DataError(path, f"a {image.mode} image, not a colour (RGB) mask; read grey or "
                              "palette masks with the index format")
    return np.ascontiguousarray(np.asarray(image)[:, :, :3])


def label_set_beside(folder: Path) -> LabelSet | None:
    """The label set saved in `folder` (LabelSetError when broken), or None."""
    for name in LABEL_SET_NAMES:
        if (folder / name).is_file():
            return LabelSet.read(folder / name)
    return None


def mask_files(folder: Path) -> list[Path]:
    """The mask images directly in `folder`, hidden files left out, sorted by name."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as error:
        raise DataError(folder, f"cannot list folder: {error.strerror or error}") from None
    return [f for f in entries if f.suffix.lower() in MASK_SUFFIXES
            and not f.name.startswith(".") and f.is_file()]


def value_mask(path: Path, values: ValueMap) -> SourceMask:
    def read() -> Decoded:
        return values.apply(read_values(path))

    return SourceMask(path.stem, path, read)


def color_mask(path: Path, colors: ColorMap) -> SourceMask:
    def read() -> Decoded:
        return colors.apply(read_colors(path))

    return SourceMask(path.stem, path, read)


def index_folder(folder: Path, label_set: LabelSet) -> tuple[list[SourceMask], list[str]]:
    """The masks of a folder of index masks, and notes on how values were mapped."""
    source = label_set_beside(folder)
    if source is None:
        values = ValueMap.by_index(label_set)
        note = "values read as class indices"
    else:
        values = ValueMap.from_label_set(label_set, source)
        note = f"classes mapped by name through the label set in {folder}"
    return [value_mask(f, values) for f in _required(folder)], [note]


def color_folder(folder: Path, label_set: LabelSet) -> tuple[list[SourceMask], list[str]]:
    """The masks of a folder of colour masks, and notes on how colours were mapped."""
    source = label_set_beside(folder)
    colors = ColorMap(label_set, source)
    note = ("colours read as the label set's colours" if source is None else
            f"colours mapped to classes by name through the label set in {folder}")
    return [color_mask(f, colors) for f in _required(folder)], [note]


def _required(folder: Path) -> list[Path]:
    files = mask_files(folder)
    if not files:
        raise DataError(folder, "holds no mask images (" +
                        ", ".join(s.lstrip(".") for s in MASK_SUFFIXES) + ")")
    return files
