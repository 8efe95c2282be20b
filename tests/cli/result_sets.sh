#!/usr/bin/env bash
# result_sets.sh — a folder is one result set: report and compare take the runs its sweep
# manifest names (not a finalize retraining, not a stray run); a fit spans one training regime
# only; an MFU above 100% is shown as a data error; `invalidate` keeps a run but leaves it out
# of the fits; a dirty build's runs need --allow-dirty; and a sweep into a folder holding
# another preset's set exits 2 and leaves every byte as it was.
source "$(dirname "$0")/lib.sh"

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 50k -q
hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dataset_hash"])' "$tmp/data/dataset.json")

# A fake quick sweep: 5 transformer sizes on the law 5*N^-0.076 + 0.8 (lr 4e-3, 262144 tokens),
# one run with an MFU of 147.6%, a stray run the manifest does not name, a finalize retraining.
python3 - "$tmp/set" "$hash" <<'PY'
import json, os, sys
root, h = sys.argv[1], sys.argv[2]
runs = []
def run(rel, n, tokens=262144, lr=4e-3, mfu=None, commit="abc123", status="ok"):
    d = os.path.join(root, rel)
    os.makedirs(d, exist_ok=True)
    loss = 5 * n ** -0.076 + 0.8
    r = {"schema": "tunescale.run/1", "status": status, "tunescale": {"commit": commit},
         "device": {"backend": "cpu", "name": "test cpu", "peak_gflops": 100.0},
         "dataset": {"dataset_hash": h},
         "hyperparameters": {"lr": lr, "warmup_steps": 10, "total_steps": 128},
         "model": {"name": "transformer-%g" % n, "family": "transformer", "params": n,
                   "params_non_embedding": n * 0.9},
         "val_loss": loss, "tokens": tokens, "tokens_per_s": 1000, "achieved_gflops": 10,
         "mfu": mfu}
    json.dump(r, open(os.path.join(d, "result.json"), "w"))
    return d
for i, n in enumerate([1e5, 3e5, 1e6, 3e6, 1e7]):
    rel = "runs/cpu/t%d" % i
    run(rel, n, mfu=1.476 if i == 2 else 0.1)
    runs.append({"backend": "cpu", "model": "transformer-%g" % n, "dir": rel, "status": "ok"})
json.dump({"schema": "tunescale.sweep/1", "preset": "quick", "data": "data", "dataset_hash": h,
           "backends": "cpu", "commit": "abc123", "runs": runs},
          open(os.path.join(root, "sweep.json"), "w"))
run("runs/cpu/stray", 3e7)                                # not in the manifest
run("final/train", 1e6, tokens=3221376, commit="abc123-dirty")  # finalize's retraining
json.dump({"schema": "tunescale.final/1"}, open(os.path.join(root, "final", "final.json"), "w"))
PY

"$TS" report "$tmp/set" --bootstrap 100 --no-plots --json >"$tmp/out.json" 2>"$tmp/err" || die "report: $(cat "$tmp/err")"
python3 - "$tmp/out.json" <<'PY' || die "report of the manifest's runs is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["counts"]["runs"] == 5, d["counts"]
assert d["counts"]["finalize_left_out"] == 1 and d["counts"]["not_in_manifest"] == 1, d["counts"]
f = [f for f in d["fits"] if f["n"] == "params"][0]
assert f["ok"] and abs(f["alpha"] - 0.076) < 1e-3 and not f["flagged"], f
assert f["alpha_ci95"][0] is not None and f["alpha_ci95"][0] <= f["alpha"] <= f["alpha_ci95"][1], f
bad = [r for r in d["runs"] if r["mfu_data_error"]]
assert len(bad) == 1 and abs(bad[0]["mfu"] - 1.476) < 1e-9, bad
assert any("MFU above 100%" in c for c in d["caveats"]), d["caveats"]
assert "system" in d and d["sweep"]["preset"] == "quick", d.keys()
PY
grep -q "\*\*147.6% (data error)\*\*" "$tmp/set/summary.md" || die "summary.md shows no MFU data error"
grep -q "±" "$tmp/set/summary.md" && die "summary.md still prints an interval as ±"
grep -Eq "\| \[0\.[0-9]+, 0\.[0-9]+\] \|" "$tmp/set/summary.md" || die "summary.md: no [lo, hi] interval"
echo "ok: report takes the manifest's 5 runs, leaves out finalize and the stray run, MFU 147.6% is a data error"

