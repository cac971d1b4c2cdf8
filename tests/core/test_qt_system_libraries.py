"""The start command's check for the system libraries Qt's xcb platform needs."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "qt_system_libraries.py"
spec = importlib.util.spec_from_file_location("qt_system_libraries", SCRIPT)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)
\tlibweird-thing.so.7 => not found
"""


def fake_ldd(output):
    def run(command, **kwargs):
        assert command[0] == "ldd"
        return subprocess.CompletedProcess(command, 0, stdout=output, stderr="")
    return run


def test_a_real_binary_has_no_missing_library():
    assert check.missing_libraries([Path(sys.executable).resolve()]) == []


def test_missing_sonames_map_to_debian_packages_and_unknown_ones_are_named(monkeypatch, tmp_path):
    binary = tmp_path / "libqxcb.so"
    binary.write_bytes(b"\x7fELF")
    monkeypatch.setattr(check.subprocess, "run", fake_ldd(LDD_MISSING))
    missing = check.missing_libraries([binary])
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libweird-thing.so.7"]
    assert check.packages_for(missing) == (["libxcb-icccm4", "libxcb-keysyms1"],
                                           ["libweird-thing.so.7"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux only")
def test_not_root_stops_with_the_exact_install_line(monkeypatch, tmp_path, capsys):
    qt = tmp_path / "Qt"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    (qt / "plugins" / "platforms" / "libqxcb.so").write_bytes(b"\x7fELF")
    monkeypatch.setattr(check, "qt_folder", lambda: qt)
    monkeypatch.setattr(check.subprocess, "run",
                        fake_ldd(LDD_MISSING.replace("\tlibweird-thing.so.7 => not found\n", "")))
    monkeypatch.setattr(check.os, "geteuid", lambda: 1000)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert check.main() == 3
    assert "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1" in capsys.readouterr().err


def test_other_platforms_are_not_checked(monkeypatch):
    def no_ldd(*args, **kwargs):
        raise AssertionError("ldd must not run")
    monkeypatch.setattr(check.subprocess, "run", no_ldd)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert check.main() == 0
