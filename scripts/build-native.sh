#!/usr/bin/env bash
# Rebuilds twin._native in place after editing twin/native/ (developers: faster than pip).
# A lock keeps two builds from writing the same module at once.
set -euo pipefail
cd "$(dirname "$0")/.."
exec flock /tmp/twin-native-build.lock .venv/bin/python setup.py -q build_ext --inplace "$@"
