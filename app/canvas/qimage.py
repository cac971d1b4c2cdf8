"""numpy arrays to QImages. Call on the GUI thread; the QImage owns a copy of the pixels,
so it outlives the array it was made from."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

_FORMATS = {3: QImage.Format.Format_RGB888, 4: QImage.Format.Format_RGBA8888}


def array_to_qimage(array: np.ndarray) -> QImage:
    """An HxWx3 (RGB) or HxWx4 (RGBA, straight alpha) uint8 array as a QImage."""
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] not in _FORMATS:
        raise ValueError(f"expected HxWx3 or HxWx4 uint8, got {array.shape} {array.dtype}")
    array = np.ascontiguousarray(array)
    height, width, channels = array.shape
    image = QImage(array.data, width, height, width * channels, _FORMATS[channels])
    return image.copy()  # detach from the numpy buffer


def qimage_to_array(image: QImage) -> np.ndarray:
    """An RGBA8888 copy of `image` as an HxWx4 uint8 array (for tests and screenshots)."""
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    height, width = image.height(), image.width()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8,
                           count=image.bytesPerLine() * height)
    return buffer.reshape(height, image.bytesPerLine())[:, :width * 4].reshape(
        height, width, 4).copy()
