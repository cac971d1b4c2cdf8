#!/usr/bin/env bash
# Creates .venv (once) and installs SegNet Studio into it with the pinned, tested versions.
# Usage: bash scripts/setup.sh [extra]   e.g. "test" for the test tools.
# Installs only when something is missing: a stamp in .venv records which pyproject.toml (by
# its hash) was installed with which extra; an unchanged pyproject skips pip entirely.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
extra=${1:-}
stamp=.venv/.segnet-studio-setup
digest=$(sha256sum pyproject.toml | cut -c1-16)
if [ -x .venv/bin/python ] && [ -f "$stamp" ]; then
  # the test extra includes everything the plain install has
  if grep -qx "$digest ${extra:-base}" "$stamp" || { [ -z "$extra" ] && grep -q "^$digest " "$stamp"; }; then
    exit 0
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
spec="."
[ -n "$extra" ] && spec=".[$extra]"
echo "setting up .venv (pyproject.toml ${digest}${extra:+, extra $extra})" >&2
# torch is pinned to 2.13.0; installing it first keeps pip from resolving another build.
.venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
{ grep -v " ${extra:-base}\$" "$stamp" 2>/dev/null || true; echo "$digest ${extra:-base}"; } > "$stamp.new"
mv "$stamp.new" "$stamp"
