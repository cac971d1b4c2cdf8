"""Check, before Qt starts, that the system libraries Qt's X11 (xcb) platform needs are here.

`scripts/start.sh` passes on its arguments (`scripts/qt_system_libraries.py`), and the
launcher its own before it starts the window: only when they start the window
(`segnet_core.cli.opens_window`) is anything checked, so a command, --help or --version runs
without a display. Imports no Qt.

Qt's own message when one is missing names xcb-cursor0 whatever is really missing, and the
window never appears. This asks the dynamic linker (`ldd`) which libraries the xcb platform
plugin cannot find and maps them to Debian/Ubuntu package names. Run by the start command as
root with apt-get, the packages are installed; otherwise the exact install line is printed
and the exit status is 3 (a user's check: `python main.py` died on Qt's xcb-cursor0 message).
Elsewhere (macOS, Windows, Wayland or offscreen platforms) there is nothing to check.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from segnet_core.cli import opens_window

# soname -> Debian/Ubuntu package (the libraries Qt 6's xcb platform links against)
DEBIAN_PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libglib-2.0.so.0": "libglib2.0-0",
}
NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def qt_folder() -> Path | None:
    """PySide6's Qt folder, found without importing Qt (None when PySide6 is not installed)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "Qt"


def missing_libraries(binaries: list[Path]) -> list[str]:
    """Sonames that `ldd` cannot resolve for any of `binaries`, in first-seen order."""
    missing: dict[str, None] = {}
    for binary in binaries:
        if not binary.is_file():
            continue
        result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
        for name in NOT_FOUND.findall(result.stdout):
            missing.setdefault(name)
    return list(missing)


def packages_for(sonames: list[str]) -> tuple[list[str], list[str]]:
    """(Debian packages for the sonames we know, sonames we have no package name for)."""
    known = list(dict.fromkeys(DEBIAN_PACKAGES[s] for s in sonames if s in DEBIAN_PACKAGES))
    return known, [s for s in sonames if s not in DEBIAN_PACKAGES]


def needs_xcb() -> bool:
    """Whether Qt will start on X11 (xcb): Linux, and no other platform chosen."""
    if not sys.platform.startswith("linux"):
        return False
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0] == "xcb"
    return not os.environ.get("WAYLAND_DISPLAY")


def main(argv: Sequence[str] = (), install: bool = True) -> int:
    """0 when Qt's X11 platform can start (or nothing needs it: `argv` runs a command, asks
    for --help or --version, or another platform is used); 3 when system libraries are
    missing (installed first as root with apt-get, when `install`), 4 when there is no
    display."""
    if not opens_window(argv) or not needs_xcb():
        return 0
    folder = qt_folder()
    if folder is None or shutil.which("ldd") is None:
        return 0
    sonames = missing_libraries([folder / "plugins" / "platforms" / "libqxcb.so",
                                 folder / "lib" / "libQt6XcbQpa.so.6"])
    if not sonames:
        if not os.environ.get("DISPLAY"):
            print("segnet-studio: no display ($DISPLAY is empty). Start it from a desktop "
                  "session, or without one under a virtual display: xvfb-run -a bash "
                  "scripts/start.sh", file=sys.stderr)
            return 4
        return 0
    packages, unknown = packages_for(sonames)
    line = "apt-get install -y " + " ".join(packages)
    print(f"segnet-studio: Qt's X11 platform needs system libraries that are missing: "
          f"{', '.join(sonames)}", file=sys.stderr)
    if install and packages and not unknown and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"installing them: {line}", file=sys.stderr)
        done = subprocess.run(line.split(), check=False).returncode == 0 or (
            subprocess.run(["apt-get", "update", "-q"], check=False).returncode == 0
            and subprocess.run(line.split(), check=False).returncode == 0)
        if done and not missing_libraries([folder / "plugins" / "platforms" / "libqxcb.so"]):
            return main(argv, install)
    if packages:
        print(f"On Debian or Ubuntu install them with:\n  sudo {line}", file=sys.stderr)
    if unknown:
        print(f"No package name known here for {', '.join(unknown)}: find the package that "
              "provides each file (Debian/Ubuntu: apt-file search NAME; Fedora: dnf provides "
              "'*/NAME'; Arch: pacman -F NAME) and install it.", file=sys.stderr)
    print("On other systems install your distribution's packages for these files.",
          file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
