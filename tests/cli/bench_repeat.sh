#!/usr/bin/env bash
# bench_repeat.sh — `bench step --repeat N` times N blocks of --steps steps and reports their
# median with the range and the load average, so one figure under unknown load is never all.
source "$(dirname "$0")/lib.sh"

"$TS" bench step --backend cpu --model transformer-tiny --seq-len 8 --batch 2 --steps 2 \
  --warmup 1 --repeat 5 --json >"$tmp/out.json" 2>"$tmp/err" || die "bench step --repeat: $(cat "$tmp/err")"
python3 - "$tmp/out.json" <<'PY' || die "the repeats are not summarised"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["repeats"]
assert r["n"] == 5, r
assert r["tokens_per_s_min"] <= r["tokens_per_s_median"] <= r["tokens_per_s_max"], r
assert d["tokens_per_s"] == r["tokens_per_s_median"], (d["tokens_per_s"], r)
assert abs(r["spread"] - (r["tokens_per_s_max"] - r["tokens_per_s_min"]) / r["tokens_per_s_median"]) < 1e-9, r
assert r["load_average_1m_before"] >= 0 and r["load_average_1m_after"] >= 0, r
PY
ok "bench step --repeat 5: median, range, spread and load average"
rc=0; "$TS" bench step --backend cpu --model transformer-tiny --seq-len 8 --repeat 0 >/dev/null 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q -- "--repeat" "$tmp/err" || die "--repeat 0: exit $rc: $(cat "$tmp/err")"
ok "--repeat 0 is a usage error naming the flag"
finish
