"""Image and mask files.

* `read_image` gives HxWx3 uint8 RGB whatever the file holds (grey, BGRA, 16-bit).
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

import cv2
import numpy as np
from PIL import Image

from segnet_core.atomic import atomic_writer
from segnet_core.errors import DataError
from segnet_core.labels import LabelSet

#: File suffixes (lower case) taken as images when scanning folders.
IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

_SINGLE_CHANNEL_MODES = {"L", "I", "I;16", "I;16L", "I;16B", "I;16N"}


def _read_bytes(path: Path) -> bytes:
    """The file's bytes; DataError naming it when missing, a folder, unreadable or empty."""
    if path.is_dir():
        raise DataError(path, "is a folder, not an image file")
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except OSError as exc:
        raise DataError(path, f"cannot read: {exc.strerror or exc}") from None
    if data.size == 0:
        raise DataError(path, "empty file (0 bytes)")
    return data.tobytes()


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_png(path: Path, data: bytes) -> None:
    """Refuse a PNG whose chunks are cut short or whose critical chunks (IHDR, PLTE, IDAT,
    IEND) fail their CRC, before libpng reads it: libpng would say so on the terminal
    itself (it has no switch to stop that), and the DataError names the chunk."""
    position = len(_PNG_SIGNATURE)
    while position < len(data):
        if position + 8 > len(data):
            raise DataError(path, "not a readable image (truncated PNG: ends inside a chunk "
                                  "header)")
        length = int.from_bytes(data[position:position + 4], "big")
        kind = data[position + 4:position + 8]
        end = position + 12 + length
        if end > len(data):
            name = kind.decode("latin-1", "replace")
            raise DataError(path, f"not a readable image (truncated PNG: ends inside chunk "
                                  f"{name!r})")
        critical = kind[:1].isupper()
        crc = int.from_bytes(data[end - 4:end], "big")
        if critical and zlib.crc32(data[position + 4:end - 4]) != crc:
            name = kind.decode("latin-1", "replace")
            raise DataError(path, f"not a readable image (PNG chunk {name!r} is damaged: its "
                                  "CRC does not match)")
        if kind == b"IEND":
            return
        position = end


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as an HxWx3 uint8 RGB array.

    Grey images are repeated over 3 channels, alpha is dropped, 16-bit values are scaled to
    8 bits. EXIF orientation is not applied (masks are not rotated either). Paths may hold
    any characters. Raises DataError naming the file when it is missing, empty, corrupt,
    truncated, of zero size or of an unsupported pixel type.
    """
    path = Path(path)
    data = _read_bytes(path)
    if data.startswith(_PNG_SIGNATURE):
        _check_png(path, data)
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:  # e.g. a header declaring more pixels than OpenCV accepts
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "decoder error"
        if "MAX_IMAGE_PIXELS" in reason:
            reason = "its header declares more pixels than the decoder accepts"
        raise DataError(path, f"not a readable image ({reason})") from None
    if image is None:
        raise DataError(path, "not a readable image (corrupt, truncated or unsupported format)")
    if image.size == 0:
        raise DataError(path, f"image has zero size {image.shape}")
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise DataError(path, f"unsupported pixel type {image.dtype} (8 or 16-bit expected)")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2))
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    raise DataError(path, f"unsupported image layout {image.shape}")


def _decode_mask(path: Path, data: bytes) -> Image.Image:
    """Open and fully decode with Pillow, after a structural check that catches truncation."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, zlib.error...)
        reason = str(exc) or type(exc).__name__
        raise DataError(path, f"not a readable mask image (corrupt or truncated: {reason})") from None
    return image


def read_mask(path: str | Path, label_set: LabelSet) -> np.ndarray:
    """Read a label mask as an HxW uint8 index array and check it against `label_set`.

    Palette images give their indices; single-channel images (8-bit, or 16-bit with values
    below 256) give their values; RGB/RGBA images are converted through the label set's
    colours (alpha ignored). Raises DataError naming the file when it is missing, corrupt,
    truncated, of an unsupported mode, or holds a value or colour the label set lacks.
    """
    path = Path(path)
    image = _decode_mask(path, _read_bytes(path))
    mode = image.mode
    array = np.asarray(image)
    if array.size == 0:
        raise DataError(path, f"mask has zero size {array.shape}")
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


def write_index_mask(path: str | Path, mask: np.ndarray, label_set: LabelSet) -> None:
    """Write `mask` (HxW uint8) atomically as a palette PNG: pixel values are the class
    indices and the palette holds `label_set.palette()`.

    ValueError for a mask that is not 2-D uint8 or a name not ending in .png; DataError
    naming the file for a value that is neither a class nor void.
    """
    path = Path(path)
    _check_writable_mask(path, mask, label_set)
    image = Image.fromarray(np.ascontiguousarray(mask))
    image.putpalette(label_set.palette().tobytes(), rawmode="RGB")
    with atomic_writer(path) as handle:
        image.save(handle, format="PNG")


def write_color_mask(path: str | Path, mask: np.ndarray, label_set: LabelSet) -> None:
    """Write `mask` (HxW uint8) atomically as an RGB PNG in the label set's colours
    (void in the void colour). Errors as for `write_index_mask`."""
    path = Path(path)
    _check_writable_mask(path, mask, label_set)
    image = Image.fromarray(label_set.colorize(mask))
    with atomic_writer(path) as handle:
        image.save(handle, format="PNG")
