#!/usr/bin/env bash
# The default test run: offline, CPU-only, tiny random towers, plus the browser test in Debian's
# chromium (installed here with apt when missing; Playwright never downloads a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
missing=""
command -v chromium >/dev/null 2>&1 || missing="chromium"
dpkg -s fonts-wqy-zenhei >/dev/null 2>&1 || missing="$missing fonts-wqy-zenhei"  # CJK glyphs in screenshots
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null) \
        || echo "warning: could not install$missing; browser tests may skip" >&2
fi
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
exec python -m pytest -m "not slow and not gpu" "$@"
