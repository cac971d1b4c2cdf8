"""The start command's check for the system libraries Qt's xcb platform needs."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import qt_system_libraries as check

ROOT = Path(__file__).resolve().parents[2]

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


def two_missing_on_x11(monkeypatch, tmp_path, euid: int) -> None:
    """Qt's xcb platform lacks libxcb-icccm4 and libxcb-keysyms1, run by user `euid`."""
    qt = tmp_path / "Qt"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    (qt / "plugins" / "platforms" / "libqxcb.so").write_bytes(b"\x7fELF")
    monkeypatch.setattr(check, "qt_folder", lambda: qt)
    monkeypatch.setattr(check.subprocess, "run",
                        fake_ldd(LDD_MISSING.replace("\tlibweird-thing.so.7 => not found\n", "")))
    monkeypatch.setattr(check.os, "geteuid", lambda: euid)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux only")
def test_not_root_stops_with_the_exact_install_line(monkeypatch, tmp_path, capsys):
    two_missing_on_x11(monkeypatch, tmp_path, euid=1000)
    assert check.main() == 3
    assert "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux only")
def test_the_launcher_says_what_is_missing_before_qt_starts(monkeypatch, tmp_path, capsys):
    """A newcomer's check: `python main.py` (not the start command) died on Qt's own message,
    which names xcb-cursor0 whatever is missing. The launcher never installs: it says."""
    from app import launcher

    two_missing_on_x11(monkeypatch, tmp_path, euid=0)  # root: still not installed here
    monkeypatch.setitem(sys.modules, "app.main_window", None)  # never reached
    assert launcher.main(["shots/"]) == 3
    assert "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1" in capsys.readouterr().err


def test_other_platforms_are_not_checked(monkeypatch):
    def no_ldd(*args, **kwargs):
        raise AssertionError("ldd must not run")
    monkeypatch.setattr(check.subprocess, "run", no_ldd)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert check.main() == 0


def no_ldd(*args, **kwargs):
    raise AssertionError("ldd must not run")


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["export", "--help"], ["models"],
                                  ["--model", "m.pt", "--help"]])
def test_commands_help_and_version_need_no_display(monkeypatch, argv):
    monkeypatch.setattr(check.subprocess, "run", no_ldd)
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert check.main(argv) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux only")
@pytest.mark.parametrize("argv", [[], ["shots/", "clip.mp4"], ["--model", "shipped", "shots/"]])
def test_the_window_without_a_display_stops_before_qt(monkeypatch, tmp_path, capsys, argv):
    qt = tmp_path / "Qt"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    (qt / "plugins" / "platforms" / "libqxcb.so").write_bytes(b"\x7fELF")
    monkeypatch.setattr(check, "qt_folder", lambda: qt)
    monkeypatch.setattr(check.subprocess, "run", fake_ldd(""))  # nothing missing
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert check.main(argv) == 4
    assert "no display" in capsys.readouterr().err


def fake_project(tmp_path: Path) -> Path:
    """start.sh and the check in a folder of their own, with this checkout's segnet_core, a
    set-up that does nothing, and a segnet-studio that only says what it was given."""
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    for name in ("start.sh", "qt_system_libraries.py"):
        shutil.copy(ROOT / "scripts" / name, project / "scripts" / name)
    (project / "scripts" / "setup.sh").write_text("exit 0\n")
    (project / "segnet_core").symlink_to(ROOT / "segnet_core")
    (project / "app").symlink_to(ROOT / "app")
    bin_folder = project / ".venv" / "bin"
    bin_folder.mkdir(parents=True)
    (bin_folder / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_folder / "segnet-studio").write_text('#!/bin/sh\necho "started: $* in $PWD"\n')
    stubs = tmp_path / "stubs"  # an ldd that finds every library
    stubs.mkdir()
    (stubs / "ldd").write_text("#!/bin/sh\nexit 0\n")
    for path in (bin_folder / "python", bin_folder / "segnet-studio", stubs / "ldd"):
        path.chmod(0o755)
    return project


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("bash") is None,
                    reason="start.sh is for Linux (xcb) with bash")
def test_start_sh_checks_for_a_display_only_when_the_window_starts(tmp_path):
    project = fake_project(tmp_path)
    env = {key: value for key, value in os.environ.items()
           if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "PYTHONPATH")}
    env["PATH"] = f"{tmp_path / 'stubs'}{os.pathsep}{env.get('PATH', '')}"

    def start(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(project / "scripts" / "start.sh"), *argv],
                              capture_output=True, text=True, env=env, timeout=120,
                              cwd=tmp_path)  # run from elsewhere: paths are taken from there

    for argv in (["--version"], ["export", "--help"], ["rank", "--images", "shots/"]):
        result = start(*argv)
        assert result.returncode == 0, (argv, result.stderr)
        assert result.stdout == f"started: {' '.join(argv)} in {tmp_path}\n"
    if importlib.util.find_spec("PySide6") is not None:  # else there is no Qt to check
        result = start("shots/")
        assert result.returncode == 4 and "no display" in result.stderr
        assert "started" not in result.stdout
