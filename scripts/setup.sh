#!/usr/bin/env bash
# setup.sh — install tunescale's Debian 12 packages, then configure and build it in ./build.
# Runs as root, or as a user with sudo (only apt-get needs it). Safe to run again: apt skips
# what is installed and the build is incremental.
#   bash scripts/setup.sh            install + build
#   SKIP_APT=1 bash scripts/setup.sh build only
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SKIP_APT:-0}" != 1 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  packages=$(grep -v '^#' scripts/packages.txt | tr '\n' ' ')
  export DEBIAN_FRONTEND=noninteractive
  echo "setup: installing Debian packages (apt-get)" >&2
  "${sudo[@]}" apt-get update -qq
  # shellcheck disable=SC2086
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends $packages >/dev/null
fi

echo "setup: configuring and building in ./build" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >build-configure.log 2>&1 \
  || { cat build-configure.log >&2; exit 1; }
grep -E 'backend OFF|tunescale backends' build-configure.log >&2 || true
rm -f build-configure.log
cmake --build build -j"$(nproc)"
