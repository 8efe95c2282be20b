#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer harnesses (clang, ASan + UBSan) in ./build-fuzz and run one.
#   bash scripts/fuzz.sh NAME SECONDS [libFuzzer flags...]
#   NAME: abc | ingest | safetensors | vocab | cli | records | train_state | preset   (seed corpus: tests/fuzz/corpus/NAME/)
# New inputs go to build-fuzz/corpus/NAME (the committed seeds stay as they are); a crash is
# written as build-fuzz/crash-* and the script exits non-zero. Replay one with
#   build-fuzz/fuzz/fuzz_NAME build-fuzz/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: fuzz.sh NAME SECONDS (NAME: abc ingest safetensors vocab cli records train_state preset)}
secs=${2:?usage: fuzz.sh NAME SECONDS}
shift 2
[ -d "tests/fuzz/corpus/$name" ] || { echo "fuzz.sh: no harness '$name' (abc ingest safetensors vocab cli records train_state preset)" >&2; exit 2; }

dir=build-fuzz
# Coverage and sanitizers on the whole library; the harness adds libFuzzer's main at link time.
# Threads: 1 (OpenMP/OpenBLAS workers only add noise to single-input runs).
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
if [ ! -f "$dir/CMakeCache.txt" ]; then
  CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTUNESCALE_FUZZ=ON \
    -DTUNESCALE_OPENCL=OFF -DTUNESCALE_VULKAN=OFF -DTUNESCALE_MPI=OFF -DTUNESCALE_NATIVE=OFF \
    -DCMAKE_C_FLAGS="$flags" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; exit 1; }
  rm -f "$dir.log"
fi
cmake --build "$dir" -j"${TS_JOBS:-$(nproc)}" --target "fuzz_$name" >/dev/null

mkdir -p "$dir/corpus/$name"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$dir/fuzz/fuzz_$name" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$dir/" \
  -max_len=65536 -timeout=10 -rss_limit_mb=4096 "$@" "$dir/corpus/$name" "tests/fuzz/corpus/$name"
