"""Pictures made from masks, shared by `predict` and `export`: the overlay of an image with
its label colours, and PNG encoding of RGB or grey arrays (written atomically)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from segnet_core.atomic import atomic_write_bytes
from segnet_core.errors import SegNetError
from segnet_core.labels import LabelSet


def overlay_image(image: np.ndarray, labels: np.ndarray, label_set: LabelSet,
                  alpha: float) -> np.ndarray:
    """`image` (HxWx3 uint8 RGB) blended with the colours of `labels`: alpha is the colours'
    weight (0 = the image, 1 = the colour mask)."""
    colors = label_set.colorize(labels).astype(np.float32)
    blended = image.astype(np.float32) * (1.0 - alpha) + colors * alpha
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def encode_png(array: np.ndarray) -> bytes:
    """PNG bytes of an HxW grey or HxWx3 RGB uint8 array (RGB stays RGB in the file)."""
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", array)
    if not ok:
        raise SegNetError(f"could not encode a PNG of shape {array.shape}")
    return encoded.tobytes()


def encode_jpeg(image: np.ndarray, quality: int = 95) -> bytes:
    """JPEG bytes of an HxWx3 RGB uint8 image."""
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise SegNetError(f"could not encode a JPEG of shape {image.shape}")
    return encoded.tobytes()


def write_png(path: str | Path, array: np.ndarray) -> None:
    """Write an HxW grey or HxWx3 RGB uint8 array to `path` as PNG, atomically."""
    atomic_write_bytes(path, encode_png(array))


def encode_palette_png(mask: np.ndarray, palette: np.ndarray) -> bytes:
    """PNG bytes of an HxW uint8 index mask as a palette image: the pixel values stay the
    indices and `palette` ((256, 3) uint8 RGB) gives their colours in any viewer."""
    import io

    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(mask, dtype=np.uint8))
    image.putpalette(np.asarray(palette, dtype=np.uint8).tobytes(), rawmode="RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
