"""Export items from files: images, folders and videos whose corrected masks lie in a
labels folder (`<stem>.png`, `<stem>_<frame:06d>.png` for a video frame), and the model's
prediction where a mask is missing, when asked. A mask the folder's `propagated.txt` lists
holds propagated labels not accepted yet: exported as such, never as a correction."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from segnet_core.errors import SegNetError
from segnet_core.io.inputs import ErrorHandler, InputKind, find_inputs
from segnet_core.io.masks import read_mask
from segnet_core.io.video import VideoFrames
from segnet_core.labels import LabelSet
from segnet_core.masks.labels_folder import (AS_PREDICTED, LABELS_FOLDER, PROPAGATED,
                                             PROPAGATED_FROM, LabelsFolder, NameList,
                                             carried_sources, mask_name)

from .items import ExportItem, SourceSizes


class MaskedInputs:
    """The export items of image files, folders and videos whose masks are in a labels
    folder, found lazily: masks and images are read when the export reaches them, and each
    video stays open for its frames (until `close`).

    `masks`: the labels folder of every input (None: `labels/` beside each input, inside a
    folder given as input). `predict_missing`: an image or frame without a mask becomes an
    item whose mask is the model's prediction; else it is only counted (`without_mask`).
    Inputs that cannot be used go to `on_error(path, error)`. A `propagated.txt` that cannot
    be read raises DataError naming it (which masks are not accepted cannot be told).
    """

    def __init__(self, paths: Sequence[str | Path], masks: str | Path | None = None,
                 predict_missing: bool = False, on_error: ErrorHandler | None = None):
        self.paths = [Path(p) for p in paths]
        self.masks = None if masks is None else Path(masks)
        self.predict_missing = predict_missing
        self.report = on_error
        self.videos: list[VideoFrames] = []
        self.entries: list[tuple[str, Path, int | None, Path | None, Any]] = []
        self.without_mask = 0
        self._lists: dict[tuple[Path, str], set[str]] = {}  # by (labels folder, list)
        self._carried: dict[Path, dict[str, tuple[str, ...]]] = {}  # by labels folder

    def masks_dir(self, path: Path) -> Path:
        """The labels folder of the input `path`."""
        if self.masks is not None:
            return self.masks
        return (path if path.is_dir() else path.parent) / LABELS_FOLDER

    def masks_dirs(self) -> list[Path]:
        """The labels folders of all inputs, each once, in input order."""
        return list(dict.fromkeys(self.masks_dir(path) for path in self.paths))

    def scan(self) -> None:
        """Find the inputs' images, frames and masks (reading no image)."""
        for found in find_inputs(self.paths, self.report):
            if found.kind is InputKind.IMAGE:
                self._image(found.path, self.masks_dir(found.given))
            else:
                self._video(found.path, self.masks_dir(found.given))

    def _image(self, file: Path, masks: Path) -> None:
        mask = masks / f"{file.stem}.png"
        if mask.is_file():
            self.entries.append((file.stem, file, None, mask, file))
        elif self.predict_missing:
            self.entries.append((file.stem, file, None, None, file))
        else:
            self.without_mask += 1

    def _video(self, path: Path, masks: Path) -> None:
        try:
            video = VideoFrames(path)
        except SegNetError as error:
            if self.report is None:
                raise
            self.report(path, error)
            return
        self.videos.append(video)
        pattern = re.compile(re.escape(path.stem) + r"_(\d{6,})\.png$")
        masked: dict[int, Path] = {}
        if masks.is_dir():
            for file in masks.iterdir():
                match = pattern.fullmatch(file.name)
                if match and file.is_file():
                    masked[int(match.group(1))] = file
        if self.predict_missing:
            for _ in video.frames(every=1 << 30):  # grab to the end: the true frame count
                pass
            frames = range(max(video.frames_read, max(masked, default=-1) + 1))
        else:
            frames = sorted(masked)
            self.without_mask += max(0, (video.frame_count or 0) - len(masked))
        for index in frames:
            self.entries.append((Path(mask_name(path, index)).stem, path, index, masked.get(index),
                                 video))

    def propagated(self, mask_file: Path) -> bool:
        """Whether the mask holds propagated labels not accepted yet (its folder's
        `propagated.txt` lists it)."""
        return mask_file.name in self._names(mask_file.parent, PROPAGATED)

    def scorable(self, mask_file: Path) -> bool:
        """Whether the mask may score a model: not a prediction saved as it is
        (`as_predicted.txt`) nor labels carried by a propagation (`propagated_from.txt`)."""
        return mask_file.name not in self._names(mask_file.parent, AS_PREDICTED) and \
            not self.carried_from(mask_file)

    def carried_from(self, mask_file: Path) -> tuple[str, ...]:
        """The stems of the masks the mask's labels were carried from by a propagation."""
        folder = mask_file.parent
        if folder not in self._carried:
            self._carried[folder] = carried_sources(self._names(folder, PROPAGATED_FROM))
        return tuple(Path(name).stem for name in self._carried[folder].get(mask_file.name, ()))

    def _names(self, folder: Path, kind: NameList) -> set[str]:
        """A labels folder's list, read once."""
        if (folder, kind.file) not in self._lists:
            self._lists[folder, kind.file] = LabelsFolder(folder).read_names(kind)
        return self._lists[folder, kind.file]

    def close(self) -> None:
        """Close the videos the items read their frames from."""
        for video in self.videos:
            video.close()

    def items(self, label_set: LabelSet, predictor=None) -> list[ExportItem]:
        """One ExportItem per image or frame found: its mask file read through `label_set`
        (corrected, or propagated not accepted yet), else `predictor`'s labels of its image
        (predicted)."""
        items, sizes = [], SourceSizes()
        for name, source, frame, mask_file, reader in self.entries:
            if frame is None:
                image = source
                fps = None
                size = (lambda file=source: sizes.of(file))
            else:
                image = (lambda video=reader, index=frame: video.read(index))
                fps = reader.fps or None
                size = reader.size
            item = ExportItem(name=name, mask=None, corrected=mask_file is not None,
                              image=image, source=source, frame=frame, fps=fps, size=size,
                              propagated=mask_file is not None and self.propagated(mask_file),
                              scorable=mask_file is None or self.scorable(mask_file),
                              carried_from=() if mask_file is None
                              else self.carried_from(mask_file))
            if mask_file is not None:
                item.mask = lambda file=mask_file: read_mask(file, label_set)
            else:
                item.mask = lambda it=item: predictor.predict(it.load_image()).labels
            items.append(item)
        return items
