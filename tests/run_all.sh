#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what it needs (Debian's Chromium for the
# browser tests, the Python packages), lints, then runs every test. README and .ci/run call this.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    echo "== installing Debian's chromium (browser tests drive it through Playwright)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fonts-liberation >/dev/null
fi

echo "== installing Python packages"
python3 -m pip install -q --disable-pip-version-check -r requirements.txt -r tests/requirements.txt

echo "== ruff"
python3 -m ruff check .

echo "== pytest"
# Browser tests must run here, never be skipped for want of a browser.
export KL_REQUIRE_BROWSER=1
exec python3 -m pytest "$@"
