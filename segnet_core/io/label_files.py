"""Label-set files, read into and written from the label set's plain-data form
(`LabelSet.to_dict` / `LabelSet.from_dict`). Two forms, chosen by suffix:

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

Every failure is a LabelSetError naming the file (and the line, where there is one). The
name and colour rules live here too, as both the files and `LabelSet` apply them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from segnet_core.atomic import atomic_write_bytes
from segnet_core.errors import LabelSetError
from segnet_core.io.text_files import read_text

Color = tuple[int, int, int]

#: Most real classes a label set may hold: indices are stored in uint8 and one value is void.
MAX_CLASSES = 255

#: Names (compared case-insensitively) that mark the void line of a label_colors.txt file.
VOID_NAMES = frozenset({"void", "unlabelled", "unlabeled", "ignore"})


def is_void_name(name: str) -> bool:
    """True when `name` marks the void class in a label_colors.txt file (any case)."""
    return name.strip().casefold() in VOID_NAMES


def color_text(color: Sequence[int]) -> str:
    """`(r, g, b)` as messages show a colour."""
    return "(" + ", ".join(str(int(c)) for c in color) + ")"


def check_name(name: Any, what: str) -> str:
    """`name` when it can name a class; ValueError starting with `what` if not."""
    if not isinstance(name, str):
        raise ValueError(f"{what}: name must be a string, got {name!r}")
    if not name.strip() or name != name.strip() or any(ch in name for ch in "\r\n\t"):
        raise ValueError(
            f"{what}: name {name!r} must be non-empty, without leading or trailing spaces, "
            "tabs or line breaks"
        )
    return name


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".txt", ".json"):
        raise LabelSetError(path, "label set files must end in .txt or .json")
    return suffix


def read_label_file(path: str | Path) -> Any:
    """The plain-data form held by a .txt (label_colors) or .json file, unchecked beyond
    what the file form itself requires (`LabelSet.from_dict` checks the rest)."""
    path = Path(path)
    suffix = _check_suffix(path)
    text = read_text(path, LabelSetError, "label-set file")
    if suffix == ".txt":
        return _parse_txt(text, path)
    return _parse_json(text, path)


def write_label_file(path: str | Path, data: dict[str, Any]) -> None:
    """Write the plain-data form `data` atomically in the form the suffix asks for.

    The .txt form cannot hold a void index other than K, a void name that is not void-like,
    or a class name that is; LabelSetError says to use .json for those.
    """
    path = Path(path)
    if _check_suffix(path) == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = _txt_text(data, path)
    atomic_write_bytes(path, text.encode("utf-8"))


def _txt_text(data: dict[str, Any], path: Path) -> str:
    classes, void = data["classes"], data["void"]
    if void["index"] != len(classes):
        raise LabelSetError(
            path,
            f"the .txt form puts void at index K={len(classes)}, not {void['index']}; "
            "write .json instead",
        )
    if not is_void_name(void["name"]):
        raise LabelSetError(
            path,
            f"the .txt form needs a void-like void name ({', '.join(sorted(VOID_NAMES))}), "
            f"not {void['name']!r}; write .json instead",
        )
    for i, entry in enumerate(classes):
        if is_void_name(entry["name"]):
            raise LabelSetError(
                path,
                f"class {i} name {entry['name']!r} cannot be written in the .txt form; write .json"
            )
    lines = []
    for entry in (*classes, void):
        r, g, b = entry["color"]
        lines.append(f"{r} {g} {b} {entry['name']}")
    return "\n".join(lines) + "\n"


def _parse_txt(text: str, path: Path) -> dict[str, Any]:
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
            check_name(name, where)
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
                f"{where}: duplicate colour {color_text(color)} (already used on line "
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
    classes = [{"name": name, "color": list(color)} for name, color in zip(names, colors)]
    if void is None:
        return {"classes": classes, "void": {"name": "Void"}}
    return {"classes": classes, "void": {"name": void[0], "color": list(void[1])}}


def _parse_json(text: str, path: Path) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelSetError(path, f"line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise LabelSetError(path, "not valid JSON (nested too deeply)") from None
    return data
