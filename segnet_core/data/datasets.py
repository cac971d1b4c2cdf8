"""Segmentation data sets: pairs of image and mask files, and the folder layouts they come in.

Accepted layouts (see `open_dataset`):

* a list file with one ``image annotation`` pair per line, paths relative to the list file's
  folder (CamVid's ``train.txt``);
* a folder holding ``{split}.txt`` (the CamVid layout);
* a folder with ``{split}/images`` and ``{split}/masks``;
* a folder with ``images/`` and ``masks/``, matched by file stem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from segnet_core.errors import DataError
from segnet_core.labels import LabelSet, camvid_label_set
from segnet_core.io.images import IMAGE_EXTENSIONS, read_image
from segnet_core.io.masks import read_mask
from segnet_core.io.text_files import read_text

#: Label-set files looked for beside a data set, in this order.
LABEL_SET_FILES: tuple[str, ...] = ("label_colors.txt", "labels.json")

_MAX_LISTED = 5


@dataclass(frozen=True)
class Sample:
    """One image file and its mask file."""

    image: Path
    mask: Path


class SegmentationDataset:
    """An indexable list of (image, mask) file pairs; usable as a torch Dataset.

    ``dataset[i]`` reads the pair as (HxWx3 uint8 RGB image, HxW uint8 index mask), with the
    mask checked against `label_set`. `source` is where the list came from (a list file or
    folder), for messages.
    """

    def __init__(self, samples: Iterable[Sample], label_set: LabelSet, source: str | Path):
        self.samples: tuple[Sample, ...] = tuple(samples)
        self.label_set = label_set
        self.source = Path(source)

    def __len__(self) -> int:
        return len(self.samples)

    def __repr__(self) -> str:
        return (
            f"SegmentationDataset({len(self.samples)} samples from {str(self.source)!r}, "
            f"{self.label_set.num_classes} classes)"
        )

    def read_image(self, i: int) -> np.ndarray:
        """Sample `i`'s image as HxWx3 uint8 RGB (DataError naming the file on failure)."""
        return read_image(self.samples[i].image)

    def read_mask(self, i: int) -> np.ndarray:
        """Sample `i`'s mask as HxW uint8 class indices, checked against the label set."""
        return read_mask(self.samples[i].mask, self.label_set)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(image, mask) of sample `i`; DataError naming the mask file and both sizes when
        the mask's size differs from the image's. IndexError past the end."""
        sample = self.samples[i]
        image = read_image(sample.image)
        mask = read_mask(sample.mask, self.label_set)
        if mask.shape != image.shape[:2]:
            raise DataError(
                sample.mask,
                f"mask size {mask.shape[0]}x{mask.shape[1]} (height x width) differs from the "
                f"size {image.shape[0]}x{image.shape[1]} of its image {sample.image}",
            )
        return image, mask


def read_list_file(path: str | Path, label_set: LabelSet) -> SegmentationDataset:
    """Read a list file of ``image annotation`` lines (blank lines and ``#`` comments skipped).

    Relative paths are taken from the list file's folder; absolute ones are allowed. Paths
    cannot hold spaces. Raises DataError naming the list file (and the line number) when it
    is missing or empty, a line does not have exactly two fields, or names a missing file.
    """
    path = Path(path)
    text = read_text(path, DataError, "list file")
    folder = path.parent
    samples: list[Sample] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 2:
            raise DataError(
                path,
                f"line {lineno}: expected 'image annotation' (2 fields), got {len(fields)}: "
                f"{line!r}",
            )
        image, mask = (folder / field for field in fields)
        for what, file in (("image", image), ("annotation", mask)):
            try:
                found = file.is_file()
            except OSError as exc:  # a name too long for the file system, ...
                raise DataError(path, f"line {lineno}: cannot use {what} path "
                                      f"({exc.strerror or exc}): {str(file)[:200]}") from None
            if not found:
                raise DataError(path, f"line {lineno}: {what} file not found: {file}")
        samples.append(Sample(image=image, mask=mask))
    if not samples:
        raise DataError(path, "list file holds no 'image annotation' lines")
    return SegmentationDataset(samples, label_set, path)


def _files_by_stem(folder: Path, what: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for file in sorted(folder.iterdir()):
        if file.name.startswith(".") or not file.is_file():
            continue
        if file.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if file.stem in found:
            raise DataError(
                folder,
                f"two {what} files share the stem {file.stem!r}: {found[file.stem].name} "
                f"and {file.name}",
            )
        found[file.stem] = file
    return found


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    if len(names) > _MAX_LISTED:
        shown += f" and {len(names) - _MAX_LISTED} more"
    return shown


def folder_pair(root: str | Path, label_set: LabelSet) -> SegmentationDataset:
    """Pair ``root/images`` with ``root/masks`` by file stem (``a.jpg`` with ``a.png``).

    Image suffixes: png, jpg, jpeg, bmp, tif, tiff (any case); hidden files are skipped;
    masks without an image are ignored. Raises DataError when a folder is missing, when
    images lack a mask (naming some), when two files share a stem, or when there is nothing.
    """
    root = Path(root)
    images_dir, masks_dir = root / "images", root / "masks"
    for folder in (images_dir, masks_dir):
        if not folder.is_dir():
            raise DataError(folder, "folder not found (expected images/ and masks/ side by side)")
    images = _files_by_stem(images_dir, "image")
    masks = _files_by_stem(masks_dir, "mask")
    if not images:
        raise DataError(
            images_dir, f"no images ({', '.join(e.lstrip('.') for e in IMAGE_EXTENSIONS)})"
        )
    unmatched = [file.name for stem, file in images.items() if stem not in masks]
    if unmatched:
        raise DataError(
            masks_dir,
            f"{len(unmatched)} of {len(images)} images have no mask with the same stem: "
            f"{_some(unmatched)}",
        )
    samples = [Sample(image=file, mask=masks[stem]) for stem, file in images.items()]
    return SegmentationDataset(samples, label_set, root)


def _label_set_near(*folders: Path) -> LabelSet:
    """The first label-set file found in `folders`, else the CamVid label set."""
    for folder in folders:
        for name in LABEL_SET_FILES:
            candidate = folder / name
            if candidate.is_file():
                return LabelSet.read(candidate)
    return camvid_label_set()


def open_dataset(
    path: str | Path, split: str = "train", label_set: LabelSet | None = None
) -> SegmentationDataset:
    """Open a data set from a list file or a folder, trying the layouts in this order:

    1. `path` is a file: a list file of ``image annotation`` lines;
    2. a folder holding ``{split}.txt`` (CamVid);
    3. a folder with ``{split}/images`` and ``{split}/masks``;
    4. a folder with ``images/`` and ``masks/``.

    The label set is `label_set` when given, else ``label_colors.txt`` or ``labels.json``
    found beside the data (in the split folder, then in `path`), else CamVid's. Raises
    DataError (LabelSetError for a bad label-set file) naming the path, saying which layouts
    are accepted when none matches.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(path, "no such file or folder")
    if path.is_file():
        labels = label_set or _label_set_near(path.parent)
        return read_list_file(path, labels)
    list_file = path / f"{split}.txt"
    if list_file.is_file():
        labels = label_set or _label_set_near(path)
        return read_list_file(list_file, labels)
    split_dir = path / split
    if (split_dir / "images").is_dir() and (split_dir / "masks").is_dir():
        labels = label_set or _label_set_near(split_dir, path)
        return folder_pair(split_dir, labels)
    if (path / "images").is_dir() and (path / "masks").is_dir():
        labels = label_set or _label_set_near(path)
        return folder_pair(path, labels)
    raise DataError(
        path,
        f"not a data set for split {split!r}; accepted layouts: a list file of "
        f"'image annotation' lines; a folder holding {split}.txt (CamVid); a folder with "
        f"{split}/images and {split}/masks; a folder with images/ and masks/",
    )


__all__ = [
    "LABEL_SET_FILES",
    "Sample",
    "SegmentationDataset",
    "folder_pair",
    "open_dataset",
    "read_list_file",
]
