#!/usr/bin/env bash
# sweep.sh — the sweep harness end to end: a micro sweep (2 sizes x 2 families) on every backend
# that opens here, every result.json checked against results/schema/run.schema.json; a re-run
# skips everything; an out-of-memory run is recorded as skipped and the sweep finishes; a run
# that fails is recorded with its message; a sweep killed with SIGKILL ten times at seeded
# moments and restarted ends with the same results as an uninterrupted one (CPU: losses
# bit-identical), none duplicated, lost or half-written; bad command lines exit 2.
source "$(dirname "$0")/lib.sh"

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 200k -q
micro=(--preset micro --data "$tmp/data" --threads 1)

# ---- 1. micro sweep on every backend, result files against the schema ----------------------
"$TS" sweep "${micro[@]}" --backend all --out "$tmp/all" 2>"$tmp/all.err" && ok "micro sweep" \
  || { bad "micro sweep"; cat "$tmp/all.err"; }
backends=$(ls "$tmp/all/runs")
echo "backends swept: $(echo $backends)"
for b in $(echo "${TS_REQUIRE_BACKENDS:-}" | tr , " "); do
  [ -d "$tmp/all/runs/$b" ] && ok "required backend $b swept" || bad "required backend $b missing"
done
/usr/bin/python3 - "$SRC/results/schema/run.schema.json" "$tmp/all" <<'EOF' && ok "every result.json matches the schema, losses agree across backends" || bad "schema or cross-backend check"
import glob, json, math, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft7Validator(schema)
runs = sorted(glob.glob(sys.argv[2] + "/runs/*/*/result.json"))
backends = {p.split("/")[-3] for p in runs}
assert len(runs) == 4 * len(backends), f"{len(runs)} result files for {len(backends)} backends"
by_model = {}
for p in runs:
    r = json.load(open(p))
    errors = sorted(v.iter_errors(r), key=str)
    assert not errors, f"{p}: {errors[0].message} at {list(errors[0].path)}"
    assert r["status"] == "ok", (p, r["status"])
    # the system description: this host's CPU model, the build's commit, the run's device
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")]
    s = r["system"]
    assert s["host"]["cpu"] == cpu[0] and s["host"]["cores"] >= 1, s["host"]
    assert s["build"]["commit"] == r["tunescale"]["commit"] and s["build"]["dirty"] == r["tunescale"]["commit"].endswith("-dirty"), s["build"]
    assert s["device"]["name"] == r["device"]["name"] and s["device"]["backend"] == r["device"]["backend"], s["device"]
    assert r["hyperparameters"]["total_steps"] == 12 and r["steps"] == 12
    assert r["tokens"] == 12 * 4 * 32
    assert 1.0 < r["val_loss"] < 6.0 and math.isclose(r["val_perplexity"], math.exp(r["val_loss"]), rel_tol=1e-9)
    by_model.setdefault(r["model"]["name"], []).append((r["device"]["backend"], r["val_loss"]))
assert len(by_model) == 4
for m, xs in by_model.items():
    ref = dict(xs)["cpu"]
    for b, loss in xs:   # same masks, same data order: backends agree to float rounding
        assert abs(loss - ref) < 1e-3, (m, b, loss, ref)
sweep = json.load(open(sys.argv[2] + "/sweep.json"))
assert sweep["schema"] == "tunescale.sweep/1" and len(sweep["runs"]) == len(runs)
assert all(r["status"] == "ok" for r in sweep["runs"])
assert sweep["system"]["build"]["commit"] and sweep["system"]["host"]["cores"] >= 1, sweep["system"]
EOF

for f in summary.md summary.csv summary.json report.html plots/val_loss_vs_params.png plots/val_loss_vs_params.svg; do
  [ -s "$tmp/all/$f" ] && ok "report written: $f" || bad "no $f after the sweep"
done

# ---- 2. a re-run skips every finished run and changes nothing ---------------------------------
sums() { find "$1/runs" -name result.json -print0 | sort -z | xargs -0 sha256sum; }
before=$(sums "$tmp/all")
start=$(date +%s.%N)
"$TS" sweep "${micro[@]}" --backend all --out "$tmp/all" 2>"$tmp/rerun.err" && ok "re-run exits 0" || bad "re-run"
secs=$(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $start }")
grep -q "0 ran now" "$tmp/rerun.err" && ok "re-run ran nothing (${secs}s)" || { bad "re-run ran something"; cat "$tmp/rerun.err"; }
[ "$(sums "$tmp/all")" = "$before" ] && ok "re-run left every result.json as it was" || bad "re-run changed results"

# ---- 3. out of memory is recorded as skipped, the sweep goes on ----------------------------
"$TS" sweep "${micro[@]}" --backend cpu --out "$tmp/oom" --mem-limit 600KiB -q && ok "sweep with a memory cap finishes, exit 0" || bad "memory-capped sweep exit"
/usr/bin/python3 - "$tmp/oom" <<'EOF' && ok "runs past the cap recorded as skipped: out of memory (with size asked and cap), the others ran" || bad "OOM records"
import glob, json, sys
cap = 600 * 1024
seen = {"ok": 0, "skipped: out of memory": 0}
for p in glob.glob(sys.argv[1] + "/runs/cpu/*/result.json"):
    r = json.load(open(p))
    seen[r["status"]] += 1
    if r["status"] == "ok":
        assert r["peak_memory_bytes"] <= cap, (p, r["peak_memory_bytes"])
    else:
        assert r["mem_limit_bytes"] == cap and r["memory_asked_bytes"] > cap, (p, r)
assert seen["ok"] >= 1 and seen["skipped: out of memory"] >= 1, seen
m = json.load(open(sys.argv[1] + "/sweep.json"))
assert len(m["runs"]) == 4 and sum(r["status"] == "skipped: out of memory" for r in m["runs"]) == seen["skipped: out of memory"]
print(seen)
EOF
status() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['status'])" "$1"/result.json; }

