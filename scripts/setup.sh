#!/usr/bin/env bash
# Creates .venv (once) and installs SegNet Studio into it with the pinned, tested versions.
# Usage: bash scripts/setup.sh [extra]   e.g. "test" for the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
extra=${1:-}
spec="."
[ -n "$extra" ] && spec=".[$extra]"
# torch is pinned to 2.13.0; installing it first keeps pip from resolving another build.
.venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
