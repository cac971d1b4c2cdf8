"""Data sets of (image, mask) pairs and the transforms applied to them."""

from segnet_core.data.datasets import (
    LABEL_SET_FILES,
    Sample,
    SegmentationDataset,
    folder_pair,
    open_dataset,
    read_list_file,
)
from segnet_core.data.memory import InMemoryDataset
from segnet_core.data.transforms import EvalTransform, TrainTransform, resize_pair
from segnet_core.io.images import IMAGE_EXTENSIONS

__all__ = [
    "IMAGE_EXTENSIONS",
    "LABEL_SET_FILES",
    "EvalTransform",
    "InMemoryDataset",
    "Sample",
    "SegmentationDataset",
    "TrainTransform",
    "folder_pair",
    "open_dataset",
    "read_list_file",
    "resize_pair",
]
