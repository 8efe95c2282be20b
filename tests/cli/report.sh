#!/usr/bin/env bash
# report.sh — checks `tunescale report` and `tunescale compare` from the outside: exit codes of
# bad input (2 usage, 1 missing folder or no result.json, each naming the folder), --json
# printing exactly one JSON document on stdout, and the files both commands write.
source "$(dirname "$0")/lib.sh"

# expect CODE CMD...: runs CMD, checks its exit code, leaves stderr in $tmp/err
expect() {
    local want=$1 rc=0
    shift
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [[ $rc -eq $want ]] || die "'$*' exited $rc, expected $want: $(cat "$tmp/err")"
}

expect 0 "$TS" report --help
grep -q -- "--bootstrap" "$tmp/out" || die "report --help does not document --bootstrap"
expect 0 "$TS" compare --help
grep -q -- "--out" "$tmp/out" || die "compare --help does not document --out"

expect 2 "$TS" report
expect 2 "$TS" report --bogus "$tmp"
grep -q "unknown option '--bogus'" "$tmp/err" || die "report --bogus: $(cat "$tmp/err")"
expect 2 "$TS" report "$tmp" "$tmp"
expect 2 "$TS" report "$tmp" --bootstrap many
expect 2 "$TS" report "$tmp" --seed
expect 2 "$TS" compare
expect 2 "$TS" compare "$tmp" --out
expect 2 "$TS" compare --bogus "$tmp"
echo "ok: usage errors exit 2"

expect 1 "$TS" report "$tmp/missing"
grep -q "$tmp/missing" "$tmp/err" || die "missing folder not named: $(cat "$tmp/err")"
mkdir "$tmp/empty"
expect 1 "$TS" report "$tmp/empty"
grep -q "$tmp/empty: no result.json" "$tmp/err" || die "empty folder: $(cat "$tmp/err")"
[[ $(wc -l <"$tmp/err") -eq 1 ]] || die "more than one line for an empty folder"
expect 1 "$TS" compare "$tmp/empty" "$tmp/missing"
expect 1 "$TS" compare "$tmp/missing"
echo "ok: missing folder and no result.json exit 1 with the folder named"

# Two small result sets: three transformer sizes on cpu, two on vulkan (one skipped).
python3 - "$tmp" <<'PY'
import json, math, os, sys
root = sys.argv[1]
def run(sweep, backend, n, status="ok", tps=None):
    d = os.path.join(root, sweep, "runs", backend, f"transformer-{n:g}")
    os.makedirs(d, exist_ok=True)
    r = {"schema": "tunescale.run/1", "status": status,
         "device": {"backend": backend, "name": backend + " device", "peak_gflops": None},
         "model": {"name": f"transformer-{n:g}", "family": "transformer", "params": n,
                   "params_non_embedding": n * 0.9}}
    if status == "ok":
        loss = 5 * n ** -0.076 + 0.8
        r.update(val_loss=loss, val_perplexity=math.exp(loss), tokens=1e6, tokens_per_s=tps,
                 peak_memory_bytes=n * 16, mfu=None,
                 curve={"columns": ["step", "tokens", "train_loss", "lr", "grad_norm"],
                        "points": [[s, s * 1e4, loss + 2 / s, 1e-3, 1] for s in range(1, 30)]})
    json.dump(r, open(os.path.join(d, "result.json"), "w"))
for n, t in [(1e6, 1000), (1e7, 100), (1e8, 10)]:
    run("a", "cpu", n, tps=t)
run("b", "vulkan", 1e6, tps=4000)
run("b", "vulkan", 1e7, status="skipped: out of memory")
os.makedirs(os.path.join(root, "a", "runs", "cpu", "broken"))
open(os.path.join(root, "a", "runs", "cpu", "broken", "result.json"), "w").write("{")
PY

expect 0 "$TS" report "$tmp/a" --json --bootstrap 50
python3 - "$tmp/out" <<'PY' || die "report --json: stdout is not the summary document"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema"] == "tunescale.summary/1", doc["schema"]
assert len(doc["runs"]) == 3, len(doc["runs"])
fit = [f for f in doc["fits"] if f["n"] == "params"][0]
assert fit["ok"] and abs(fit["alpha"] - 0.076) < 1e-4, fit
PY
grep -q "broken/result.json: not valid JSON" "$tmp/err" || die "corrupt file not warned about"
for f in summary.md summary.csv summary.json plots/val_loss_vs_params.png \
    plots/val_loss_vs_params.svg plots/tokens_per_s.png; do
    [[ -s "$tmp/a/$f" ]] || die "report did not write $f"
