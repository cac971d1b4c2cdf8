"""Data-set layouts: CamVid/SegNet and Pascal VOC, with an optional train/val/test split."""

from __future__ import annotations

import bisect
import math
from typing import Sequence

import numpy as np

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


#: How many positions of one source (frames of a video, images of a folder) a block of
#: neighbouring frames spans at most: a longer run of exported frames is cut into blocks.
SPLIT_BLOCK = 10
#: Exported frames at most this many positions apart are neighbours: the same block.
NEIGHBOUR_GAP = 5
#: The split of an item set aside: a neighbour of a val or test frame whose mask may not
#: score a model (it would train on nearly the same image), so it is not exported.
SET_ASIDE = "set aside"


def _split_sizes(fractions: Sequence[float], count: int) -> list[int]:
    """The fractions of `count` rounded by largest remainder (so they add up to `count`)."""
    exact = [f * count for f in fractions]
    sizes = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - sizes[i]), i))
    for i in by_remainder[: count - sum(sizes)]:
        sizes[i] += 1
    return sizes


def split_blocks(keys: Sequence[tuple[str, int]], block: int = SPLIT_BLOCK,
                 gap: int = NEIGHBOUR_GAP,
                 links: Sequence[tuple[int, int]] = ()) -> list[list[int]]:
    """Item indices in blocks of neighbouring frames. `keys[i]` is item i's (sequence,
    position), e.g. (video, frame) or (folder, place among its images: `items.split_keys`).
    In position order, an item joins the block before it when it is at most `gap` positions
    from that block's last item and within `block` positions of its first; otherwise it
    starts a block. So a cluster of corrected frames (8-11) is one block wherever it falls,
    frames far apart are not, however few of the frames between them are exported, and an
    export of every frame is cut into runs of `block` (whose edges are neighbours still).
    `links`: pairs of items whose labels one carried to the other by a propagation; their
    blocks become one, however far apart (nearly the same labels on both sides of a split
    would flatter a model)."""
    sequences: dict[str, list[int]] = {}
    for index, (sequence, _) in enumerate(keys):
        sequences.setdefault(sequence, []).append(index)
    blocks: list[list[int]] = []
    for sequence in sorted(sequences):
        current: list[int] = []
        for index in sorted(sequences[sequence], key=lambda i: (int(keys[i][1]), i)):
            position = int(keys[index][1])
            if current and (position - int(keys[current[-1]][1]) > gap
                            or position - int(keys[current[0]][1]) >= block):
                blocks.append(current)
                current = []
            current.append(index)
        if current:
            blocks.append(current)
    return _joined(blocks, links) if links else blocks


def _joined(blocks: list[list[int]], links: Sequence[tuple[int, int]]) -> list[list[int]]:
    """`blocks` with those holding the two items of a link made one (transitively)."""
    block_of = {index: b for b, members in enumerate(blocks) for index in members}
    parent = list(range(len(blocks)))

    def root(b: int) -> int:
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    for a, b in links:
        ra, rb = root(block_of[a]), root(block_of[b])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    joined: dict[int, list[int]] = {}
    for b, members in enumerate(blocks):
        joined.setdefault(root(b), []).extend(members)
    return [sorted(members) for _b, members in sorted(joined.items())]


def assign_splits(count: int, split: Sequence[float] | None, seed: int = 0,
                  keys: Sequence[tuple[str, int]] | None = None,
                  block: int = SPLIT_BLOCK,
                  checked: Sequence[bool] | None = None,
                  links: Sequence[tuple[int, int]] = ()) -> list[str | None]:
    """The split of each of `count` items: None for all without a split. Otherwise the items
    are cut into blocks of neighbouring frames (`split_blocks` over `keys`; one item a block
    without keys), the blocks are taken largest first (in a random order fixed by `seed`
    among equal sizes), and each whole block goes to the split with the most room it fits in
    (the fractions rounded by largest remainder), else to the one it overfills least, so
    sizes are as close to the fractions as the blocks allow and no block is cut. `links`:
    pairs of items kept in one block (`split_blocks`).

    `checked`: per item, whether its mask may score a model (a person's correction, not a
    model's prediction, propagated labels, or a prediction saved as it is; None: all may).
    When some may and some may not, the checked items are split alone (their blocks, their
    links), as a validation or test set scored against a model's own labels would measure
    agreement with that model, not accuracy. Each other item trains, unless it is within
    `NEIGHBOUR_GAP` of a val or test item of its sequence, or linked to one: then it is
    `SET_ASIDE` (trained on, its nearly identical image would flatter the model on its
    neighbour). When none may, every item trains (val and test get nothing)."""
    fractions = check_split(split)
    if fractions is None:
        return [None] * count
    if keys is not None and len(keys) != count:
        raise ValueError(f"{len(keys)} split keys for {count} items")
    if checked is not None:
        if len(checked) != count:
            raise ValueError(f"{len(checked)} checked flags for {count} items")
        chosen = [i for i in range(count) if checked[i]]
        if not chosen:
            return [SPLIT_NAMES[0]] * count
        if len(chosen) < count:
            return _split_checked(count, fractions, seed, keys, block, chosen, links)
    blocks = ([[i] for i in range(count)] if keys is None
              else split_blocks(keys, block, links=links))
    splits: list[str | None] = [None] * count
    targets = _split_sizes(fractions, count)
    filled = [0] * len(targets)
    # the largest blocks first (in a random order among equal sizes, fixed by `seed`), each
    # into the split with the most room it fits in whole, else the one it overfills least:
    # taken in a random order, a one-frame block went to train first (most room), and with
    # few blocks val or test often got none they could have had (a user's check: 5
    # corrections in blocks of 1, 3 and 1 filled test in 1 seed of 8)
    shuffle = np.random.default_rng(seed).permutation(len(blocks))
    for b in sorted(range(len(blocks)), key=lambda b: (-len(blocks[b]), shuffle[b])):
        size = len(blocks[b])
        room = [targets[i] - filled[i] for i in range(len(targets))]
        fits = [i for i in range(len(targets)) if room[i] >= size]
        best = (max(fits, key=lambda i: (room[i], -i)) if fits
                else max(range(len(targets)), key=lambda i: (room[i] - size / 2, -i)))
        filled[best] += size
        for index in blocks[b]:
            splits[index] = SPLIT_NAMES[best]
    return splits


