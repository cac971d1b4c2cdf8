"""Data-set layouts: CamVid/SegNet and Pascal VOC, with an optional train/val/test split."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from segnet_core.errors import SegNetError
from segnet_core.io.label_files import is_void_name
from segnet_core.labels import LabelSet
from segnet_core.masks.render import encode_jpeg, encode_palette_png, encode_png

from .items import ExportItem
from .output import Exporter

#: Split names, in the order of the fractions: train, val, test.
SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")
#: Where the VOC layout puts void.
VOC_VOID = 255
#: The colour Pascal VOC's own palette gives void (index 255).
VOC_VOID_COLOR = (224, 224, 192)


def check_split(split: Sequence[float] | None) -> tuple[float, ...] | None:
    """Fractions for (train[, val[, test]]): 1 to 3 numbers in [0, 1] summing to 1."""
    if split is None:
        return None
    try:
        fractions = tuple(float(f) for f in split)
    except (TypeError, ValueError):
        raise ValueError(f"split must be 1 to 3 fractions, got {split!r}") from None
    if not 1 <= len(fractions) <= len(SPLIT_NAMES):
        raise ValueError(f"split must be 1 to 3 fractions (train, val, test), got {split!r}")
    if any(not math.isfinite(f) or f < 0 or f > 1 for f in fractions):
        raise ValueError(f"split fractions must be in [0, 1], got {split!r}")
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must add up to 1, got {split!r} "
                         f"(sum {sum(fractions):g})")
    return fractions


#: About how many consecutive frames of one source form a block that stays in one split.
SPLIT_BLOCK = 10


def _split_sizes(fractions: Sequence[float], count: int) -> list[int]:
    """The fractions of `count` rounded by largest remainder (so they add up to `count`)."""
    exact = [f * count for f in fractions]
    sizes = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - sizes[i]), i))
    for i in by_remainder[: count - sum(sizes)]:
        sizes[i] += 1
    return sizes


def split_blocks(keys: Sequence[tuple[str, int]], block: int = SPLIT_BLOCK) -> list[list[int]]:
    """Item indices in blocks of neighbouring frames: `keys[i]` is item i's (sequence,
    position), e.g. (video, frame) or (folder, place in the folder: `items.split_keys`); the
    items of one sequence within one stretch of `block` positions (0-9, 10-19, ...) share a
    block, so neighbouring frames stay in one split and frames far apart do not, however
    few of the frames between them are exported."""
    blocks: dict[tuple[str, int], list[int]] = {}
    for index, (sequence, position) in enumerate(keys):
        blocks.setdefault((sequence, int(position) // max(1, block)), []).append(index)
    return [sorted(blocks[key], key=lambda i: (keys[i][1], i)) for key in sorted(blocks)]


def assign_splits(count: int, split: Sequence[float] | None, seed: int = 0,
                  keys: Sequence[tuple[str, int]] | None = None,
                  block: int = SPLIT_BLOCK,
                  checked: Sequence[bool] | None = None) -> list[str | None]:
    """The split of each of `count` items: None for all without a split. Otherwise the items
    are cut into blocks (`split_blocks` over `keys`; one item a block without keys), the
    blocks are taken in a random order fixed by `seed`, and each whole block goes to the
    split furthest below its size (the fractions of `count` rounded by largest remainder),
    so sizes are as close to the fractions as the blocks allow and no block is cut.

    `checked`: per item, whether a person made or checked its mask (a correction, not a
    model's prediction nor propagated labels not accepted). When some are and some are not,
    the fractions split the checked items alone and every other item trains: a validation
    or test set scored against a model's own labels would measure agreement with that model,
    not accuracy."""
    fractions = check_split(split)
    if fractions is None:
        return [None] * count
    if checked is not None:
        if len(checked) != count:
            raise ValueError(f"{len(checked)} checked flags for {count} items")
        chosen = [i for i in range(count) if checked[i]]
        if 0 < len(chosen) < count:
            inner = assign_splits(len(chosen), fractions, seed,
                                  None if keys is None else [keys[i] for i in chosen], block)
            splits: list[str | None] = [SPLIT_NAMES[0]] * count
            for index, name in zip(chosen, inner):
                splits[index] = name
            return splits
    if keys is None:
        blocks = [[i] for i in range(count)]
    else:
        if len(keys) != count:
            raise ValueError(f"{len(keys)} split keys for {count} items")
        blocks = split_blocks(keys, block)
    targets = _split_sizes(fractions, count)
    filled = [0] * len(targets)
    splits = [None] * count
    for b in np.random.default_rng(seed).permutation(len(blocks)):
        members = blocks[int(b)]
        # the split whose size ends closest to its target once the block is in
        best = max(range(len(targets)),
                   key=lambda i: (targets[i] - filled[i] - len(members) / 2, -i))
        filled[best] += len(members)
        for index in members:
            splits[index] = SPLIT_NAMES[best]
    return splits


def _check_list_name(item: ExportItem, fmt: str) -> None:
    if any(c.isspace() for c in item.name):
        raise SegNetError(f"{item.name!r}: names with spaces cannot go into the {fmt} list "
                          "files (they split lines on spaces); rename the file")


class CamVidExporter(Exporter):
    """The CamVid/SegNet layout, readable by `open_dataset(folder, split)`:
    `<split>/<stem>.png` (the image as PNG), `<split>annot/<stem>.png` (single-channel index
    PNG, void at K as in CamVid), `<split>.txt` with `<split>/x.png <split>annot/x.png` lines,
    and `label_colors.txt` (or `labels.json` when a class name reads as void). Without a split
    everything is `train`; a split with no items gets no list file."""

    format = "camvid"
    needs_image = True

    def __init__(self, out, label_set, options):
        super().__init__(out, label_set, options)
        self.lines: dict[str, list[str]] = {}

    def check_item(self, item):
        _check_list_name(item, "CamVid")

    def add(self, item, mask, image, split):
        split = split or "train"
        k, void = self.label_set.num_classes, self.label_set.void_index
        if void != k:
            mask = np.where(mask == void, np.uint8(k), mask)
        image_rel, mask_rel = f"{split}/{item.name}.png", f"{split}annot/{item.name}.png"
        self.out.write_bytes(image_rel, encode_png(image), item, role="image", split=split)
        self.out.write_bytes(mask_rel, encode_png(mask), item, role="mask", split=split)
        self.lines.setdefault(split, []).append(f"{image_rel} {mask_rel}")

    def finish(self):
        for split in SPLIT_NAMES:
            if self.lines.get(split):
                text = "\n".join(self.lines[split]) + "\n"
                self.out.write_bytes(f"{split}.txt", text.encode("utf-8"), None, split=split,
                                     count=len(self.lines[split]))
        labels = self.label_set
        void_name = labels.void_name if is_void_name(labels.void_name) else "Void"
        if void_name.casefold() in (n.casefold() for n in labels.names):
            void_name = "Unlabelled"
        camvid = LabelSet(labels.names, labels.colors, void_name=void_name,
                          void_color=labels.void_color)
        name = ("labels.json" if any(is_void_name(n) for n in camvid.names)
                else "label_colors.txt")
        self.out.write_with(name, camvid.write, None)


class VocExporter(Exporter):
    """The Pascal VOC layout: `JPEGImages/<stem>.jpg`, `SegmentationClass/<stem>.png`
    (palette PNG of class indices, void remapped to 255, palette with the class colours and
    VOC's own void colour (224, 224, 192) at 255),
    `ImageSets/Segmentation/{train,val,test,trainval}.txt` (only
    `trainval.txt` without a split), `labels.txt` (class names in index order) and
    `labels.json` (the label set with void at 255, for `read_mask`/`open_dataset`)."""

    format = "voc"
    needs_image = True

    def __init__(self, out, label_set, options):
        super().__init__(out, label_set, options)
        self.added: list[tuple[str | None, str]] = []  # (split, stem) in item order
        self.voc_labels = LabelSet(label_set.names, label_set.colors, void_index=VOC_VOID,
                                   void_name=label_set.void_name, void_color=VOC_VOID_COLOR)
        self.palette = np.zeros((256, 3), np.uint8)
        self.palette[: label_set.num_classes] = np.asarray(label_set.colors, np.uint8)
        self.palette[VOC_VOID] = VOC_VOID_COLOR

    def check_item(self, item):
        _check_list_name(item, "VOC")

    def add(self, item, mask, image, split):
        void = self.label_set.void_index
        if void != VOC_VOID:
            mask = np.where(mask == void, np.uint8(VOC_VOID), mask)
        self.out.write_bytes(f"JPEGImages/{item.name}.jpg", encode_jpeg(image), item,
                             role="image", split=split)
        self.out.write_bytes(f"SegmentationClass/{item.name}.png",
                             encode_palette_png(mask, self.palette), item, role="mask",
                             split=split)
        self.added.append((split, item.name))

    def _list(self, name: str, stems: list[str]) -> None:
        text = "".join(f"{stem}\n" for stem in stems)
        self.out.write_bytes(f"ImageSets/Segmentation/{name}.txt", text.encode("utf-8"), None,
                             count=len(stems))

    def finish(self):
        splits = {split for split, _ in self.added}
        if None in splits or not splits:
            self._list("trainval", [stem for _, stem in self.added])
        else:
            for name in SPLIT_NAMES:
                if name in splits:
                    self._list(name, [stem for split, stem in self.added if split == name])
            self._list("trainval", [stem for split, stem in self.added
                                    if split in ("train", "val")])
        names = "".join(f"{name}\n" for name in self.label_set.names)
        self.out.write_bytes("labels.txt", names.encode("utf-8"), None)
        self.out.write_with("labels.json", self.voc_labels.write, None)
