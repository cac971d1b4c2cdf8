"""Mask files.

* `read_mask` gives an HxW uint8 index mask from a palette PNG (its indices), a single-channel
  file (its values) or a colour-coded RGB file (through the label set's colours), checked
  against the label set.
* `write_index_mask` writes a palette PNG whose palette is the label set's colours, so any
  viewer shows it coloured while the pixel values stay the class indices;
  `write_color_mask` writes a plain RGB PNG. Both writes are atomic.

Every failure about a file raises DataError naming the file and saying why.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from segnet_core.atomic import FileStamp, atomic_writer
from segnet_core.errors import DataError
from segnet_core.io.images import read_file_bytes
from segnet_core.labels import LabelSet

_SINGLE_CHANNEL_MODES = {"L", "I", "I;16", "I;16L", "I;16B", "I;16N"}


def unreadable_mask(path: Path, error: Exception) -> DataError:
    """The DataError for a mask file Pillow could not decode, in plain words (Pillow's own
    message names the in-memory buffer it read, not the file)."""
    if isinstance(error, UnidentifiedImageError):
        return DataError(path, "cannot be read as a mask: not an image file")
    reason = str(error) or type(error).__name__
    return DataError(path, f"cannot be read as a mask: corrupt or truncated ({reason})")


def open_mask_image(path: str | Path) -> Image.Image:
    """The mask file opened and fully decoded with Pillow, after a structural check that
    catches truncation; DataError naming the file when it cannot be."""
    path = Path(path)
    data = read_file_bytes(path)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, zlib.error...)
        raise unreadable_mask(path, exc) from None
    if image.width == 0 or image.height == 0:
        raise DataError(path, f"mask has zero size ({image.height}x{image.width})")
    return image


def read_mask(path: str | Path, label_set: LabelSet) -> np.ndarray:
    """Read a label mask as an HxW uint8 index array and check it against `label_set`.

    Palette images give their indices; single-channel images (8-bit, or 16-bit with values
    below 256) give their values; RGB/RGBA images are converted through the label set's
    colours (alpha ignored). Raises DataError naming the file when it is missing, corrupt,
    truncated, of an unsupported mode, or holds a value or colour the label set lacks.
    """
    path = Path(path)
    image = open_mask_image(path)
    mode = image.mode
    array = np.asarray(image)
    if mode in ("P", "L"):
        mask = array
    elif mode in ("PA", "LA"):
        mask = array[:, :, 0]
    elif mode == "1":
        mask = array.astype(np.uint8)
    elif mode in _SINGLE_CHANNEL_MODES:
        too_big = (array < 0) | (array > 255)
        if too_big.any():
            y, x = np.argwhere(too_big)[0]
            raise DataError(
                path,
                f"mask value {int(array[y, x])} at row {y}, column {x} does not fit a class "
                "index (0..255)",
            )
        mask = array.astype(np.uint8)
    elif mode in ("RGB", "RGBA"):
        mask = label_set.index_from_colors(np.ascontiguousarray(array[:, :, :3]), path)
    else:
        raise DataError(
            path, f"unsupported mask mode {mode!r} (palette, grey or RGB expected)"
        )
    mask = np.array(mask, dtype=np.uint8, copy=True)
    label_set.check_mask(mask, path)
    return mask


def _check_writable_mask(path: Path, mask: np.ndarray, label_set: LabelSet) -> None:
    if not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.dtype != np.uint8:
        shape = getattr(mask, "shape", None)
        dtype = getattr(mask, "dtype", type(mask).__name__)
        raise ValueError(f"{path}: mask must be a 2-D uint8 array, got {shape} {dtype}")
    if mask.size == 0:
        raise ValueError(f"{path}: mask has zero size {mask.shape}")
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path}: masks are written as PNG; use a .png name")
    label_set.check_mask(mask, path)


def write_index_mask(path: str | Path, mask: np.ndarray, label_set: LabelSet) -> FileStamp:
    """Write `mask` (HxW uint8) atomically as a palette PNG: pixel values are the class
    indices and the palette holds `label_set.palette()`. The stamp of the file written
    (`segnet_core.atomic`), so a change another program makes right after is not taken for it.

    ValueError for a mask that is not 2-D uint8 or a name not ending in .png; DataError
    naming the file for a value that is neither a class nor void.
    """
    path = Path(path)
    _check_writable_mask(path, mask, label_set)
    image = Image.fromarray(np.ascontiguousarray(mask))
    image.putpalette(label_set.palette().tobytes(), rawmode="RGB")
    stamp: list[FileStamp] = []
    with atomic_writer(path, stamp) as handle:
        image.save(handle, format="PNG")
    return stamp[0]


def write_color_mask(path: str | Path, mask: np.ndarray, label_set: LabelSet) -> None:
    """Write `mask` (HxW uint8) atomically as an RGB PNG in the label set's colours
    (void in the void colour). Errors as for `write_index_mask`."""
    path = Path(path)
    _check_writable_mask(path, mask, label_set)
    image = Image.fromarray(label_set.colorize(mask))
    with atomic_writer(path) as handle:
        image.save(handle, format="PNG")
