#!/usr/bin/env bash
# The whole test suite: Python tests (including data tests on ../shared/data where present)
# and the browser viewer's tests in headless Chromium. Sets itself up first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

status=0
if [[ -f viewer-web/index.html ]]; then
  echo "== viewer-web: browser tests (headless Chromium)"
  (cd viewer-web && npm test) || status=1
fi
echo "== python tests"
.venv/bin/python -m pytest "$@" || status=1
exit $status
