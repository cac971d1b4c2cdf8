#!/usr/bin/env bash
# Sets up (first time, or when pyproject.toml changed) and starts SegNet Studio.
# Arguments go to segnet-studio. When they start the window (no command, --help or --version:
# the check asks segnet_core.cli, as the launcher does), the system libraries Qt's X11 (xcb)
# platform needs and the display are checked first: as root missing libraries are installed
# with apt-get, otherwise the exact install line is printed and nothing starts.
# Paths given are taken from where it is run (a review: `bash scripts/start.sh rank --images
# DIR` from elsewhere looked for DIR in the project).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
"$root/.venv/bin/python" "$root/scripts/qt_system_libraries.py" "$@"
exec "$root/.venv/bin/segnet-studio" "$@"
