"""Label sets: the classes of a segmentation task, their colours and the void (ignored) label.

A `LabelSet` holds K real classes with indices 0..K-1 and one void index in [K, 255] (CamVid
puts void at K = 11, Pascal VOC at 255). Void pixels are left out of the loss and every metric.

Label sets are read from and written to label_colors.txt and JSON files
(`LabelSet.read`, `LabelSet.write`; the forms: `segnet_core.io.label_files`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from segnet_core.errors import DataError, LabelSetError
from segnet_core.io.label_files import (MAX_CLASSES, Color, check_name, color_text,
                                        read_label_file, write_label_file)

_RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def _free_color(used: Iterable[Color]) -> Color:
    """Black if unused, else the first unused grey from white down (one always exists)."""
    taken = set(used)
    for value in (0, *range(255, 0, -1)):
        candidate = (value, value, value)
        if candidate not in taken:
            return candidate
    raise ValueError("no free colour")  # unreachable: at most 255 classes use 256 greys


def _check_color(color: Any, what: str) -> Color:
    try:
        values = tuple(color)
    except TypeError:
        raise ValueError(f"{what}: colour must be 3 integers, got {color!r}") from None
    if len(values) != 3 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
    ):
        raise ValueError(f"{what}: colour must be 3 integers, got {color!r}")
    if not all(0 <= int(v) <= 255 for v in values):
        raise ValueError(f"{what}: colour values must be in 0..255, got {color_text(values)}")
    return (int(values[0]), int(values[1]), int(values[2]))


@dataclass(frozen=True)
class LabelSet:
    """K named, coloured classes (indices 0..K-1) plus a void index that is ignored.

    `void_index` defaults to K; any value in [K, 255] is allowed. `void_color` defaults to
    black, or to an unused grey when a class is black. Invalid values raise ValueError.
    """

    names: tuple[str, ...]
    colors: tuple[Color, ...]
    void_index: int | None = None
    void_name: str = "Unlabelled"
    void_color: Color | None = None

    def __post_init__(self) -> None:
        names = tuple(self.names)
        k = len(names)
        if k < 1:
            raise ValueError("a label set needs at least one class")
        if k > MAX_CLASSES:
            raise ValueError(f"a label set holds at most {MAX_CLASSES} classes, got {k}")
        names = tuple(check_name(n, f"class {i}") for i, n in enumerate(names))
        colors_in = tuple(self.colors)
        if len(colors_in) != k:
            raise ValueError(f"{k} class names but {len(colors_in)} colours")
        colors = tuple(_check_color(c, f"class {i} ({names[i]})") for i, c in enumerate(colors_in))

        seen_names: dict[str, int] = {}
        for i, name in enumerate(names):
            key = name.casefold()
            if key in seen_names:
                raise ValueError(
                    f"duplicate class name {name!r}: classes {seen_names[key]} and {i}"
                )
            seen_names[key] = i
        seen_colors: dict[Color, int] = {}
        for i, color in enumerate(colors):
            if color in seen_colors:
                j = seen_colors[color]
                raise ValueError(
                    f"duplicate colour {color_text(color)}: classes {j} ({names[j]}) "
                    f"and {i} ({names[i]})"
                )
            seen_colors[color] = i

        void_index = k if self.void_index is None else self.void_index
        if not isinstance(void_index, (int, np.integer)) or isinstance(void_index, bool):
            raise ValueError(f"void index must be an integer, got {void_index!r}")
        void_index = int(void_index)
        if not k <= void_index <= 255:
            raise ValueError(f"void index must be in {k}..255 (K={k}), got {void_index}")
        void_name = check_name(self.void_name, "void")
        if void_name.casefold() in seen_names:
            raise ValueError(f"void name {void_name!r} is also a class name")
        if self.void_color is None:
            void_color = _free_color(colors)
        else:
            void_color = _check_color(self.void_color, "void")
            if void_color in seen_colors:
                j = seen_colors[void_color]
                raise ValueError(
                    f"void colour {color_text(void_color)} is also the colour of class "
                    f"{j} ({names[j]})"
                )

        object.__setattr__(self, "names", names)
        object.__setattr__(self, "colors", colors)
        object.__setattr__(self, "void_index", void_index)
        object.__setattr__(self, "void_name", void_name)
        object.__setattr__(self, "void_color", void_color)

    # ------------------------------------------------------------------ basics

    @property
    def num_classes(self) -> int:
        """K, the number of real classes (void excluded)."""
        return len(self.names)

    def palette(self) -> np.ndarray:
        """A (256, 3) uint8 RGB table: class colours at 0..K-1, the void colour at void_index.

        Other entries are black. Indexing it with a mask colours the mask.
        """
        table = np.zeros((256, 3), dtype=np.uint8)
        table[: self.num_classes] = np.asarray(self.colors, dtype=np.uint8)
        table[self.void_index] = self.void_color
        return table

    def colorize(self, mask: np.ndarray) -> np.ndarray:
        """An index mask (HxW, values 0..255) as an HxWx3 uint8 RGB image.

        Void pixels get the void colour; values that are neither a class nor void come out black.
        """
        mask = np.asarray(mask)
        if mask.dtype != np.uint8:
            if not np.issubdtype(mask.dtype, np.integer):
                raise ValueError(f"mask must hold integers, got dtype {mask.dtype}")
            if mask.size and (mask.min() < 0 or mask.max() > 255):
                raise ValueError("mask values must be in 0..255")
            mask = mask.astype(np.uint8)
        return self.palette()[mask]

    # ----------------------------------------------------------- conversions

    def index_from_colors(self, rgb: np.ndarray, path: str | Path) -> np.ndarray:
        """Convert a colour-coded mask (HxWx3 uint8 RGB) to an HxW uint8 index mask.

        Each class colour becomes its index and the void colour becomes void_index. Any other
        colour raises DataError naming `path`, the colour and one pixel that has it.
        """
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise DataError(
                path, f"colour mask must be HxWx3 uint8, got shape {rgb.shape} {rgb.dtype}"
            )
        keys = (
            (rgb[..., 0].astype(np.int32) << 16)
            | (rgb[..., 1].astype(np.int32) << 8)
            | rgb[..., 2].astype(np.int32)
        )
        entries = [
            ((r << 16) | (g << 8) | b, i) for i, (r, g, b) in enumerate(self.colors)
        ]
        vr, vg, vb = self.void_color  # type: ignore[misc]
        entries.append(((vr << 16) | (vg << 8) | vb, self.void_index))  # type: ignore[arg-type]
        entries.sort()
        known = np.array([key for key, _ in entries], dtype=np.int32)
        index_of = np.array([index for _, index in entries], dtype=np.uint8)
        pos = np.searchsorted(known, keys)
        np.minimum(pos, len(known) - 1, out=pos)
        matched = known[pos] == keys
        if not matched.all():
            y, x = np.argwhere(~matched)[0]
            color = tuple(int(c) for c in rgb[y, x])
            count = int((~matched).sum())
            raise DataError(
                path,
                f"colour {color_text(color)} at row {y}, column {x} is not a colour of the "
                f"label set ({count} such pixel{'s' if count != 1 else ''})",
            )
        return index_of[pos]

    def check_mask(self, mask: np.ndarray, path: str | Path) -> None:
        """Raise DataError naming `path` when `mask` is not 2-D or holds a value that is
        neither a class index (< K) nor void_index."""
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise DataError(path, f"mask must be 2-D (HxW), got shape {mask.shape}")
        if not np.issubdtype(mask.dtype, np.integer):
            raise DataError(path, f"mask must hold integers, got dtype {mask.dtype}")
        if mask.size == 0:
            return
        bad = ((mask < 0) | (mask >= self.num_classes)) & (mask != self.void_index)
        if bad.any():
            values = np.unique(mask[bad])
            y, x = np.argwhere(bad)[0]
            shown = ", ".join(str(int(v)) for v in values[:8])
            more = f" and {len(values) - 8} more" if len(values) > 8 else ""
            raise DataError(
                path,
                f"mask value {int(mask[y, x])} at row {y}, column {x} is neither a class index "
                f"(0..{self.num_classes - 1}) nor void ({self.void_index}); "
                f"bad values: {shown}{more}",
            )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form as plain Python data."""
        return {
            "classes": [
                {"name": name, "color": list(color)} for name, color in zip(self.names, self.colors)
            ],
            "void": {
                "index": self.void_index,
                "name": self.void_name,
                "color": list(self.void_color),  # type: ignore[arg-type]
            },
        }

    @classmethod
    def from_dict(cls, data: Any) -> "LabelSet":
        """Build a label set from the JSON form; ValueError says what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("expected an object with a 'classes' list")
        classes = data.get("classes")
        if not isinstance(classes, list):
            raise ValueError("'classes' must be a list")
        names: list[str] = []
        colors: list[Any] = []
        for i, entry in enumerate(classes):
            if not isinstance(entry, dict) or "name" not in entry or "color" not in entry:
                raise ValueError(f"classes[{i}] must be an object with 'name' and 'color'")
            names.append(entry["name"])
            colors.append(entry["color"])
        void = data.get("void")
        kwargs: dict[str, Any] = {}
        if void is not None:
            if not isinstance(void, dict):
                raise ValueError("'void' must be an object")
            unknown = set(void) - {"index", "name", "color"}
            if unknown:
                raise ValueError(f"'void' has unknown keys: {sorted(unknown)}")
            if "index" in void:
                kwargs["void_index"] = void["index"]
            if "name" in void:
                kwargs["void_name"] = void["name"]
            if "color" in void:
                kwargs["void_color"] = void["color"]
        return cls(names=tuple(names), colors=tuple(colors), **kwargs)

    # ------------------------------------------------------------------- files

    @classmethod
    def read(cls, path: str | Path) -> "LabelSet":
        """Read a label set from a .txt (label_colors) or .json file.

        Raises LabelSetError naming the file (and the line, where there is one).
        """
        path = Path(path)
        data = read_label_file(path)
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise LabelSetError(path, str(exc)) from None

    def write(self, path: str | Path) -> None:
        """Write atomically in the form the suffix asks for (.txt or .json).

        The .txt form cannot hold a void index other than K, a void name that is not
        void-like, or a class name that is; use .json for those (LabelSetError says so).
        """
        write_label_file(path, self.to_dict())


def camvid_label_set() -> LabelSet:
    """The 11 CamVid classes of the SegNet paper, void (Unlabelled, black) at index 11."""
    return LabelSet.read(_RESOURCES / "camvid_label_colors.txt")
