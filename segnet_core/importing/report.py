"""What an import found and did: typed fields for the window, and lines of text for both."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Callable

import numpy as np

from segnet_core.labels import LabelSet
from segnet_core.wording import some_names


class ImportFormat(str, Enum):
    """The label formats `import_labels` reads (AUTO: find out from the source)."""

    AUTO = "auto"
    CAMVID = "camvid"
    VOC = "voc"
    COCO = "coco"
    COLOR = "color"
    INDEX = "index"


#: A mask as read from a source: the HxW uint8 mask in the label set's indices, and the
#: pixels per unknown class (label -> count) that became void.
Decoded = tuple[np.ndarray, dict[str, int]]


@dataclass(frozen=True)
class SourceMask:
    """One mask in a source: `stem` is matched against the images' stems; `origin` is the
    file holding it (named in errors and reports); `read()` decodes it; `size` is the
    (height, width) the source declares for it before it is decoded (COCO), else None."""

    stem: str
    origin: Path
    read: Callable[[], Decoded] = field(compare=False, repr=False)
    size: tuple[int, int] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class UnknownClass:
    """A class of the source the label set lacks; its pixels were made void. `label` is a
    quoted name, ``value N`` or ``colour (r, g, b)``."""

    label: str
    pixels: int
    files: int


@dataclass
class ImportReport:
    """The outcome of `import_labels`.

    `written` are the masks written (paths), `replaced` those of them that replaced a mask
    saved there before (overwrite); `kept` the existing masks left alone (no overwrite);
    `held` the masks left alone because the caller holds edits of them not saved yet;
    `masks_without_image` the source masks no image matched; `images_without_mask` the
    images no source mask matched; `unknown_classes` the source classes the label set lacks
    (made void); `notes` other remarks about the source.
    `cancelled`: stopped before the end, nothing written.
    """

    source: Path
    format: ImportFormat
    detected: str  # why `auto` chose the format; "" when it was given
    images_dir: Path
    out_dir: Path
    label_set: LabelSet
    written: list[Path] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    held: list[Path] = field(default_factory=list)
    masks_without_image: list[SourceMask] = field(default_factory=list)
    images_without_mask: list[Path] = field(default_factory=list)
    unknown_classes: list[UnknownClass] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cancelled: bool = False
    #: the export manifest that marks masks as not corrected (None: none applies)
    marks_from: Path | None = None
    uncorrected_left_out: list[SourceMask] = field(default_factory=list)
    uncorrected_imported: list[SourceMask] = field(default_factory=list)
    carried_noted: int = 0  # imported masks noted as carried by propagation again
    #: masks the export set aside from its split layouts, so not in this (layout) source
    set_aside_missing: list[str] = field(default_factory=list)
    #: imported masks listed as saved as predicted again (their names in the labels folder)
    as_predicted_noted: list[str] = field(default_factory=list)
    #: the videos in the images folder, by name, to say how their frames' masks are named
    #: when masks match nothing (a user's check: CVAT's frame_000000.png matched nothing,
    #: and nothing said clip_000000.png was wanted)
    videos: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every source mask was written with every class known."""
        return not (self.cancelled or self.kept or self.held or self.masks_without_image
                    or self.unknown_classes)

    @property
    def needs_attention(self) -> bool:
        """Whether something was lost or may be wrong: masks no image matched (a naming
        mismatch?) or classes made void. Masks kept, images without a mask and the notes
        (how classes were mapped; COCO boxes without a segmentation, said in their line)
        are what an import of a few corrections from another tool gives."""
        return bool(self.masks_without_image or self.unknown_classes or self.held)

    def _video_names_hint(self) -> str:
        """How masks of the folder's video frames must be named ("" without videos)."""
        if not self.videos:
            return ""
        video = self.videos[0]
        stem = Path(video).stem
        return (f" (a video's frame is matched by <video name>_<frame index, 6 digits>: "
                f"{stem}_000000.png is frame 1 of {video}; rename the masks so)")

    def format_line(self) -> str:
        if self.detected:
            return f"format: {self.format.value} (detected: {self.detected})"
        return f"format: {self.format.value}"

    def lines(self, limit: int = 10) -> list[str]:
        """The report as lines of text, each list cut after `limit` entries."""
        if self.cancelled:
            return ["cancelled: nothing was written"]
        lines = [f"imported {len(self.written)} mask(s) into {self.out_dir}"]
        if self.replaced:
            lines.append(f"replaced {len(self.replaced)} mask(s) saved there before: "
                         + some_names([p.name for p in self.replaced], limit))
        if self.kept:
            lines.append(f"kept {len(self.kept)} existing mask(s), not asked to replace them: "
                         + some_names([p.name for p in self.kept], limit))
        if self.held:
            lines.append(f"left {len(self.held)} mask(s) alone: edited in the window and not "
                         "saved (their saving would replace the import; save or discard "
                         "those edits, then import again): "
                         + some_names([p.name for p in self.held], limit))
        if self.masks_without_image:
            lines.append(f"{len(self.masks_without_image)} mask(s) without an image in "
                         f"{self.images_dir}: "
                         + some_names([f"{m.stem} ({m.origin})"
                                       for m in self.masks_without_image], limit)
                         + self._video_names_hint())
        if self.images_without_mask:
            lines.append(f"{len(self.images_without_mask)} image(s) without a mask in the "
                         "source (left as they were): "
                         + some_names([p.name for p in self.images_without_mask], limit))
        if self.uncorrected_left_out:
            lines.append(f"left out {len(self.uncorrected_left_out)} mask(s) that "
                         f"{self.marks_from} marks as not corrected (a model's predictions or "
                         "propagated labels not accepted): imported, they would count as "
                         "corrections (--include-uncorrected, or the import dialog's box, "
                         "imports them): "
                         + some_names([m.stem for m in self.uncorrected_left_out], limit))
        if self.set_aside_missing:
            lines.append(f"{len(self.set_aside_missing)} mask(s) the export set aside from its "
                         "split layouts (beside a val or test frame) are not in this folder; "
                         "its other formats (index/, color/) hold them: "
                         + some_names(self.set_aside_missing, limit))
        if self.uncorrected_imported:
            lines.append(f"imported {len(self.uncorrected_imported)} mask(s) that "
                         f"{self.marks_from} marks as not corrected: they count as corrections "
                         "now")
        if self.as_predicted_noted:
            lines.append(f"listed {len(self.as_predicted_noted)} mask(s) the export marks as "
                         "saved as predicted in as_predicted.txt: they stay no evidence of how "
                         "right a model is")
        if self.carried_noted:
            lines.append(f"noted {self.carried_noted} mask(s) the export marks as carried by "
                         "propagation in propagated_from.txt: partly a model's labels, they "
                         "stay no evidence of how right a model is")
        if self.unknown_classes:
            lines.append(f"{len(self.unknown_classes)} class(es) not in the label set, made "
                         "void: " + some_names([f"{u.label} ({u.pixels} px in {u.files} "
                                                f"file(s))" for u in self.unknown_classes],
                                               limit))
        lines.extend(self.notes)
        return lines