def _split_checked(count: int, fractions: Sequence[float], seed: int,
                   keys: Sequence[tuple[str, int]] | None, block: int, chosen: list[int],
                   links: Sequence[tuple[int, int]]) -> list[str | None]:
    """`assign_splits` when only the items `chosen` may score a model."""
    inner = {i: n for n, i in enumerate(chosen)}
    among = assign_splits(len(chosen), fractions, seed,
                          None if keys is None else [keys[i] for i in chosen], block,
                          links=[(inner[a], inner[b]) for a, b in links
                                 if a in inner and b in inner])
    splits: list[str | None] = [SPLIT_NAMES[0]] * count
    for i, name in zip(chosen, among):
        splits[i] = name
    held = [i for i in chosen if splits[i] != SPLIT_NAMES[0]]
    near: dict[str, list[int]] = {}  # by sequence: the held-out positions, sorted
    for i in held:
        if keys is not None:
            near.setdefault(keys[i][0], []).append(int(keys[i][1]))
    for positions in near.values():
        positions.sort()
    aside = set()
    for i in range(count):
        if i in inner or keys is None:
            continue
        positions = near.get(keys[i][0], [])
        at = bisect.bisect_left(positions, int(keys[i][1]) - NEIGHBOUR_GAP)
        if at < len(positions) and positions[at] <= int(keys[i][1]) + NEIGHBOUR_GAP:
            aside.add(i)
    groups = _joined([[i] for i in range(count)], links) if links else []
    held_set = set(held)
    for group in groups:  # linked, however far: with a held-out item, aside
        if held_set.intersection(group):
            aside.update(i for i in group if i not in inner)
    for i in aside:
        splits[i] = SET_ASIDE
    return splits


def _list_name_refusal(item: ExportItem) -> str:
    """Why `item` cannot go into a layout's list files ("" when it can): their readers (CamVid's
    `image mask` lines, the VOC devkit's) split lines on blanks."""
    if any(c.isspace() for c in item.name):
        return "the list files split lines on spaces, so a name with a space cannot go in"
    return ""


class CamVidExporter(Exporter):
    """The CamVid/SegNet layout, readable by `open_dataset(folder, split)`:
    `<split>/<stem>.png` (the image as PNG), `<split>annot/<stem>.png` (single-channel index
    PNG, void at K as in CamVid), `<split>.txt` with `<split>/x.png <split>annot/x.png` lines,
    and `label_colors.txt` (or `labels.json` when a class name reads as void). Without a split
    everything is `train`; a split with no items gets no list file."""

    format = "camvid"
    needs_image = True
    uses_split = True

    def __init__(self, out, label_set, options):
        super().__init__(out, label_set, options)
        self.lines: dict[str, list[str]] = {}

    def refusal(self, item):
        return _list_name_refusal(item)

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
    uses_split = True

    def __init__(self, out, label_set, options):
        super().__init__(out, label_set, options)
        self.added: list[tuple[str | None, str]] = []  # (split, stem) in item order
        self.voc_labels = LabelSet(label_set.names, label_set.colors, void_index=VOC_VOID,
                                   void_name=label_set.void_name, void_color=VOC_VOID_COLOR)
        self.palette = np.zeros((256, 3), np.uint8)
        self.palette[: label_set.num_classes] = np.asarray(label_set.colors, np.uint8)
        self.palette[VOC_VOID] = VOC_VOID_COLOR

    def refusal(self, item):
        return _list_name_refusal(item)

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
