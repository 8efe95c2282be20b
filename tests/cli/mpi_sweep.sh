#!/usr/bin/env bash
# mpi_sweep.sh — a sweep over MPI ranks writes what a single process writes: `mpirun -n 2
# tunescale sweep` on the micro preset gives the same run folders and files, the same losses
# bit for bit (CPU) and the report; both ranks train; a re-run with 2 or 3 ranks finds every run
# finished; a run that fails on one rank is recorded while the other runs finish, and a re-run
# redoes only it. Without MPI: --shard I/K runs every K-th run and leaves a run whose folder
# another process holds alone; bad --shard/--slurm-array values exit 2.
# The MPI part skips (77) without mpirun or an MPI build, unless TS_REQUIRE_MPI=1.
source "$(dirname "$0")/lib.sh"
unset TUNESCALE_FAULT TUNESCALE_PROGRESS_FD

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 200k -q
micro=(--preset micro --data "$tmp/data" --backend cpu)
"$TS" sweep "${micro[@]}" --threads 1 --out "$tmp/one" -q && ok "single-process sweep" || bad "single-process sweep"

# ---- shards, without MPI ---------------------------------------------------------------------
"$TS" sweep "${micro[@]}" --out "$tmp/shard" --shard 0/4 2>"$tmp/s0.err" && ok "--shard 0/4 exits 0" \
  || { bad "--shard 0/4"; cat "$tmp/s0.err"; }
n=$(find "$tmp/shard/runs" -name result.json | wc -l)
[ "$n" = 1 ] && ok "--shard 0/4 ran one run of four" || bad "--shard 0/4 ran $n runs"
[ ! -e "$tmp/shard/summary.md" ] && ok "a shard writes no report" || bad "a shard wrote the report"
grep -q "run tunescale report" "$tmp/s0.err" && ok "a shard says to run the report" || bad "shard message: $(cat "$tmp/s0.err")"
# run 1's folder held by another process: the shard leaves it alone
dir1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][1]["dir"])' "$tmp/shard/sweep.json")
mkdir -p "$tmp/shard/$dir1"
# one process holds the lock (killing it releases it), with no output for ctest to wait on
python3 -c 'import fcntl, os, sys, time
fcntl.flock(os.open(sys.argv[1], os.O_RDONLY), fcntl.LOCK_EX); time.sleep(60)' "$tmp/shard/$dir1" \
  >/dev/null 2>&1 &
holder=$!
for _ in $(seq 100); do flock -n "$tmp/shard/$dir1" true || break; sleep 0.1; done  # until held
"$TS" sweep "${micro[@]}" --out "$tmp/shard" --shard 1/4 2>"$tmp/s1.err" || true
grep -q "left alone: another process is training it" "$tmp/s1.err" && [ ! -e "$tmp/shard/$dir1/result.json" ] \
  && ok "a run whose folder is locked is left to its holder" || { bad "locked run"; cat "$tmp/s1.err"; }
kill $holder 2>/dev/null; wait $holder 2>/dev/null || true
"$TS" sweep "${micro[@]}" --out "$tmp/shard" --shard 1/4 -q && [ -e "$tmp/shard/$dir1/result.json" ] \
  && ok "once released, the shard trains it" || bad "shard 1/4 after release"
for a in "--shard 4/4" "--shard 1/0" "--shard x/2" "--shard 1" "--slurm-array" "--shard 0/2 --slurm-array"; do
  rc=0; env -u SLURM_ARRAY_TASK_ID "$TS" sweep "${micro[@]}" --out "$tmp/bad" $a 2>"$tmp/bad.err" || rc=$?
  [ $rc = 2 ] && [ "$(wc -l <"$tmp/bad.err")" = 1 ] && ok "$a: exit 2, one line" \
    || bad "$a: exit $rc: $(cat "$tmp/bad.err")"
done

# ---- MPI ranks -------------------------------------------------------------------------------
require_mpi # a skip reports the shard checks above, then exits 77 (1 if one failed)
mpi() { local k=$1; shift; timeout 300 mpirun --oversubscribe -n "$k" "$@"; }

mpi 2 "$TS" sweep "${micro[@]}" --out "$tmp/two" >"$tmp/two.err" 2>&1 && ok "mpirun -n 2 sweep exits 0" \
  || { bad "mpirun -n 2 sweep"; cat "$tmp/two.err"; }
files() { (cd "$1" && find runs models -type f ! -name train.log | sort); }
[ "$(files "$tmp/one")" = "$(files "$tmp/two")" ] && ok "2 ranks write the same files as 1 process ($(files "$tmp/one" | wc -l))" \
  || { bad "file sets differ"; diff <(files "$tmp/one") <(files "$tmp/two") || true; }
python3 - "$tmp/one" "$tmp/two" <<'PY' && ok "val losses and loss curves bit-identical, manifest complete" || bad "results differ"
import glob, json, os, sys
one, two = sys.argv[1], sys.argv[2]
runs = sorted(os.path.relpath(p, one) for p in glob.glob(one + "/runs/*/*/result.json"))
assert len(runs) == 4, runs
for rel in runs:
    a, b = (json.load(open(os.path.join(d, rel))) for d in (one, two))
    assert b["status"] == "ok", (rel, b["status"])
    assert a["val_loss"] == b["val_loss"], (rel, a["val_loss"], b["val_loss"])
    assert [p[2] for p in a["curve"]["points"]] == [p[2] for p in b["curve"]["points"]], rel
m = json.load(open(two + "/sweep.json"))
assert len(m["runs"]) == 4 and all(r["status"] == "ok" for r in m["runs"]), m["runs"]
PY
for r in 0 1; do
  grep -q "^rank $r: .* ok " "$tmp/two.err" && ok "rank $r trained runs" || bad "rank $r trained nothing"
done
[ -s "$tmp/two/summary.md" ] && [ -s "$tmp/two/summary.csv" ] && ok "rank 0 wrote the report" || bad "no report"
for k in 2 3; do
  mpi $k "$TS" sweep "${micro[@]}" --out "$tmp/two" >"$tmp/re.err" 2>&1 && grep -q "0 ran now" "$tmp/re.err" \
    && ok "re-run on $k ranks finds every run finished" || { bad "re-run on $k ranks"; cat "$tmp/re.err"; }
done

# one run fails (an injected device fault in the first process to reach its 150th op)
rc=0
TUNESCALE_FAULT=op:150@$tmp/fault.mark mpi 2 "$TS" sweep "${micro[@]}" --out "$tmp/fault" \
  >"$tmp/fault.err" 2>&1 || rc=$?
python3 - "$tmp/fault" <<'PY' && [ $rc != 0 ] && ok "a failed run is recorded, the other three finish, exit $rc" \
  || { bad "failure on one rank (exit $rc)"; cat "$tmp/fault.err"; }
import glob, json, sys
st = sorted(json.load(open(p))["status"] for p in glob.glob(sys.argv[1] + "/runs/*/*/result.json"))
assert len(st) == 4 and st.count("ok") == 3, st
assert any(s.startswith("failed: ") and "injected device fault" in s for s in st), st
# rank 0's manifest shows the failure, whichever rank had the run
m = sorted(r["status"] for r in json.load(open(sys.argv[1] + "/sweep.json"))["runs"])
assert m == st, (m, st)
PY
mpi 2 "$TS" sweep "${micro[@]}" --out "$tmp/fault" >"$tmp/fault2.err" 2>&1 && grep -q "1 ran now (1 ok" "$tmp/fault2.err" \
  && ok "the re-run redoes only the failed run" || { bad "re-run after a failure"; cat "$tmp/fault2.err"; }

finish
