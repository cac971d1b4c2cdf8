#!/usr/bin/env bash
# Sets up (first time, or when pyproject.toml changed) and starts SegNet Studio.
# Arguments go to segnet-studio. Before Qt starts, the system libraries its X11 (xcb) platform
# needs are checked: as root they are installed with apt-get, otherwise the exact install
# line is printed and nothing starts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python scripts/qt_system_libraries.py
exec .venv/bin/segnet-studio "$@"
