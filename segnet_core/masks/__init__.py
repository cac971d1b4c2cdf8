"""Reading images and label masks, and writing masks, with errors that name the file."""

from segnet_core.masks.io import (
    IMAGE_EXTENSIONS,
    read_image,
    read_mask,
    write_color_mask,
    write_index_mask,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "read_image",
    "read_mask",
    "write_color_mask",
    "write_index_mask",
]
