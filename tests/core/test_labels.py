"""LabelSet: validation, colour conversions, txt/json files and their errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from segnet_core.errors import DataError, LabelSetError
from segnet_core.labels import LabelSet, camvid_label_set

RESOURCE = Path(__file__).resolve().parents[2] / "resources" / "camvid_label_colors.txt"


def small() -> LabelSet:
    return LabelSet(names=("Sky", "Road", "Car"), colors=((10, 20, 30), (1, 2, 3), (200, 0, 0)))


# ---------------------------------------------------------------- construction


def test_camvid_label_set():
    ls = camvid_label_set()
    assert ls.num_classes == 11
    assert ls.names[0] == "Sky" and ls.names[3] == "Road" and ls.names[10] == "Bicyclist"
    assert ls.void_index == 11
    assert ls.void_name == "Unlabelled"
    assert ls.void_color == (0, 0, 0)
    assert ls.colors[4] == (60, 40, 222)


def test_defaults_and_normalisation():
    ls = LabelSet(names=["a", "b"], colors=[[1, 2, 3], np.array([4, 5, 6])])
    assert ls.names == ("a", "b")
    assert ls.colors == ((1, 2, 3), (4, 5, 6))
    assert all(type(c) is int for color in ls.colors for c in color)
    assert ls.void_index == 2
    assert ls.void_color == (0, 0, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ls.void_index = 3  # type: ignore[misc]


def test_default_void_colour_avoids_a_black_class():
    ls = LabelSet(names=("night",), colors=((0, 0, 0),))
    assert ls.void_color not in ls.colors


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(names=(), colors=()), "at least one"),
        (dict(names=("a", "b"), colors=((1, 1, 1),)), "2 class names but 1"),
        (dict(names=("a",), colors=((1, 1, 256),)), "0..255"),
        (dict(names=("a",), colors=((1, 1),)), "3 integers"),
        (dict(names=("Car", "car"), colors=((1, 1, 1), (2, 2, 2))), "duplicate class name"),
        (dict(names=("a", "b"), colors=((1, 1, 1), (1, 1, 1))), "duplicate colour (1, 1, 1)"),
        (dict(names=("a",), colors=((1, 1, 1),), void_color=(1, 1, 1)), "void colour (1, 1, 1)"),
        (dict(names=("a", "b"), colors=((1, 1, 1), (2, 2, 2)), void_index=1), "void index"),
        (dict(names=("a",), colors=((1, 1, 1),), void_index=256), "void index"),
        (dict(names=("a",), colors=((1, 1, 1),), void_name="A"), "also a class name"),
        (dict(names=(" a",), colors=((1, 1, 1),)), "leading or trailing"),
        (dict(names=tuple(f"c{i}" for i in range(256)), colors=tuple((i, 0, 0) for i in range(256))), "at most 255"),
    ],
)
def test_invalid_label_sets(kwargs, words):
    with pytest.raises(ValueError) as info:
        LabelSet(**kwargs)
    assert words in str(info.value)


def test_255_classes_with_void_at_255():
    names = tuple(f"c{i}" for i in range(255))
    colors = tuple((i, 1, 2) for i in range(255))
    ls = LabelSet(names=names, colors=colors)
    assert ls.void_index == 255 and ls.palette()[255].tolist() == [0, 0, 0]


# ------------------------------------------------------------- conversions


def test_palette_layout_voc_style_void():
    ls = LabelSet(names=("bg", "cat"), colors=((0, 0, 0), (128, 0, 0)), void_index=255,
                  void_name="void", void_color=(224, 224, 192))
    pal = ls.palette()
    assert pal.shape == (256, 3) and pal.dtype == np.uint8
    assert pal[1].tolist() == [128, 0, 0]
    assert pal[255].tolist() == [224, 224, 192]
    assert pal[2].tolist() == [0, 0, 0]


def test_colorize_and_back():
    ls = small()
    mask = np.array([[0, 1, 2], [3, 3, 0]], dtype=np.uint8)
    rgb = ls.colorize(mask)
    assert rgb.shape == (2, 3, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0].tolist() == [10, 20, 30]
    assert rgb[0, 2].tolist() == [200, 0, 0]
    assert rgb[1, 0].tolist() == [0, 0, 0]  # void
    np.testing.assert_array_equal(ls.index_from_colors(rgb, "m.png"), mask)


def test_index_from_colors_unknown_colour_names_file_colour_and_pixel():
    ls = small()
    rgb = ls.colorize(np.zeros((4, 5), dtype=np.uint8))
    rgb[2, 3] = (7, 8, 9)
    with pytest.raises(DataError) as info:
        ls.index_from_colors(rgb, Path("dir") / "frame_7.png")
    text = str(info.value)
    assert "frame_7.png" in text
    assert "(7, 8, 9)" in text
    assert "row 2, column 3" in text
    assert info.value.path.name == "frame_7.png"


def test_check_mask():
    ls = small()
    ls.check_mask(np.array([[0, 1, 2, 3]], dtype=np.uint8), "ok.png")  # 3 is void
    with pytest.raises(DataError) as info:
        ls.check_mask(np.array([[0, 1], [9, 2]], dtype=np.uint8), "bad_mask.png")
    text = str(info.value)
    assert "bad_mask.png" in text and "value 9" in text and "row 1, column 0" in text
    voc = LabelSet(names=("bg", "cat"), colors=((0, 0, 0), (128, 0, 0)), void_index=255,
                   void_name="void", void_color=(224, 224, 192))
    voc.check_mask(np.array([[0, 1, 255]], dtype=np.uint8), "voc.png")
    with pytest.raises(DataError, match="value 2"):
        voc.check_mask(np.array([[0, 2, 255]], dtype=np.uint8), "voc.png")
    with pytest.raises(DataError, match="2-D"):
        ls.check_mask(np.zeros((2, 2, 3), dtype=np.uint8), "x.png")


def test_dict_round_trip():
    ls = LabelSet(names=("a b", "c"), colors=((1, 2, 3), (4, 5, 6)), void_index=200,
                  void_name="ignore", void_color=(9, 9, 9))
    data = ls.to_dict()
    assert data["void"] == {"index": 200, "name": "ignore", "color": [9, 9, 9]}
    assert LabelSet.from_dict(json.loads(json.dumps(data))) == ls


# -------------------------------------------------------------------- files


def test_camvid_txt_write_reproduces_the_resource(tmp_path):
    out = tmp_path / "label_colors.txt"
    camvid_label_set().write(out)
    assert out.read_text() == RESOURCE.read_text()
    assert LabelSet.read(out) == camvid_label_set()


def test_txt_round_trip_with_spaces_comments_and_blank_lines(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("# my classes\n\n10 20 30   Traffic light\n  1 2 3 Road  \n\n5 5 5 VOID\n\n")
    ls = LabelSet.read(path)
    assert ls.names == ("Traffic light", "Road")
    assert ls.void_index == 2 and ls.void_name == "VOID" and ls.void_color == (5, 5, 5)
    again = tmp_path / "again.txt"
    ls.write(again)
    assert LabelSet.read(again) == ls


def test_txt_without_void_line(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("1 2 3 a\n4 5 6 b\n")
    ls = LabelSet.read(path)
    assert (ls.void_index, ls.void_name, ls.void_color) == (2, "Void", (0, 0, 0))
    path.write_text("0 0 0 Background\n4 5 6 b\n")
    ls = LabelSet.read(path)
    assert ls.void_index == 2 and ls.void_color not in ls.colors


def test_json_round_trip_voc(tmp_path):
    ls = LabelSet(names=("background", "aeroplane"), colors=((0, 0, 0), (128, 0, 0)),
                  void_index=255, void_name="void", void_color=(224, 224, 192))
    path = tmp_path / "voc.json"
    ls.write(path)
    assert json.loads(path.read_text())["void"]["index"] == 255
    assert LabelSet.read(path) == ls
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_json_without_void(tmp_path):
    path = tmp_path / "l.json"
    path.write_text('{"classes": [{"name": "a", "color": [1, 2, 3]}]}')
    ls = LabelSet.read(path)
    assert ls.void_index == 1 and ls.void_color == (0, 0, 0)


def _many_classes(n: int) -> str:
    return "".join(f"{i % 256} {i // 256} 7 class{i}\n" for i in range(n))


@pytest.mark.parametrize(
    "content, line, words",
    [
        ("1 2 3 a\n4 5 b\n", 2, "expected 'R G B Name'"),
        ("1 2 3 a\n\n4 x 6 b\n", 3, "G='x' is not an integer"),
        ("1 2 3 a\n4 5 300 b\n", 2, "B=300 is outside 0..255"),
        ("1 2 3 a\n4 -1 3 b\n", 2, "outside 0..255"),
        ("1 2 3 Car\n# note\n4 5 6 car\n", 3, "duplicate name 'car' (already on line 1)"),
        ("1 2 3 a\n4 5 6 b\n1 2 3 c\n", 3, "duplicate colour (1, 2, 3) (already used on line 1)"),
        ("1 2 3 a\n0 0 0 Unlabelled\n4 5 6 b\n", 3, "must be the last line"),
        ("0 0 0 void\n", 1, "only a void class"),
        (_many_classes(256), 256, "more than 255 classes"),
    ],
)
def test_txt_errors_name_file_and_line(tmp_path, content, line, words):
    path = tmp_path / "bad_colors.txt"
    path.write_text(content)
    with pytest.raises(LabelSetError) as info:
        LabelSet.read(path)
    text = str(info.value)
    assert "bad_colors.txt" in text
    assert f"line {line}:" in text
    assert words in text
    assert info.value.path == path


def test_txt_255_classes_plus_void_is_fine(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text(_many_classes(255) + "255 255 255 ignore\n")
    ls = LabelSet.read(path)
    assert ls.num_classes == 255 and ls.void_index == 255


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"])
def test_empty_txt(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_text(content)
    with pytest.raises(LabelSetError, match="empty") as info:
        LabelSet.read(path)
    assert "empty.txt" in str(info.value)


def test_json_errors(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "classes": [\n    {"name": "a", "color": [1, 2, 3]},,\n  ]\n}')
    with pytest.raises(LabelSetError) as info:
        LabelSet.read(path)
    assert "broken.json" in str(info.value) and "line 3" in str(info.value)
    path.write_text('{"classes": [{"name": "a", "color": [1, 2, 3]}, {"name": "b"}]}')
    with pytest.raises(LabelSetError, match=r"classes\[1\]"):
        LabelSet.read(path)
    path.write_text('{"classes": [{"name": "a", "color": [1, 2, 3]}, {"name": "A", "color": [3, 2, 1]}]}')
    with pytest.raises(LabelSetError, match="duplicate class name"):
        LabelSet.read(path)


def test_read_missing_and_unknown_suffix(tmp_path):
    with pytest.raises(LabelSetError, match="not found") as info:
        LabelSet.read(tmp_path / "nope.txt")
    assert "nope.txt" in str(info.value)
    with pytest.raises(LabelSetError, match=".txt or .json"):
        LabelSet.read(tmp_path / "labels.yaml")
    with pytest.raises(LabelSetError, match=".txt or .json"):
        small().write(tmp_path / "labels.yaml")


def test_txt_write_refuses_what_it_cannot_hold(tmp_path):
    voc = LabelSet(names=("bg",), colors=((0, 0, 0),), void_index=255, void_name="void",
                   void_color=(1, 1, 1))
    with pytest.raises(LabelSetError, match="write .json"):
        voc.write(tmp_path / "voc.txt")
    named = LabelSet(names=("a",), colors=((1, 1, 1),), void_name="Background")
    with pytest.raises(LabelSetError, match="void-like"):
        named.write(tmp_path / "named.txt")
    assert not (tmp_path / "voc.txt").exists()
