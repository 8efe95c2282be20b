#!/usr/bin/env bash
# sanitize.sh — AddressSanitizer + UndefinedBehaviorSanitizer build in ./build-asan, then the
# CPU-backend tests and every parser's tests under it. Any report fails the run.
#   bash scripts/sanitize.sh              configure, build, test
#   TS_SANITIZE_TESTS=REGEX bash ...      another ctest -R selection
# OpenCL and Vulkan are off: their ICD drivers (PoCL, lavapipe) leak by design at exit and would
# bury real reports; test_backend_ops covers them in the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."

# This build has no OpenCL, Vulkan or MPI (above): CI's demand for them (TS_REQUIRE_BACKENDS,
# TS_REQUIRE_MPI, set by .ci/run for the normal build) does not apply here.
unset TS_REQUIRE_BACKENDS TS_REQUIRE_MPI

dir=build-asan
jobs=${TS_JOBS:-$(nproc)}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTUNESCALE_SANITIZE=ON \
  -DTUNESCALE_OPENCL=OFF -DTUNESCALE_VULKAN=OFF -DTUNESCALE_MPI=OFF -DTUNESCALE_NATIVE=OFF >"$dir.log" 2>&1 \
  || { cat "$dir.log" >&2; exit 1; }
rm -f "$dir.log"
cmake --build "$dir" -j"$jobs"

# halt_on_error + abort_on_error: the first report ends the test with a failure; leaks count too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp}
# The CPU backend (ops, golden replay, training, resume), every reader of files from outside
# (ingest, clean, split, vocab, safetensors, ABC, JSON results) and the commands built on them.
# cli_abc_midi (2,815 tunes through abc2midi, ~3 min under ASan) is left to the normal build; the
# MIDI pipeline runs here through test_abc_corrupt, cli_abc_check and tests/fuzz/fuzz_abc.
# cli_hostile_replay replays issue 25's generated hostile set (~360 runs) and counts signals,
# sanitizer reports, writes outside the target and user files removed: all must be 0.
tests='^(test_(cpu_ops|golden|safetensors|ingest|clean|split|vocab|philox|abc|abc_corrupt|fit|report|error|fsutil|eval|infer|sample|hostile)|cli_(commands|train_resume|data_prepare|abc_check|report|faults|bad_args|hostile_replay|hostile_cases))$'
ctest --test-dir "$dir" --output-on-failure -j"$jobs" -R "${TS_SANITIZE_TESTS:-$tests}"
