#!/usr/bin/env bash
# bench_peak.sh — checks `tunescale bench peak`: for every backend whose driver is installed,
# --quick --json reports positive, physically plausible GFLOP/s and GB/s, the nominal peak
# (or null), and records the figures in $TUNESCALE_CACHE/peak/<backend>-<device>.json, which
# holds the same numbers. Bad options exit 2.
source "$(dirname "$0")/lib.sh"
export TUNESCALE_CACHE="$tmp/cache"

backends=(cpu)
[[ -e /etc/OpenCL/vendors/pocl.icd ]] && backends+=(opencl)
[[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ]] && backends+=(vulkan)

for b in "${backends[@]}"; do
    "$TS" bench peak --backend "$b" --quick --json >"$tmp/$b.json" ||
        die "bench peak --backend $b exited $?"
    python3 - "$tmp/$b.json" "$b" "$TUNESCALE_CACHE" <<'PY'
import json, os, sys

path, backend, cache = sys.argv[1], sys.argv[2], sys.argv[3]

def fail(msg):
    sys.exit("FAIL: %s: %s" % (backend, msg))

doc = json.load(open(path))
for key in ("bench", "backend", "device", "gflops", "gbs", "nominal_gflops", "fma", "copy",
            "cache_file"):
    if key not in doc:
        fail("no '%s' in the JSON" % key)
if doc["bench"] != "peak" or doc["backend"] != backend or not doc["device"]:
    fail("bench/backend/device are %r/%r/%r" % (doc["bench"], doc["backend"], doc["device"]))
# Sane: any device does more than 0.05 GFLOP/s and GB/s, none yet does a PFLOP/s of FP32
# or 100 TB/s.
if not 0.05 < doc["gflops"] < 1e6:
    fail("gflops %r is not plausible" % doc["gflops"])
if not 0.05 < doc["gbs"] < 1e5:
    fail("gbs %r is not plausible" % doc["gbs"])
nominal = doc["nominal_gflops"]
if nominal is not None and not (nominal > 0 and doc["gflops"] < 2 * nominal):
    fail("measured %r GFLOP/s against a nominal %r" % (doc["gflops"], nominal))
f, c = doc["fma"], doc["copy"]
if abs(f["flops"] / f["seconds"] / 1e9 - doc["gflops"]) > 1e-6 * doc["gflops"]:
    fail("gflops is not fma.flops / fma.seconds")
if abs(c["bytes"] / c["seconds"] / 1e9 - doc["gbs"]) > 1e-6 * doc["gbs"]:
    fail("gbs is not copy.bytes / copy.seconds")
if c["bytes"] != 2 * c["buffer_bytes"] * c["copies"]:
    fail("copy bytes must count reads and writes")
cf = doc["cache_file"]
if not cf or os.path.dirname(cf) != os.path.join(cache, "peak"):
    fail("cache_file %r is not under %s/peak" % (cf, cache))
if not os.path.basename(cf).startswith(backend + "-") or not cf.endswith(".json"):
    fail("cache file name %r" % cf)
rec = json.load(open(cf))
if rec["format"] != 1 or rec["backend"] != backend or rec["device"] != doc["device"]:
    fail("the record names %r/%r" % (rec["backend"], rec["device"]))
if rec["gflops"] != doc["gflops"] or rec["gbs"] != doc["gbs"]:
    fail("the record holds other figures than the report")
print("ok: %s: %.1f GFLOP/s, %.1f GB/s, recorded in %s" % (backend, doc["gflops"], doc["gbs"], cf))
PY
done

# No temporary files are left beside the records (atomic writes rename them away).
leftover=$(find "$TUNESCALE_CACHE/peak" -type f ! -name '*.json' | wc -l)
[[ $leftover -eq 0 ]] || die "$leftover stray files in the peak cache"
echo "ok: only records in the cache"

# No folder to keep the record in: the figures are still reported, with one warning line.
env -u TUNESCALE_CACHE -u XDG_CACHE_HOME -u HOME "$TS" bench peak --backend cpu --quick \
    >"$tmp/nocache.txt" 2>"$tmp/nocache.err" || die "bench peak without a cache folder exited $?"
grep -q "warning: peak not recorded: peak cache: no cache directory" "$tmp/nocache.err" &&
    [[ $(wc -l <"$tmp/nocache.err") -eq 1 ]] || die "no cache folder: $(cat "$tmp/nocache.err")"
echo "ok: without a cache folder the peak is reported, not recorded, with one warning"

"$TS" bench peak --help | grep -q "FMA" || die "bench peak --help"
rc=0
"$TS" bench peak --backend cpu --seconds 0 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || die "--seconds 0 exited $rc, not 2"
rc=0
"$TS" bench peak --bogus 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || die "a bad option exited $rc, not 2"
rc=0
"$TS" bench peak --backend nosuch 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || die "an unknown backend exited $rc, not 2"
echo "ok: bad options exit 2"
