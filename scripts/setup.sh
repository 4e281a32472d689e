#!/usr/bin/env bash
# Sets up everything twin needs on a Debian machine with Python 3.11: system libraries,
# a virtual environment in .venv with twin installed in editable mode, the browser viewer's
# npm packages and build (viewer-web/dist, which `twin serve` serves), and (with --test)
# what only the test suite needs: Chromium, Mosquitto, OctoPrint (in .venv-octoprint).
# Safe to rerun: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

apt_packages=()
ldconfig -p | grep -q 'libusb-1.0.so' || apt_packages+=(libusb-1.0-0)   # open3d needs it to import
[[ -f /usr/include/eigen3/Eigen/Core ]] || apt_packages+=(libeigen3-dev)  # the C++ core's linear algebra
command -v node >/dev/null || apt_packages+=(nodejs npm)
(( want_test )) && { command -v chromium >/dev/null || apt_packages+=(chromium); }
(( want_test )) && { command -v pdftoppm >/dev/null || apt_packages+=(poppler-utils); }  # plan tests rasterise PDFs
(( want_test )) && { command -v mosquitto >/dev/null || [[ -x /usr/sbin/mosquitto ]] || apt_packages+=(mosquitto); }  # the live tests' MQTT broker
(( want_test )) && { command -v mosquitto_pub >/dev/null || apt_packages+=(mosquitto-clients); }  # the flood test's sender
(( want_test )) && { command -v redis-server >/dev/null || apt_packages+=(redis-server); }  # the scale-out tests' fan-out
(( want_test )) && { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_packages+=(postgresql); }  # their throw-away clusters
if (( ${#apt_packages[@]} )); then
  echo "setup: installing system packages: ${apt_packages[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating the virtual environment .venv"
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the package definition or the C++ sources changed.
stamp=.venv/.twin-installed
fingerprint=$(cat pyproject.toml setup.py twin/native/* | sha1sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$fingerprint" ]]; then
  echo "setup: installing twin and its dependencies into .venv (first time: a few minutes)"
  .venv/bin/pip install -q --upgrade pip "setuptools>=77" wheel pybind11   # scripts/build-native.sh builds with these
  .venv/bin/pip install -q -e ".[test,bench]"
  echo "$fingerprint" > "$stamp"
fi

# The live tests' OctoPrint (with its virtual printer) in its own environment: its pins would fight ours.
octoprint_version=1.11.8
if (( want_test )) && [[ $(.venv-octoprint/bin/octoprint --version 2>/dev/null) != *"$octoprint_version" ]]; then
  echo "setup: installing OctoPrint $octoprint_version into .venv-octoprint (for the live tests)"
  "$PYTHON" -m venv .venv-octoprint
  .venv-octoprint/bin/pip install -q "octoprint==$octoprint_version"
fi

if [[ -f viewer-web/package.json ]]; then
  lock_stamp=viewer-web/node_modules/.twin-installed
  lock_fingerprint=$(cat viewer-web/package.json viewer-web/package-lock.json 2>/dev/null | sha1sum | cut -d' ' -f1)
  if [[ ! -f $lock_stamp || $(cat "$lock_stamp") != "$lock_fingerprint" ]]; then
    echo "setup: installing the viewer's npm packages"
    (cd viewer-web && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_fingerprint" > "$lock_stamp"
  fi
  # Rebuild the viewer only when its sources changed since the last build.
  if [[ -f viewer-web/index.html ]]; then
    build_stamp=viewer-web/dist/.twin-built
    build_fingerprint=$(find viewer-web/index.html viewer-web/vite.config.js viewer-web/src viewer-web/package-lock.json \
                          -type f -print0 2>/dev/null | sort -z | xargs -0 cat | sha1sum | cut -d' ' -f1)
    if [[ ! -f $build_stamp || $(cat "$build_stamp") != "$build_fingerprint" ]]; then
      echo "setup: building the viewer (viewer-web/dist)"
      (cd viewer-web && npm run --silent build)
      echo "$build_fingerprint" > "$build_stamp"
    fi
  fi
fi
