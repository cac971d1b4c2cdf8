"""The README's key tables and the window's shortcuts agree: every key a table names is a
shortcut of one of the window's actions, and every shortcut is in a table."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence

README = Path(__file__).resolve().parents[2] / "README.md"
PORTABLE = QKeySequence.SequenceFormat.PortableText
DIGITS = "1234567890"
RANGE = re.compile(r"^(?P<mod>(?:\w+\+)*)(?P<a>\d) \.\.\. (?P=mod)(?P<b>\d)$")


def expand(key: str) -> list[str]:
    """`1 ... 9` -> 1, 2, ..., 9 and `Shift+1 ... Shift+0` -> Shift+1, ..., Shift+0 (the
    digits in keyboard order); any other key as it is."""
    match = RANGE.match(key)
    if not match:
        return [key]
    start, end = DIGITS.index(match["a"]), DIGITS.index(match["b"])
    return [match["mod"] + digit for digit in DIGITS[start:end + 1]]


def readme_keys(text: str) -> dict[str, str]:
    """Each key (as Qt's portable text) named in the first column of a `| key | does |`
    table, with the row it is on."""
    keys: dict[str, str] = {}
    in_table = False
    for line in text.splitlines():
        if line.replace(" ", "") == "|key|does|":
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
        if not in_table or line.startswith("|---"):
            continue
        cell = line.split("|")[1].replace("`", "").strip()
        for part in re.split(r" / |, ", cell):
            for key in expand(part.strip()):
                sequence = QKeySequence(key, PORTABLE)
                assert not sequence.isEmpty() and sequence.count() == 1, (key, line)
                keys[sequence.toString(PORTABLE)] = line
    return keys


def test_the_key_parser_reads_ranges_and_shorthands():
    keys = readme_keys("| key | does |\n|---|---|\n| 1 ... 3, 0 | a |\n"
                       "| Shift+9 ... Shift+0, `[` / `]` | b |\n| Ctrl+= / Ctrl+- | c |\n\n"
                       "| Q | not a key table row |\n")
    assert sorted(keys) == sorted(["1", "2", "3", "0", "Shift+9", "Shift+0", "[", "]",
                                   "Ctrl+=", "Ctrl+-"])


def test_the_readme_key_tables_and_the_windows_shortcuts_agree(make_window):
    window = make_window(model=None)
    shortcuts = {sequence.toString(PORTABLE): action.text().replace("&", "")
                 for action in window.findChildren(QAction) for sequence in action.shortcuts()}
    documented = readme_keys(README.read_text(encoding="utf-8"))
    assert len(documented) > 30  # the tables were found and read
    not_shortcuts = {key: row for key, row in documented.items() if key not in shortcuts}
    assert not_shortcuts == {}, "README names keys the window does not have"
    undocumented = {key: text for key, text in shortcuts.items() if key not in documented}
    assert undocumented == {}, "the window has keys the README's key tables leave out"
