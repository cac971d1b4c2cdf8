"""Label sets: the classes of a segmentation task, their colours and the void (ignored) label.

A `LabelSet` holds K real classes with indices 0..K-1 and one void index in [K, 255] (CamVid
puts void at K = 11, Pascal VOC at 255). Void pixels are left out of the loss and every metric.

Two file forms are read and written, chosen by suffix:

* ``.txt`` -- the CamVid ``label_colors.txt`` form, one class per line, in index order::

      128 128 128 Sky
      128 0 0 Building
      0 0 0 Unlabelled

  The name may contain spaces. Blank lines and lines starting with ``#`` are ignored. A last
  line whose name is void-like (void, unlabelled, unlabeled, ignore; any case) is the void
  class, with index K. Without one, void gets index K, the name "Void" and the colour black
  (or another unused colour when a class is black).
* ``.json`` -- ``{"classes": [{"name": "Sky", "color": [128, 128, 128]}, ...],
  "void": {"index": 11, "name": "Unlabelled", "color": [0, 0, 0]}}``; "void" may be omitted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from segnet_core.atomic import atomic_write_bytes
from segnet_core.errors import DataError, LabelSetError

Color = tuple[int, int, int]

#: Most real classes a label set may hold: indices are stored in uint8 and one value is void.
MAX_CLASSES = 255

#: Names (compared case-insensitively) that mark the void line of a label_colors.txt file.
VOID_NAMES = frozenset({"void", "unlabelled", "unlabeled", "ignore"})

_RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def is_void_name(name: str) -> bool:
    """True when `name` marks the void class in a label_colors.txt file (any case)."""
    return name.strip().casefold() in VOID_NAMES


def _color_text(color: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(c)) for c in color) + ")"


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
        raise ValueError(f"{what}: colour values must be in 0..255, got {_color_text(values)}")
    return (int(values[0]), int(values[1]), int(values[2]))


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str):
        raise ValueError(f"{what}: name must be a string, got {name!r}")
    if not name.strip() or name != name.strip() or any(ch in name for ch in "\r\n\t"):
        raise ValueError(
            f"{what}: name {name!r} must be non-empty, without leading or trailing spaces, "
            "tabs or line breaks"
        )
    return name


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
        names = tuple(_check_name(n, f"class {i}") for i, n in enumerate(names))
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
                    f"duplicate colour {_color_text(color)}: classes {j} ({names[j]}) "
                    f"and {i} ({names[i]})"
                )
            seen_colors[color] = i

        void_index = k if self.void_index is None else self.void_index
        if not isinstance(void_index, (int, np.integer)) or isinstance(void_index, bool):
            raise ValueError(f"void index must be an integer, got {void_index!r}")
        void_index = int(void_index)
        if not k <= void_index <= 255:
            raise ValueError(f"void index must be in {k}..255 (K={k}), got {void_index}")
        void_name = _check_name(self.void_name, "void")
        if void_name.casefold() in seen_names:
            raise ValueError(f"void name {void_name!r} is also a class name")
        if self.void_color is None:
            void_color = _free_color(colors)
        else:
            void_color = _check_color(self.void_color, "void")
            if void_color in seen_colors:
                j = seen_colors[void_color]
                raise ValueError(
                    f"void colour {_color_text(void_color)} is also the colour of class "
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
                f"colour {_color_text(color)} at row {y}, column {x} is not a colour of the "
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
        suffix = path.suffix.lower()
        if suffix not in (".txt", ".json"):
            raise LabelSetError(path, "label set files must end in .txt or .json")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise LabelSetError(path, "file not found") from None
        except UnicodeDecodeError as exc:
            raise LabelSetError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise LabelSetError(path, f"cannot read: {exc.strerror or exc}") from None
        if suffix == ".txt":
            return _parse_txt(text, path)
        return _parse_json(text, path)

    def write(self, path: str | Path) -> None:
        """Write atomically in the form the suffix asks for (.txt or .json).

        The .txt form cannot hold a void index other than K, a void name that is not
        void-like, or a class name that is; use .json for those (LabelSetError says so).
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".json":
            text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        elif suffix == ".txt":
            text = self._txt_text(path)
        else:
            raise LabelSetError(path, "label set files must end in .txt or .json")
        atomic_write_bytes(path, text.encode("utf-8"))

    def _txt_text(self, path: Path) -> str:
        if self.void_index != self.num_classes:
            raise LabelSetError(
                path,
                f"the .txt form puts void at index K={self.num_classes}, not {self.void_index}; "
                "write .json instead",
            )
        if not is_void_name(self.void_name):
            raise LabelSetError(
                path,
                f"the .txt form needs a void-like void name ({', '.join(sorted(VOID_NAMES))}), "
                f"not {self.void_name!r}; write .json instead",
            )
        for i, name in enumerate(self.names):
            if is_void_name(name):
                raise LabelSetError(
                    path, f"class {i} name {name!r} cannot be written in the .txt form; write .json"
                )
        lines = [f"{r} {g} {b} {name}" for name, (r, g, b) in zip(self.names, self.colors)]
        r, g, b = self.void_color  # type: ignore[misc]
        lines.append(f"{r} {g} {b} {self.void_name}")
        return "\n".join(lines) + "\n"


