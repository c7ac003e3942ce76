#!/usr/bin/env bash
# The main job on its embedded default: build the sample shop, index it with the packaged bundle
# (no training; `--train` trains on the shop first), and serve the web page and API on http://127.0.0.1:8000/ (gunicorn). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec shopsight demo "$@"
