#!/usr/bin/env bash
# everyday.sh — small things a new user meets first: a mistyped preset or model name gets the
# nearest valid one suggested; `params --data DIR` counts with the data set's real vocabulary;
# transformer-tiny trains and benches with its own sequence length (8) when none is given.
source "$(dirname "$0")/lib.sh"

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 20k -q
vocab=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$tmp/data/dataset.json")

rc=0; "$TS" sweep --preset quik --data "$tmp/data" --backend cpu --out "$tmp/s" 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "did you mean quick?" "$tmp/err" && grep -q "micro, quick, seed" "$tmp/err" ||
  die "--preset quik: exit $rc: $(cat "$tmp/err")"
[[ ! -e "$tmp/s" ]] || die "a refused sweep created its --out"
rc=0; "$TS" bench step --backend cpu --model transformer-1m 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "did you mean transformer-1M?" "$tmp/err" || die "--model transformer-1m: exit $rc: $(cat "$tmp/err")"
ok "mistyped preset and model names: exit 2 with the nearest valid name"

"$TS" params --json --data "$tmp/data" >"$tmp/p.json" || die "params --data"
"$TS" params --json --vocab "$vocab" >"$tmp/v.json" || die "params --vocab"
cmp -s "$tmp/p.json" "$tmp/v.json" || die "params --data differs from --vocab $vocab"
python3 - "$tmp/p.json" "$vocab" <<'PY' || die "params --data does not use the data set's vocabulary"
import json, sys
d = json.load(open(sys.argv[1]))
models = d if isinstance(d, list) else d["models"]
assert all(m["vocab_size"] == int(sys.argv[2]) for m in models), models[0]
PY
rc=0; "$TS" params --data "$tmp/missing" 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "$tmp/missing: no dataset.json" "$tmp/err" || die "params --data missing: exit $rc"
ok "params --data counts with the data set's vocabulary ($vocab)"

"$TS" bench step --backend cpu --model transformer-tiny --steps 1 --warmup 0 --json >"$tmp/b.json" ||
  die "bench step transformer-tiny without --seq-len failed"
grep -q '"seq_len":	8' "$tmp/b.json" || die "bench step: not the model's 8: $(grep seq_len "$tmp/b.json")"
"$TS" train --model transformer-tiny --data "$tmp/data" --backend cpu --steps 2 --out "$tmp/run" -q 2>"$tmp/err" ||
  die "train transformer-tiny without --seq-len: $(cat "$tmp/err")"
grep -q '"seq_len":	8' "$tmp/run/result.json" || die "train: seq_len is not 8"
ok "transformer-tiny trains and benches at its own sequence length 8"
finish
