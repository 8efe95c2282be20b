#!/usr/bin/env bash
# sample.sh — the contract of `tunescale sample` and `tunescale eval`: the same seed draws the
# same tunes, with or without the key/value cache (Transformer and LSTM); a prompt is continued;
# files and samples.json land in --out; --json is one document; eval reports test perplexity
# and the sample figures; bad usage exits 2.
source "$(dirname "$0")/lib.sh"

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 300k -q
"$TS" train --data "$tmp/data" --model transformer-small --batch 8 --seq-len 64 --steps 40 \
  --lr 2e-3 --threads 2 --out "$tmp/tf" -q
"$TS" train --data "$tmp/data" --model lstm-small --batch 8 --seq-len 64 --steps 5 \
  --lr 1e-3 --threads 2 --out "$tmp/lstm" -q

for run in tf lstm; do
  ck="$tmp/$run/model.safetensors"
  common=(--checkpoint "$ck" --n 2 --max-len 160 --context 32 --seed 9 --threads 2 -q)
  "$TS" sample "${common[@]}" >"$tmp/a.txt"
  "$TS" sample "${common[@]}" >"$tmp/b.txt"
  "$TS" sample "${common[@]}" --no-cache >"$tmp/c.txt"
  "$TS" sample "${common[@]}" --seed 10 >"$tmp/d.txt"
  cmp -s "$tmp/a.txt" "$tmp/b.txt" && [ -s "$tmp/a.txt" ] && ok "$run: same seed, same tunes" || bad "$run: not reproducible"
  cmp -s "$tmp/a.txt" "$tmp/c.txt" && ok "$run: cache and no cache draw the same tunes" || bad "$run: cache changes the tunes"
  cmp -s "$tmp/a.txt" "$tmp/d.txt" && bad "$run: another seed, same tunes" || ok "$run: another seed, other tunes"
done

"$TS" sample --checkpoint "$tmp/tf/model.safetensors" --n 3 --prompt 'X:1\nT:Generated Jig\nM:6/8\nL:1/8\nK:G\n' \
  --top-p 0.95 --max-len 100 --out "$tmp/s" --json -q >"$tmp/s.json"
python3 - "$tmp/s.json" "$tmp/s" <<'PY' && ok "--out files, samples.json, --json, prompt kept" || bad "sample --out/--json"
import json, os, sys
doc = json.load(open(sys.argv[1]))
idx = json.load(open(os.path.join(sys.argv[2], "samples.json")))
assert doc["schema"] == idx["schema"] == "tunescale.samples/1"
assert [s["text"] for s in doc["samples"]] == [s["text"] for s in idx["samples"]]
assert len(idx["samples"]) == 3
for s in idx["samples"]:
    text = open(os.path.join(sys.argv[2], s["file"])).read()
    assert text == s["text"] and text.startswith("X:1\nT:Generated Jig\nM:6/8\nL:1/8\nK:G\n")
    assert s["seed"] == 42 and s["stop"] in ("eos", "blank_lines", "max_len") and 0 < s["tokens"] <= 100
    assert s["tokens"] == 100 or s["stop"] != "max_len"
PY

"$TS" eval --checkpoint "$tmp/tf/model.safetensors" --samples "$tmp/s" --threads 2 --json >"$tmp/e.json"
python3 - "$tmp/e.json" "$tmp/tf/result.json" <<'PY' && ok "eval: test perplexity and sample figures" || bad "eval --json"
import json, math, sys
e, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert e["schema"] == "tunescale.eval/1" and e["model"] == "transformer-small"
t = e["test"]
assert t["tokens"] > 0 and abs(math.exp(t["loss"]) - t["perplexity"]) < 1e-9 * t["perplexity"]
assert 1 < t["perplexity"] < r["model"]["vocab_size"]
s = e["samples"]
assert s["files"] == 3 and len(s["per_file"]) == 3 and s["windows"] > 0
for k in ("strict_valid_pct", "loose_valid_pct", "midi_pct"):
    assert 0 <= s[k] <= 100
PY
"$TS" eval --checkpoint "$tmp/tf/model.safetensors" --threads 2 >"$tmp/e.txt"
grep -q "test perplexity" "$tmp/e.txt" && ok "eval prints a table" || bad "eval text: $(cat "$tmp/e.txt")"

rc=0; "$TS" sample 2>/dev/null || rc=$?
[ $rc -eq 2 ] && ok "no --checkpoint -> exit 2" || bad "no checkpoint (rc=$rc)"
rc=0; "$TS" sample --checkpoint "$tmp/nosuch.safetensors" 2>"$tmp/err" || rc=$?
[ $rc -eq 2 ] && grep -q "no such checkpoint" "$tmp/err" && ok "missing checkpoint -> exit 2" || bad "missing checkpoint (rc=$rc)"
rc=0; "$TS" sample --checkpoint "$tmp/tf/model.safetensors" --window wide 2>/dev/null || rc=$?
[ $rc -eq 2 ] && ok "bad --window -> exit 2" || bad "bad window (rc=$rc)"
rc=0; "$TS" eval --samples "$tmp/s" 2>/dev/null || rc=$?
[ $rc -eq 2 ] && ok "eval without checkpoint or data -> exit 2" || bad "eval usage (rc=$rc)"

finish
