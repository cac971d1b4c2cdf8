"""Image files: `read_image` gives HxWx3 uint8 RGB whatever the file holds (grey, BGRA,
16-bit); every failure names the file."""

from __future__ import annotations

import zlib
from pathlib import Path

import cv2
import numpy as np

from segnet_core.errors import DataError

#: File suffixes (lower case) taken as images when scanning folders.
IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def extension_list(extensions: tuple[str, ...]) -> str:
    """`png, jpg, ...`: suffixes as messages list them."""
    return ", ".join(e.lstrip(".") for e in extensions)


def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def folder_images(folder: str | Path) -> list[Path]:
    """The image files directly in `folder` (hidden files left out), sorted by name."""
    return sorted(f for f in Path(folder).iterdir()
                  if f.is_file() and not f.name.startswith(".") and is_image_file(f))


def read_file_bytes(path: Path) -> bytes:
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


def check_png(path: Path, data: bytes) -> None:
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
        name = kind.decode("latin-1", "replace")
        if end > len(data):
            raise DataError(path, f"not a readable image (truncated PNG: ends inside chunk "
                                  f"{name!r})")
        crc = int.from_bytes(data[end - 4:end], "big")
        if kind[:1].isupper() and zlib.crc32(data[position + 4:end - 4]) != crc:
            raise DataError(path, f"not a readable image (PNG chunk {name!r} is damaged: its "
                                  "CRC does not match)")
        if kind == b"IEND":
            return
        position = end


def image_size(path: str | Path) -> tuple[int, int] | None:
    """An image file's (height, width) from its header alone, as `read_image` gives it (EXIF
    orientation not applied), or None when the header cannot tell (`read_image` then says
    why, if the file cannot be read)."""
    import warnings

    from PIL import Image  # a header read: no pixels decoded

    try:
        with warnings.catch_warnings():  # a big image's size is all that is asked
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return (height, width) if height > 0 and width > 0 else None


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as an HxWx3 uint8 RGB array.

    Grey images are repeated over 3 channels, alpha is dropped, 16-bit values are scaled to
    8 bits. EXIF orientation is not applied (masks are not rotated either). Paths may hold
    any characters. Raises DataError naming the file when it is missing, empty, corrupt,
    truncated, of zero size or of an unsupported pixel type.
    """
    path = Path(path)
    data = read_file_bytes(path)
    if data.startswith(_PNG_SIGNATURE):
        check_png(path, data)
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
