"""From a source's labels to the label set's class indices.

A source names its classes (CamVid's label_colors.txt, VOC's labels.txt, COCO's
categories) or only numbers them (plain index PNGs) or colours them (colour PNGs). Names are
matched case-insensitively; a void-like name (or the label set's void name) becomes void.
Whatever the label set lacks becomes void too, and is counted in an `UnknownTally`, so the
report can name every unknown class with its pixels and files.
"""

from __future__ import annotations

from collections import Counter
from typing import Mapping

import numpy as np

from segnet_core.io.label_files import is_void_name
from segnet_core.labels import LabelSet

from .report import UnknownClass

#: Value a plain index mask may use for void besides the label set's void index (VOC's).
COMMON_VOID = 255
_UNKNOWN = -1
_LUT_SIZE = 1 << 16  # 8- and 16-bit mask values


def class_index(name: str, label_set: LabelSet) -> int | None:
    """The label set's index for a class name (the void index for a void-like name), or
    None when the label set has no class of that name."""
    key = name.strip().casefold()
    if is_void_name(key) or key == label_set.void_name.casefold():
        return label_set.void_index
    for index, known in enumerate(label_set.names):
        if known.casefold() == key:
            return index
    return None


def color_text(color: tuple[int, int, int]) -> str:
    return "colour (" + ", ".join(str(int(c)) for c in color) + ")"


def is_named(label: str) -> bool:
    """Whether an unknown class's label (as `ValueMap` and `ColorMap` count them) is a class
    the source names, which the label set lacks ("'background'"), not a value or colour
    the source does not name at all ("value 37", "colour (1, 2, 3)")."""
    return label[:1] in ("'", '"')  # repr() quotes a name with ' in it with "


class UnknownTally:
    """Pixels and files per unknown class, gathered over a whole import."""

    def __init__(self) -> None:
        self.pixels: Counter[str] = Counter()
        self.files: Counter[str] = Counter()

    def add_file(self, pixels: Mapping[str, int]) -> None:
        """Count one file's unknown pixels (label -> pixel count)."""
        for label, count in pixels.items():
            if count:
                self.pixels[label] += int(count)
                self.files[label] += 1

    def classes(self) -> list[UnknownClass]:
        """The unknown classes, most pixels first."""
        return [UnknownClass(label, count, self.files[label])
                for label, count in sorted(self.pixels.items(), key=lambda kv: (-kv[1], kv[0]))]


class ValueMap:
    """Maps mask values (8- or 16-bit) to the label set's indices through a lookup table."""

    def __init__(self, label_set: LabelSet, table: np.ndarray, names: Mapping[int, str]):
        self.label_set = label_set
        self.table = table
        self.names = dict(names)

    @classmethod
    def by_index(cls, label_set: LabelSet) -> "ValueMap":
        """Values are the class indices; the void index and 255 are void."""
        table = np.full(_LUT_SIZE, _UNKNOWN, dtype=np.int16)
        table[: label_set.num_classes] = np.arange(label_set.num_classes)
        table[label_set.void_index] = table[COMMON_VOID] = label_set.void_index
        return cls(label_set, table, {})

    @classmethod
    def by_name(cls, label_set: LabelSet, names: Mapping[int, str],
                void_values: tuple[int, ...] = ()) -> "ValueMap":
        """Value v is the class called `names[v]`; `void_values` are void; any other value
        (or a name the label set lacks) is unknown."""
        table = np.full(_LUT_SIZE, _UNKNOWN, dtype=np.int16)
        for value in void_values:
            table[value] = label_set.void_index
        for value, name in names.items():
            index = class_index(name, label_set)
            table[value] = _UNKNOWN if index is None else index
        return cls(label_set, table, names)

    @classmethod
    def from_label_set(cls, label_set: LabelSet, source: LabelSet) -> "ValueMap":
        """Values are indices of the `source` label set, mapped by class name; its void
        index is void, and so is 255 unless a class of the source has that index (as
        `by_index` reads masks without a label set)."""
        void = (source.void_index,) if source.num_classes > COMMON_VOID else \
            (source.void_index, COMMON_VOID)
        return cls.by_name(label_set, dict(enumerate(source.names)), void)

    def label(self, value: int) -> str:
        name = self.names.get(value)
        return repr(name) if name is not None else f"value {value}"

    def apply(self, values: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
        """The HxW uint8 mask of `values` and the unknown pixels per label."""
        mapped = self.table[values]
        unknown = mapped == _UNKNOWN
        counts: dict[str, int] = {}
        if unknown.any():
            found, pixels = np.unique(values[unknown], return_counts=True)
            for value, count in zip(found.tolist(), pixels.tolist()):
                counts[self.label(value)] = counts.get(self.label(value), 0) + count
            mapped[unknown] = self.label_set.void_index
        return mapped.astype(np.uint8), counts


class ColorMap:
    """Maps RGB colours to the label set's indices: each colour of `colors` is the class
    named beside it (or, without names, the label set's class of that colour)."""

    def __init__(self, label_set: LabelSet, source: LabelSet | None = None):
        self.label_set = label_set
        self.index: dict[int, int] = {}
        self.names: dict[int, str] = {}
        reference = source or label_set
        entries = list(zip(reference.colors, reference.names))
        entries.append((reference.void_color, reference.void_name))
        for color, name in entries:
            key = _key(color)
            found = class_index(name, label_set)
            self.names[key] = name
            if found is not None:
                self.index[key] = found

    def apply(self, rgb: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
        """The HxW uint8 mask of an HxWx3 uint8 RGB image and the unknown pixels per label."""
        keys = ((rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8)
                | rgb[..., 2].astype(np.int32))
        found, inverse, pixels = np.unique(keys, return_inverse=True, return_counts=True)
        table = np.empty(found.size, dtype=np.uint8)
        counts: dict[str, int] = {}
        for i, (key, count) in enumerate(zip(found.tolist(), pixels.tolist())):
            index = self.index.get(key)
            if index is None:
                name = self.names.get(key)
                label = repr(name) if name is not None else color_text(_color(key))
                counts[label] = counts.get(label, 0) + count
                index = self.label_set.void_index
            table[i] = index
        return table[inverse.reshape(keys.shape)], counts


def _key(color) -> int:
    r, g, b = (int(c) for c in color)
    return (r << 16) | (g << 8) | b


def _color(key: int) -> tuple[int, int, int]:
    return (key >> 16) & 255, (key >> 8) & 255, key & 255
