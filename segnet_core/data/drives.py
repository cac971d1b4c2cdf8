"""Drives: the recordings that data-set frames come from, for drive-held-out splits.

CamVid names every frame ``<drive>_<frame>`` (``0006R0_f02010.png``, ``0016E5_07959.png``).
Frames of one drive show the same streets, light and camera, so a fair score holds out a
whole drive: nothing trained on, and nothing chosen on, comes from it.
"""

from __future__ import annotations

from pathlib import Path

from segnet_core.data.datasets import SegmentationDataset, open_dataset
from segnet_core.errors import DataError


def drive_of(path: str | Path) -> str:
    """The drive a frame comes from: its file stem up to the first underscore."""
    return Path(path).stem.split("_", 1)[0]


def drives(dataset: SegmentationDataset) -> list[str]:
    """The data set's drives, in first-seen order."""
    return list(dict.fromkeys(drive_of(sample.image) for sample in dataset.samples))


def join(datasets: list[SegmentationDataset]) -> SegmentationDataset:
    """One data set of all the given ones' samples (one label set; duplicates dropped)."""
    first = datasets[0]
    samples = list(dict.fromkeys(s for d in datasets for s in d.samples))
    source = "+".join(str(d.source) for d in datasets)
    return SegmentationDataset(samples, first.label_set, source)


def hold_out_drive(
    dataset: SegmentationDataset, drive: str
) -> tuple[SegmentationDataset, SegmentationDataset]:
    """(frames of every other drive, frames of `drive`); DataError when `drive` has none."""
    kept = [s for s in dataset.samples if drive_of(s.image) != drive]
    held = [s for s in dataset.samples if drive_of(s.image) == drive]
    if not held:
        raise DataError(dataset.source, f"no frame of drive {drive!r}; drives here: "
                                        f"{', '.join(drives(dataset))}")
    return (SegmentationDataset(kept, dataset.label_set, f"{dataset.source} without {drive}"),
            SegmentationDataset(held, dataset.label_set, f"{dataset.source}, drive {drive}"))


def drive_frames(root: str | Path, drive: str, label_set=None,
                 splits: tuple[str, ...] = ("train", "val")) -> SegmentationDataset:
    """The frames of `drive` in a CamVid-layout folder (those of `splits`, by default its
    train and val splits), sorted by file name (time order for CamVid)."""
    every = join([open_dataset(root, split, label_set) for split in splits])
    _, held = hold_out_drive(every, drive)
    return SegmentationDataset(sorted(held.samples, key=lambda s: s.image.name),
                               held.label_set, held.source)
