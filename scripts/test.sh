#!/usr/bin/env bash
# Sets up (first time) and runs the whole test suite. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q "$@"