done
echo "ok: report --json prints one JSON document and writes summary + plots"

expect 0 "$TS" report "$tmp/b" --no-plots
[[ ! -e "$tmp/b/plots" ]] || die "--no-plots wrote plots/"
grep -q "not enough sizes" "$tmp/out" || die "one size should be 'not enough sizes'"
grep -q "skipped: out of memory" "$tmp/b/summary.csv" || die "skipped run missing from csv"
echo "ok: report --no-plots, not enough sizes, skipped run listed"

expect 0 "$TS" compare "$tmp/a" "$tmp/b" --out "$tmp/cmp" --json
python3 - "$tmp/out" <<'PY' || die "compare --json: wrong document"
import json, sys
doc = json.load(open(sys.argv[1]))
assert [s["backend"] for s in doc["sets"]] == ["cpu", "vulkan"], doc["sets"]
row = [r for r in doc["rows"] if r["model"] == "transformer-1e+06"][0]
assert abs(row["sets"][1]["tokens_per_s_ratio"] - 4.0) < 1e-9, row
PY
for f in compare.md compare.csv compare.json plots/compare_tokens_per_s.png; do
    [[ -s "$tmp/cmp/$f" ]] || die "compare did not write $f"
done
echo "ok: compare --json gives the tokens/s ratio against the first set"

# Without PLplot's cairo driver (a bundle without its plugins) plinit would ask for a device on
# stdin: a never-ending stdin hung the report, and /dev/null made PLplot exit before summary.md,
# leaving a .tmp behind. Now: one warning, the tables, no plots, no temporaries, exit 0.
mkdir "$tmp/nodrivers" "$tmp/c"
cp -r "$tmp/a/runs" "$tmp/c/"
rm -rf "$tmp/c/runs/cpu/broken"
mkdir "$tmp/c/plots"
touch "$tmp/c/plots/val_loss_vs_params.svg.tmp" # as a killed earlier report left it
mkfifo "$tmp/stdin"
sleep 1000 >"$tmp/stdin" & # holds the pipe open: reading it never ends
sleeper=$!
# the lib kills this background job at exit if a check stops the script first
for drv in "$tmp/missing" "$tmp/nodrivers"; do
    rm -f "$tmp/c"/summary.*
    expect 0 env PLPLOT_DRV_DIR="$drv" timeout 60 "$TS" report "$tmp/c" <"$tmp/stdin"
    grep -q "plots skipped: PLplot has no svgcairo/pngcairo driver in $drv" "$tmp/err" ||
        die "no driver in $drv: warning missing: $(cat "$tmp/err")"
    [[ $(wc -l <"$tmp/err") -eq 1 ]] || die "no driver in $drv: not one line: $(cat "$tmp/err")"
    tail -n 1 "$tmp/out" | grep -q "plots" && die "no driver in $drv: says it wrote plots: $(tail -n 1 "$tmp/out")"
    for f in summary.md summary.csv summary.json; do
        [[ -s "$tmp/c/$f" ]] || die "no driver in $drv: report did not write $f"
    done
    left=$(find "$tmp/c" -name '*.png' -o -name '*.svg' -o -name '*.tmp')
    [[ -z $left ]] || die "no driver in $drv: left $left"
    grep -q "^plots: skipped (PLplot has no" "$tmp/c/summary.md" || die "summary.md: no plots line"
    python3 - "$tmp/c/summary.json" <<'PY' || die "summary.json does not record the skipped plots"
import json, sys
p = json.load(open(sys.argv[1]))["plots"]
assert p["made"] is False and p["status"].startswith("skipped (PLplot has no"), p
PY
done
kill "$sleeper"
wait "$sleeper" 2>/dev/null || true
echo "ok: report without PLplot drivers: one warning, summary written, no plots, no .tmp, no hang"

echo "report: all checks passed"
