#!/usr/bin/env bash
# Sets up (first time) and starts SegNet Studio. Arguments go to segnet-studio.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/segnet-studio "$@"
