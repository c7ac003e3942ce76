#!/usr/bin/env bash
# Shared set-up for the two README commands: a virtual environment with shopsight and its test
# extras installed. Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.shopsight-installed
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
    python -m pip install -q --upgrade pip
    # torch first and pinned: this takes the CPU wheel (other versions pull CUDA builds)
    python -m pip install -q torch==2.13.0
    python -m pip install -q -e ".[cpu,test]"
    touch "$stamp"
fi