# Another token budget in the set: no fit, and the reason says so.
python3 - "$tmp/set/runs/cpu/t4/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["tokens"] = 3072; json.dump(r, open(sys.argv[1], "w"))
PY
"$TS" report "$tmp/set" --bootstrap 100 --no-plots --json >"$tmp/out.json" 2>"$tmp/err" || die "report: $(cat "$tmp/err")"
python3 - "$tmp/out.json" <<'PY' || die "a fit across token budgets was made"
import json, sys
f = [f for f in json.load(open(sys.argv[1]))["fits"] if f["n"] == "params"][0]
assert not f["ok"] and "runs differ" in f["reason"] and "3072 tokens" in f["reason"], f
PY
echo "ok: runs of different token budgets are not fitted together, and the report says why"

# invalidate: kept, listed with its reason, out of the fit (4 sizes left: still an interval)
"$TS" invalidate "$tmp/set/runs/cpu/t4" --reason "wrong budget" >/dev/null 2>"$tmp/err" || die "invalidate: $(cat "$tmp/err")"
grep -q '"status":	"invalid: wrong budget"' "$tmp/set/runs/cpu/t4/result.json" || die "result.json not marked"
grep -q '"status_before_invalid":	"ok"' "$tmp/set/runs/cpu/t4/result.json" || die "old status lost"
grep -q '"status":	"invalid: wrong budget"' "$tmp/set/sweep.json" || die "manifest not updated"
"$TS" report "$tmp/set" --bootstrap 100 --no-plots --json >"$tmp/out.json" 2>"$tmp/err" || die "report: $(cat "$tmp/err")"
python3 - "$tmp/out.json" <<'PY' || die "the invalid run is not handled"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["counts"]["invalid"] == 1 and d["counts"]["runs"] == 5, d["counts"]
f = [f for f in d["fits"] if f["n"] == "params"][0]
assert f["ok"] and f["points"] == 4 and not f["point_fit"], f
assert any("invalid: wrong budget" in c for c in d["caveats"]), d["caveats"]
PY
"$TS" invalidate "$tmp/set/runs/cpu/t4" >/dev/null 2>&1 && die "invalidate without --reason accepted"
echo "ok: invalidate keeps the run, updates the manifest, leaves it out of the fit, lists the reason"

# a dirty build's runs: refused (exit 2) unless --allow-dirty
sed -i 's/"abc123"/"abc123-dirty"/' "$tmp/set/runs/cpu/t0/result.json"
rc=0; "$TS" report "$tmp/set" --bootstrap 100 --no-plots >/dev/null 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q -- "--allow-dirty" "$tmp/err" || die "dirty run: exit $rc: $(cat "$tmp/err")"
"$TS" report "$tmp/set" --bootstrap 100 --no-plots --allow-dirty >/dev/null 2>&1 || die "--allow-dirty refused"
grep -q "local edits" "$tmp/set/summary.md" || die "dirty runs not named among the caveats"
echo "ok: runs of a dirty build need --allow-dirty and are named as a caveat"

# a sweep of another preset into the folder: exit 2, not a byte changed
cp -a "$tmp/set" "$tmp/before"
rc=0; "$TS" sweep --preset micro --data "$tmp/data" --backend cpu --out "$tmp/set" >/dev/null 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] || die "micro into a quick set exited $rc: $(cat "$tmp/err")"
grep -q "names preset quick, not micro" "$tmp/err" || die "no reason given: $(cat "$tmp/err")"
diff -r "$tmp/before" "$tmp/set" >/dev/null || die "the refused sweep changed the folder"
echo "ok: sweep --preset micro into a quick set exits 2 and leaves the folder byte-identical"

# compare takes the manifest's runs too, and names sets by --label or the folder, never a path
"$TS" compare --label mine="$tmp/set" --no-plots --json >"$tmp/cmp.json" 2>"$tmp/err" || die "compare: $(cat "$tmp/err")"
python3 - "$tmp/cmp.json" "$tmp" <<'PY' || die "compare is wrong"
import json, sys
text = open(sys.argv[1]).read()
d = json.loads(text)
assert [s["label"] for s in d["sets"]] == ["mine:cpu"], d["sets"]
assert len(d["rows"]) == 5, len(d["rows"])  # no stray, no finalize run
assert sys.argv[2] not in text, "a machine path in compare.json"
PY
echo "ok: compare --label names the set, takes the manifest's runs, writes no machine path"
echo "result_sets: all checks passed"