def _parse_txt(text: str, path: Path) -> LabelSet:
    names: list[str] = []
    colors: list[Color] = []
    name_line: dict[str, int] = {}
    color_line: dict[Color, int] = {}
    void: tuple[str, Color, int] | None = None

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"line {lineno}"
        if void is not None:
            raise LabelSetError(
                path,
                f"{where}: the void class {void[0]!r} (line {void[2]}) must be the last line",
            )
        fields = line.split(None, 3)
        if len(fields) < 4:
            raise LabelSetError(
                path, f"{where}: expected 'R G B Name', got {len(fields)} field(s): {line!r}"
            )
        values: list[int] = []
        for channel, field in zip("RGB", fields[:3]):
            try:
                value = int(field)
            except ValueError:
                raise LabelSetError(
                    path, f"{where}: colour value {channel}={field!r} is not an integer"
                ) from None
            if not 0 <= value <= 255:
                raise LabelSetError(
                    path, f"{where}: colour value {channel}={value} is outside 0..255"
                )
            values.append(value)
        color: Color = (values[0], values[1], values[2])
        name = fields[3].strip()
        try:
            _check_name(name, where)
        except ValueError as exc:
            raise LabelSetError(path, str(exc)) from None
        key = name.casefold()
        if key in name_line:
            raise LabelSetError(
                path, f"{where}: duplicate name {name!r} (already on line {name_line[key]})"
            )
        if color in color_line:
            raise LabelSetError(
                path,
                f"{where}: duplicate colour {_color_text(color)} (already used on line "
                f"{color_line[color]})",
            )
        name_line[key] = lineno
        color_line[color] = lineno
        if is_void_name(name):
            void = (name, color, lineno)
            continue
        if len(names) == MAX_CLASSES:
            raise LabelSetError(
                path, f"{where}: more than {MAX_CLASSES} classes (indices must fit in 0..254)"
            )
        names.append(name)
        colors.append(color)

    if not names:
        if void is not None:
            raise LabelSetError(path, f"line {void[2]}: only a void class, no real classes")
        raise LabelSetError(path, "empty: no class lines (expected 'R G B Name' per line)")
    try:
        if void is None:
            return LabelSet(names=tuple(names), colors=tuple(colors), void_name="Void")
        return LabelSet(
            names=tuple(names), colors=tuple(colors), void_name=void[0], void_color=void[1]
        )
    except ValueError as exc:  # names the checks above do not cover (e.g. tabs in a name)
        raise LabelSetError(path, str(exc)) from None


def _parse_json(text: str, path: Path) -> LabelSet:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelSetError(path, f"line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise LabelSetError(path, "not valid JSON (nested too deeply)") from None
    try:
        return LabelSet.from_dict(data)
    except ValueError as exc:
        raise LabelSetError(path, str(exc)) from None


def camvid_label_set() -> LabelSet:
    """The 11 CamVid classes of the SegNet paper, void (Unlabelled, black) at index 11."""
    return LabelSet.read(_RESOURCES / "camvid_label_colors.txt")
