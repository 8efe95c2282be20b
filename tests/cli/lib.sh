# lib.sh — the preamble every command-line test shares; each tests/cli/*.sh starts with
#   source "$(dirname "$0")/lib.sh"
# It gives: strict mode; TS (the binary) and SRC (the repository root); a temporary folder $tmp,
# removed at exit together with any background job still running; pass/fail counters with
# ok/bad and `finish` for the summary line and exit status; die for the fail-fast scripts;
# on_exit for a script's own cleanup; skip_unless_required and require_mpi for the skips.
# Not a test itself: tests/CMakeLists.txt leaves it out of the cli_* tests.
# shellcheck shell=bash disable=SC2034 # TS, SRC, tmp, ts_name are for the sourcing script
set -euo pipefail
TS=${TUNESCALE:?set TUNESCALE to the built binary}
SRC=${TS_SOURCE_DIR:?set TS_SOURCE_DIR to the repository root}
ts_name=$(basename "$0" .sh) # prefixes the summary line
# stderr is no terminal under ctest, but a TUNESCALE_PROGRESS=1 from the caller's shell would add
# progress lines to the stderr that many checks count
export TUNESCALE_PROGRESS=0

tmp=$(mktemp -d)
_ts_exit_cmds=()
# on_exit CMD: run CMD (a string, eval'd) at exit, before the background jobs die and $tmp goes
on_exit() { _ts_exit_cmds+=("$1"); }
_ts_cleanup() {
  # a failing command in here must neither stop the cleanup nor change the script's exit status
  set +e
  local cmd pids
  for cmd in ${_ts_exit_cmds[@]+"${_ts_exit_cmds[@]}"}; do eval "$cmd"; done
  # a run started with & (a sweep to be killed, a lock holder, a pipe writer) must not outlive
  # the test or write into $tmp while it is removed: KILL, which cannot be caught, then reaped,
  # so that bash prints no "Killed" line for them
  pids=$(jobs -p)
  # shellcheck disable=SC2086 # one word per pid
  [ -z "$pids" ] || { kill -9 $pids; wait $pids; } 2>/dev/null
  rm -rf "$tmp"
}
trap _ts_cleanup EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# die MSG: the fail-fast scripts stop at their first failed check
die() {
  echo "FAIL: $*" >&2
  exit 1
}

# finish [SUFFIX]: the summary line (SUFFIX appended, e.g. ", 2 skipped"); exit 1 on any failure
finish() {
  echo "$ts_name: $pass passed, $fail failed${1:-}"
  [ "$fail" -eq 0 ] || exit 1
  exit 0
}

# skip_unless_required VAR MSG [CODE]: what the test needs is missing. With VAR=1 in the
# environment that is a failure; otherwise the test is skipped. Either way it reports the checks
# run so far and exits: CODE (77, ctest's SKIP_RETURN_CODE, unless told) when nothing failed,
# else 1.
skip_unless_required() {
  local var=$1 why=$2 code=${3:-77}
  if [ "${!var:-0}" = 1 ]; then bad "$why ($var=1)"; else echo "skipped: $why"; fi
  echo "$ts_name: $pass passed, $fail failed"
  [ "$fail" -eq 0 ] || exit 1
  exit "$code"
}

# require_mpi: mpirun and an MPI build, or skip (fail with TS_REQUIRE_MPI=1)
require_mpi() {
  command -v mpirun >/dev/null || skip_unless_required TS_REQUIRE_MPI "no mpirun (apt-get install openmpi-bin)"
  "$TS" --version | grep -q '^mpi: yes' ||
    skip_unless_required TS_REQUIRE_MPI "tunescale built without MPI (-DTUNESCALE_MPI=ON)"
  # CI runs as root on 2 cores: Open MPI refuses root and more ranks than cores unless told
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_rmaps_base_oversubscribe=1
}
