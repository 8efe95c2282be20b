#!/usr/bin/env bash
# run.sh DIR... — the per-collection table of bench/abc/README.md, with this checkout's build.
# TUNESCALE overrides the binary (default: build/tunescale); extra options go to bench_abc.py
# after the folders (--show N, --json OUT, --jobs N).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ts=${TUNESCALE:-$here/../../build/tunescale}
[[ -x $ts ]] || { echo "run.sh: $ts is not built (cmake --build build)" >&2; exit 2; }
[[ $# -gt 0 ]] || { echo "run.sh: give one folder per collection (see bench/abc/README.md)" >&2; exit 2; }
exec python3 "$here/bench_abc.py" "$ts" "$@"
