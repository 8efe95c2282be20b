#!/usr/bin/env bash
# tune.sh — checks `tunescale tune`: bad options exit 2; on each GPU backend whose CPU driver
# is installed (PoCL, lavapipe) a 5-second search finishes, writes the tuning file under
# $TUNESCALE_CACHE/tune/ keyed by device, driver and tunescale version, `devices` then says
# "tuned", and `bench gemm` runs the file's choice; a corrupt or foreign file is ignored with
# one warning line and everything still runs.
source "$(dirname "$0")/lib.sh"
export TUNESCALE_CACHE="$tmp/cache"

code() { set +e; "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; set -e; }
[ "$(code "$TS" tune)" = 2 ] && ok "no --backend: usage error" || bad "no --backend: $(cat "$tmp/err")"
[ "$(code "$TS" tune --backend cpu)" = 2 ] && ok "cpu: usage error" || bad "cpu accepted"
[ "$(code "$TS" tune --backend opencl --budget 0)" = 2 ] && ok "--budget 0: usage error" ||
    bad "--budget 0 accepted"
[ "$(code "$TS" tune --backend opencl --budget x)" = 2 ] && ok "--budget x: usage error" ||
    bad "--budget x accepted"

backends=()
[[ -e /etc/OpenCL/vendors/pocl.icd ]] && backends+=(opencl)
[[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ]] && backends+=(vulkan)

for b in "${backends[@]}"; do
    start=$(date +%s)
    "$TS" tune --backend "$b" --budget 5 --json >"$tmp/$b.json" 2>"$tmp/$b.err" ||
        { bad "$b: tune exited $?: $(tail -2 "$tmp/$b.err")"; continue; }
    took=$(($(date +%s) - start))
    grep -q "eta" "$tmp/$b.err" && ok "$b: progress with ETA on stderr" || bad "$b: no progress"
    file=$(python3 - "$tmp/$b.json" "$b" "$TUNESCALE_CACHE" <<'PY'
import json, os, sys
doc = json.load(open(sys.argv[1]))
backend, cache = sys.argv[2], sys.argv[3]
assert doc["backend"] == backend, doc["backend"]
assert set(doc["classes"]) == {"regular", "skinny", "deepk", "batched"}, doc["classes"].keys()
for name, c in doc["classes"].items():
    if c["kernel"].startswith("untuned"):  # the budget ran out before its first trial
        assert doc["budget_exhausted"] and "gflops" not in c, (name, c)
        continue
    assert c["gflops"] > 0, (name, c)
    assert c["kernel"].startswith("builtin") or c["kernel"].startswith("tiled t"), c["kernel"]
assert doc["trials"], "no trials"
f = doc["file"]
assert os.path.dirname(f) == os.path.join(cache, "tune"), f
saved = json.load(open(f))
assert saved["device"] == doc["device"] and saved["backend"] == backend
for name, c in saved["classes"].items():
    want = doc["classes"][name]["kernel"]
    got = "builtin" if c["kernel"] == "builtin" else "tiled t%d%s" % (
        c["tile"], " s%d" % c["split_k"] if c["split_k"] > 1 else "")
    if "clblast" in c:  # a CLBlast parameter set: all three kernels, every parameter
        assert c["kernel"] == "builtin" and len(c["clblast"]["Xgemm"]) == 16, c
        assert want.startswith("builtin v"), (name, want)
        continue
    if "variant" in c:  # a built-in variant (Vulkan: a gemm_direct4 register block)
        assert c["kernel"] == "builtin" and want == "builtin v%d" % c["variant"], (c, want)
        continue
    if want.startswith("untuned"):
        continue
    assert got == want, (name, got, want)
print(f)
PY
    ) && ok "$b: tune --budget 5 finished in ${took}s, file $(basename "$file")" ||
        { bad "$b: tune JSON/file"; continue; }
    [ "$took" -le 60 ] && ok "$b: within a minute" || bad "$b: took ${took}s"
    "$TS" devices --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
b = sys.argv[1]
devs = [d for p in doc[b]["platforms"] for d in p["devices"]] if b == "opencl" else doc[b]["devices"]
assert devs[0]["gemm_tuning"] == "tuned", devs[0].get("gemm_tuning")' "$b" &&
        ok "$b: devices says tuned" || bad "$b: devices does not say tuned"

    # bench gemm runs the file's choice for a regular product
    "$TS" bench gemm --backend "$b" --size 128x128x128 --reps 1 --json >"$tmp/bg.json" 2>"$tmp/bg.err" ||
        bad "$b: bench gemm exited $?"
    python3 - "$tmp/bg.json" "$file" <<'PY' && ok "$b: bench gemm runs the tuned choice" || bad "$b: bench gemm choice"
import json, sys
row = json.load(open(sys.argv[1]))[0]
c = json.load(open(sys.argv[2]))["classes"]["regular"]
want = "builtin" if c["kernel"] == "builtin" else "tiled t%d" % c["tile"]
assert row["tuned"] is True and row["class"] == "regular", row
assert row["kernel"].startswith(want), (row["kernel"], want)
assert row["gflops"] > 0 and row["untuned_gflops"] > 0 and row["ours_gflops"] > 0, row
PY
    [ ! -s "$tmp/bg.err" ] && ok "$b: no warning with a good file" || bad "$b: $(cat "$tmp/bg.err")"

    # a corrupt file: one warning line, and the product still runs
    cp "$file" "$tmp/good.json"
    printf '{"format": 1, "classes": {' >"$file"
    "$TS" bench gemm --backend "$b" --size 64x64x64 --reps 1 >"$tmp/out" 2>"$tmp/err" &&
        [ "$(grep -c 'gemm tuning ignored' "$tmp/err")" = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
        grep -q "untuned" "$tmp/out" && ok "$b: corrupt file: one warning, untuned run" ||
        bad "$b: corrupt file: $(cat "$tmp/err")"
    "$TS" devices | grep -q "tuning file of another driver or version ignored" &&
        ok "$b: devices flags the bad file" || bad "$b: devices on a bad file"
    # a file of another tunescale version
    sed 's/"tunescale":[^,]*/"tunescale": "0.0.0-other"/' "$tmp/good.json" >"$file"
    "$TS" bench gemm --backend "$b" --size 64x64x64 --reps 1 >"$tmp/out" 2>"$tmp/err" &&
        grep -q "another device, driver or tunescale version" "$tmp/err" &&
        ok "$b: foreign file: warning, still runs" || bad "$b: foreign file: $(cat "$tmp/err")"
    if [ "$b" = opencl ]; then
        # a file whose regular class runs CLBlast with set 2 (clblast_params.c) is applied:
        # bench gemm and devices say so; with MWG 63 instead (against CLBlast's rules) the
        # file is refused with one warning, nothing is overridden, and the product still runs
        clb_file() { # MWG
            python3 - "$tmp/good.json" "$file" "$1" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
x = dict(zip("GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN".split(),
             [0, 1, 32, 2, 16, 16, int(sys.argv[3]), 16, 16, 64, 1, 1, 0, 0, 4, 4]))
d = dict(zip("KWID MDIMAD MDIMCD NDIMBD NDIMCD PADA PADB VWMD VWND WGD".split(),
             [2, 8, 8, 8, 8, 1, 1, 2, 2, 32]))
doc["classes"]["regular"] = {"kernel": "builtin", "tile": 0, "split_k": 1, "clblast": {
    "Xgemm": x, "XgemmDirect": d, "GemmRoutine": {"XGEMM_MIN_INDIRECT_SIZE": 512}}}
json.dump(doc, open(sys.argv[2], "w"))
PY
        }
        clb_file 64
        "$TS" bench gemm --backend opencl --size 96x96x96 --reps 1 >"$tmp/out" 2>"$tmp/err" &&
            [ ! -s "$tmp/err" ] && grep -q "CLBlast with tuned parameters" "$tmp/out" &&
            grep -q "regular, builtin v2\]" "$tmp/out" &&
            ok "opencl: a CLBlast set in the file is applied" ||
            bad "opencl: CLBlast set not applied: $(cat "$tmp/out" "$tmp/err")"
        "$TS" devices | grep -q "CLBlast runs with tuned parameters" &&
            ok "opencl: devices says CLBlast is tuned" || bad "opencl: devices on CLBlast set"
        clb_file 63
        "$TS" bench gemm --backend opencl --size 96x96x96 --reps 1 --json >"$tmp/out" 2>"$tmp/err" &&
            [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "CLBlast parameters this build does not try" "$tmp/err" &&
            python3 -c '
import json, sys
row = json.load(open(sys.argv[1]))[0]
assert row["tuned"] is False and row["kernel"] == "builtin" and row["gflops"] > 0, row' "$tmp/out" &&
            ok "opencl: a bad CLBlast set in the file: one warning, untuned run" ||
            bad "opencl: bad CLBlast set: $(cat "$tmp/err")"
    fi
    if [ "$b" = vulkan ]; then
        # a built-in variant in the file (gemm_direct4's 16x2 block) runs, and the forced
        # variant runs too; one the device does not have is refused with one warning
        python3 - "$tmp/good.json" "$file" 1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["classes"]["regular"] = {"kernel": "builtin", "tile": 0, "split_k": 1, "variant": int(sys.argv[3])}
json.dump(doc, open(sys.argv[2], "w"))
PY
        "$TS" bench gemm --backend vulkan --size 96x96x96 --reps 1 >"$tmp/out" 2>"$tmp/err" &&
            [ ! -s "$tmp/err" ] && grep -q "regular, builtin v1\]" "$tmp/out" &&
            ok "vulkan: a built-in variant in the file is applied" ||
            bad "vulkan: variant not applied: $(cat "$tmp/out" "$tmp/err")"
        python3 - "$tmp/good.json" "$file" 15 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["classes"]["regular"] = {"kernel": "builtin", "tile": 0, "split_k": 1, "variant": int(sys.argv[3])}
json.dump(doc, open(sys.argv[2], "w"))
PY
        "$TS" bench gemm --backend vulkan --size 96x96x96 --reps 1 >"$tmp/out" 2>"$tmp/err" &&
            [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "names built-in variant 15" "$tmp/err" &&
            grep -q "regular, builtin\]" "$tmp/out" &&
            ok "vulkan: a variant the device lacks: one warning, untuned run" ||
            bad "vulkan: bad variant: $(cat "$tmp/out" "$tmp/err")"
        TUNESCALE_GEMM=builtin:3 "$TS" bench gemm --backend vulkan --size 96x96x96 --reps 1 \
            >"$tmp/out" 2>&1 && grep -q "regular, builtin v3\]" "$tmp/out" &&
            ok "vulkan: TUNESCALE_GEMM=builtin:3 runs variant 3" || bad "vulkan: builtin:3: $(cat "$tmp/out")"
        [ "$(code env TUNESCALE_GEMM=builtin:9 "$TS" bench gemm --backend vulkan --size 8x8x8)" != 0 ] &&
            grep -q "builtin:VARIANT" "$tmp/err" && ok "vulkan: builtin:9 is refused" ||
            bad "vulkan: builtin:9: $(cat "$tmp/err")"

        # --budget is a wall-clock cap on everything (backend, probe, builds, trials): with one
        # second the search stops early, says what it left out and keeps what it measured
        rm -f "$file"
        start=$(date +%s%N)
        "$TS" tune --backend vulkan --budget 1 --json >"$tmp/b1.json" 2>"$tmp/b1.err" ||
            bad "vulkan: tune --budget 1 exited $?: $(tail -1 "$tmp/b1.err")"
        ms=$((($(date +%s%N) - start) / 1000000))
        python3 - "$tmp/b1.json" "$ms" <<'PY' && ok "vulkan: tune --budget 1 stopped in ${ms} ms, wrote what it measured" || bad "vulkan: tune --budget 1 (${ms} ms)"
import json, sys
doc, ms = json.load(open(sys.argv[1])), int(sys.argv[2])
assert ms < 10000, ms  # one second, plus the one trial that always runs and process start-up
assert doc["seconds"] < 5 and doc["budget_exhausted"] is True, doc["seconds"]
timed = [c for c in doc["classes"].values() if "gflops" in c]
assert timed and all(c["gflops"] > 0 for c in timed), doc["classes"]
left = sum(len(c["not_tried"]) for c in doc["classes"].values())
assert left > 0, "nothing left out in one second?"
saved = json.load(open(doc["file"]))
assert saved["backend"] == "vulkan" and set(saved["classes"]) == set(doc["classes"])
PY
        "$TS" tune --backend vulkan --budget 1 2>/dev/null | grep -q "not tried within the budget" &&
            ok "vulkan: the text output says what was not tried" || bad "vulkan: no 'not tried' line"
    fi
    cp "$tmp/good.json" "$file" # the next backend's devices check sees only its own file
done
finish
