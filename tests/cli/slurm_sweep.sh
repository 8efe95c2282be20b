#!/usr/bin/env bash
# slurm_sweep.sh — a sweep as a Slurm job array on a real single-node Slurm (munged, slurmctld
# and slurmd on 127.0.0.1, started here by scripts/slurm-local.sh; no mock): bench/slurm/
# sweep.sbatch as a 4-task array runs the micro preset, one run per task (task i = run i of the
# plan); every task completes; tunescale report afterwards makes a complete summary; the val
# losses equal a plain one-process sweep bit for bit (CPU backend); the array submitted again
# skips every run. Exit 77 (skip) without Slurm and munge, unless TS_REQUIRE_SLURM=1.
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/slurm-local.sh
source "$SRC/scripts/slurm-local.sh"
slurm_local_check || skip_unless_required TS_REQUIRE_SLURM "Slurm or munge is not installed"
on_exit 'slurm_local_stop "$tmp/slurm"'
t0=$SECONDS
export TUNESCALE=$TS # sbatch passes the environment on to sweep.sbatch

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 200k -q
micro=(--preset micro --data "$tmp/data" --threads 1 --backend cpu)

# ---- 1. the reference: the same sweep in one process ----------------------------------------
"$TS" sweep "${micro[@]}" --out "$tmp/plain" -q && ok "plain sweep" || bad "plain sweep"
"$TS" sweep "${micro[@]}" --out "$tmp/array" --dry-run >"$tmp/plan.txt" 2>/dev/null
n=$(wc -l <"$tmp/plan.txt")
[ "$n" = 4 ] && ok "--dry-run plans 4 runs" || { bad "--dry-run plans $n runs, not 4"; cat "$tmp/plan.txt"; }

# ---- 2. the cluster ---------------------------------------------------------------------------
s=$SECONDS
slurm_local_start "$tmp/slurm" || { echo "FAIL local Slurm did not start"; exit 1; }
ok "single-node Slurm up in $((SECONDS - s))s (node $(sinfo -h -o %N), $(sinfo -h -o %c) CPUs)"

# ---- 3. the sweep as a 4-task array, then the report ------------------------------------------
submit() { # OUTDIR: one array of n tasks, each task's output in OUTDIR/task-I.out; prints the job id
  mkdir -p "$1"
  sbatch --parsable --wait --array=0-$((n - 1)) --output="$1/task-%a.out" --chdir="$tmp" \
    "$SRC/bench/slurm/sweep.sbatch" "${micro[@]}" --out "$tmp/array"
}
s=$SECONDS
if job=$(submit "$tmp/out1"); then ok "sbatch --wait: array job $job finished, exit 0 ($((SECONDS - s))s)"
else bad "sbatch --wait exit $? (job ${job:-?})"; cat "$tmp"/out1/task-*.out; fi
job=${job%%;*}
# Without accounting (no sacct) slurmctld still knows the tasks for MinJobAge (5 minutes).
states=$(scontrol -o show job "$job" 2>/dev/null | tr ' ' '\n' | grep -E '^(ArrayTaskId|JobState|ExitCode)=' | paste -sd' ' || true)
[ "$(grep -o 'JobState=COMPLETED ExitCode=0:0' <<<"$states" | wc -l)" = 4 ] && ok "scontrol: the 4 array tasks COMPLETED, exit 0" \
  || bad "array task states: $states"
for i in $(seq 0 $((n - 1))); do
  f=$tmp/out1/task-$i.out
  grep -q "task $i " "$f" 2>/dev/null && ok "task $i ran: $(head -1 "$f")" || { bad "no output of task $i"; cat "$f" 2>/dev/null || true; }
done

# --allow-dirty: a working checkout with local edits builds a "-dirty" binary; dirtiness is not
# what this test is about
"$TS" report "$tmp/array" --allow-dirty >"$tmp/report.out" 2>&1 && ok "tunescale report" || { bad "tunescale report"; cat "$tmp/report.out"; }
for f in summary.md summary.csv summary.json plots/val_loss_vs_params.png plots/val_loss_vs_params.svg; do
  [ -s "$tmp/array/$f" ] && ok "report written: $f" || bad "no $f after the report"
done

/usr/bin/python3 - "$SRC/bench/presets/micro.json" "$tmp" <<'EOF' && ok "4 runs ok, task i ran run i, sweep.json and summary complete, losses equal the plain sweep" || bad "array sweep results"
import csv, glob, json, os, re, sys
models = [m["name"] for m in json.load(open(sys.argv[1]))["models"]]
tmp = sys.argv[2]
def named(text):  # the preset's models a text names
    return {m for m in models if re.search(r"(?<![\w-])" + re.escape(m) + r"(?![\w-])", text)}
plan = [named(line) for line in open(tmp + "/plan.txt")]
assert all(len(p) == 1 for p in plan), plan
for i, p in enumerate(plan):  # task i ran exactly run i of the plan, and no other
    out = open(f"{tmp}/out1/task-{i}.out").read()
    assert named(out) == p, (i, p, named(out), out)
def results(d):
    rs = {}
    for p in glob.glob(d + "/runs/cpu/*/result.json"):
        r = json.load(open(p))
        rs[os.path.relpath(p, d)] = r
    return rs
a, ref = results(tmp + "/array"), results(tmp + "/plain")
assert len(a) == 4 and sorted(a) == sorted(ref), (sorted(a), sorted(ref))
for k, r in a.items():
    assert r["status"] == "ok", (k, r["status"])
    assert r["val_loss"] == ref[k]["val_loss"], (k, r["val_loss"], ref[k]["val_loss"])
m = json.load(open(tmp + "/array/sweep.json"))
assert sorted(r["model"] for r in m["runs"]) == sorted(models), m["runs"]
assert all(r["status"] == "ok" for r in m["runs"]), m["runs"]
rows = list(csv.DictReader(open(tmp + "/array/summary.csv")))
assert sorted(r["model"] for r in rows) == sorted(models), rows
assert all(r["status"] == "ok" for r in rows), rows
md = open(tmp + "/array/summary.md").read()
assert named(md) == set(models), named(md)
print({k.split("/")[2]: a[k]["val_loss"] for k in sorted(a)})
EOF

# ---- 4. the array again: every run is cached, nothing changes ------------------------------------
sums() { find "$1/runs" -name result.json -print0 | sort -z | xargs -0 sha256sum; }
before=$(sums "$tmp/array")
s=$SECONDS
if job=$(submit "$tmp/out2"); then ok "second array finished, exit 0 ($((SECONDS - s))s)"; else bad "second array exit $?"; fi
for i in $(seq 0 $((n - 1))); do
  grep -q "0 ran now" "$tmp/out2/task-$i.out" 2>/dev/null && ok "second array, task $i ran nothing" \
    || { bad "second array, task $i ran something"; cat "$tmp/out2/task-$i.out" 2>/dev/null || true; }
done
[ "$(sums "$tmp/array")" = "$before" ] && ok "second array left every result.json as it was" || bad "second array changed results"

finish " in $((SECONDS - t0))s"