# ---- 4. a failing run is recorded with its message, the sweep goes on ---------------------------
cp -r "$tmp/data" "$tmp/broken"
head -c 101 "$tmp/data/val.bin" >"$tmp/broken/val.bin" # an odd size: not uint16 tokens
set +e
"$TS" sweep --preset micro --data "$tmp/broken" --threads 1 --backend cpu --out "$tmp/fail" -q --models transformer-micro-a,lstm-micro-a
rc=$?
set -e
[ $rc = 1 ] && ok "a sweep with failed runs exits 1" || bad "failed sweep exit $rc"
s=$(status "$tmp"/fail/runs/cpu/lstm-micro-a-*)
[[ "$s" == failed:*val.bin* ]] && ok "failure recorded with its reason: $s" || bad "failure status: $s"
[ -f "$(echo "$tmp"/fail/runs/cpu/transformer-micro-a-*)/result.json" ] && ok "the sweep went on after a failure" || bad "sweep stopped at a failure"

# ---- 5. SIGKILL ten times at seeded moments, then finish: same results as uninterrupted -------
long=(--preset micro --data "$tmp/data" --threads 1 --backend cpu --steps 400 --checkpoint-every 10 -q)
"$TS" sweep "${long[@]}" --out "$tmp/ref" && ok "uninterrupted reference sweep" || bad "reference sweep"
RANDOM=4242
kills=0
for i in $(seq 1 10); do
  "$TS" sweep "${long[@]}" --out "$tmp/cut" &
  pid=$!
  sleep "0.$((RANDOM % 5 + 1))" # 0.1-0.5 s: ten kills fit inside one sweep
  if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); fi
  wait $pid 2>/dev/null || true
  sleep 0.1 # let the run child see its parent die (PR_SET_PDEATHSIG)
done
"$TS" sweep "${long[@]}" --out "$tmp/cut" && ok "restarted sweep finishes after $kills kills" || bad "restart after kills"
[ $kills -ge 5 ] && ok "$kills of 10 kills hit a running sweep" || bad "only $kills kills hit a running sweep"
/usr/bin/python3 - "$tmp/ref" "$tmp/cut" <<'EOF' && ok "killed sweep: same runs, same losses bit for bit, nothing duplicated or half-written" || bad "killed sweep differs"
import glob, json, os, sys
ref, cut = sys.argv[1], sys.argv[2]
def runs(d):
    return {os.path.relpath(p, d): json.load(open(p)) for p in glob.glob(d + "/runs/*/*/result.json")}
a, b = runs(ref), runs(cut)
assert sorted(a) == sorted(b), (sorted(a), sorted(b))
assert len(glob.glob(cut + "/runs/*/*")) == len(a), "extra run folders"
for k in a:
    assert b[k]["status"] == "ok", (k, b[k]["status"])
    assert a[k]["val_loss"] == b[k]["val_loss"], (k, a[k]["val_loss"], b[k]["val_loss"])
    assert a[k]["curve"]["points"] == b[k]["curve"]["points"] or \
        [p[2] for p in a[k]["curve"]["points"]] == [p[2] for p in b[k]["curve"]["points"]], k
    assert len(b[k]["curve"]["points"]) == 400
left = [p for p in glob.glob(cut + "/**", recursive=True) if ".tmp" in os.path.basename(p)]
assert not left, left
m = json.load(open(cut + "/sweep.json"))
assert sorted(r["dir"] for r in m["runs"]) == sorted(os.path.dirname(k) for k in a)
EOF

# ---- 6. bad command lines -------------------------------------------------------------------
expect2() { set +e; "$TS" sweep "$@" >/dev/null 2>"$tmp/err"; rc=$?; set -e
  [ $rc = 2 ] && [ "$(wc -l <"$tmp/err")" -le 2 ] && ok "exit 2: $* -> $(head -1 "$tmp/err")" || { bad "expected exit 2: $* (rc $rc)"; cat "$tmp/err"; }; }
expect2 --preset micro --data "$tmp/data" --out "$tmp/x"
expect2 --preset nope --data "$tmp/data" --backend cpu --out "$tmp/x"
expect2 --preset micro --data "$tmp/nodata" --backend cpu --out "$tmp/x"
expect2 --preset micro --data "$tmp/data" --backend cuda --out "$tmp/x"
expect2 --preset micro --data "$tmp/data" --backend cpu --out "$tmp/x" --steps 0
grep -q "for --steps" "$tmp/err" && ok "the message names the flag" || bad "message does not name --steps"
set +e; "$TS" train --model transformer-tiny --data "$tmp/data" --batch 0 2>"$tmp/err"; rc=$?; set -e
[ $rc = 2 ] && grep -q "for --batch" "$tmp/err" && ok "train names the flag too" || bad "train bad-value message"
expect2 --preset micro --data "$tmp/data" --backend cpu --out "$tmp/x" --steps 3 --epochs 1
expect2 --preset micro --data "$tmp/data" --backend cpu --out "$tmp/x" --models nothing
expect2 --preset micro --data "$tmp/data" --backend cpu --out "$tmp/x" --bogus
echo '{"models": [{"name": "x", "family": "transformer", "d_model": 30, "n_layers": 1, "n_heads": 4}]}' >"$tmp/badshape.json"
expect2 --preset "$tmp/badshape.json" --data "$tmp/data" --backend cpu --out "$tmp/x"
echo '{"defaults": {"token": 5}, "models": ["transformer-tiny"]}' >"$tmp/typo.json"
expect2 --preset "$tmp/typo.json" --data "$tmp/data" --backend cpu --out "$tmp/x"

finish
