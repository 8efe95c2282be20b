#!/usr/bin/env bash
# train_resume.sh — a run killed with SIGKILL after its first checkpoint and resumed ends with
# bit-identical weights and the same loss curve as an uninterrupted run (same thread count);
# plus the train command's contract: result.json fields, bad options, out-of-memory as exit 3.
source "$(dirname "$0")/lib.sh"

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 300k -q
common=(--data "$tmp/data" --model transformer-small --batch 8 --seq-len 64 --steps 60
        --checkpoint-every 10 --threads 2 --lr 1e-3 --seed 7 -q)

"$TS" train "${common[@]}" --out "$tmp/full" && ok "uninterrupted run" || bad "uninterrupted run"

killed=0
for attempt in 1 2 3; do
  rm -rf "$tmp/cut"
  "$TS" train "${common[@]}" --out "$tmp/cut" &
  pid=$!
  for _ in $(seq 1 3000); do
    [ -f "$tmp/cut/checkpoint.safetensors" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
  done
  if kill -9 $pid 2>/dev/null; then
    wait $pid 2>/dev/null || true
    if [ ! -f "$tmp/cut/model.safetensors" ] && [ -f "$tmp/cut/checkpoint.safetensors" ]; then
      killed=1
      break
    fi
  fi
  wait $pid 2>/dev/null || true
done
[ $killed = 1 ] && ok "killed with SIGKILL after the first checkpoint" || bad "could not kill mid-run"
ls "$tmp/cut" | grep -q '\.tmp\.' && bad "temporary files left after the kill" || ok "no half-written file after the kill"

"$TS" train "${common[@]}" --out "$tmp/cut" --resume && ok "resumed run finishes" || bad "resume"
cmp -s "$tmp/full/model.safetensors" "$tmp/cut/model.safetensors" \
  && ok "resumed weights are bit-identical" || bad "weights differ after resume"
python3 - "$tmp/full/result.json" "$tmp/cut/result.json" <<'PY' && ok "same loss curve and val loss" || bad "curves differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["status"] == b["status"] == "ok"
pa, pb = a["curve"]["points"], b["curve"]["points"]
assert len(pa) == len(pb) == 60, (len(pa), len(pb))
for x, y in zip(pa, pb):
    assert x[:3] == y[:3] and x[4] == y[4], (x, y)
assert a["val_loss"] == b["val_loss"]
for key in ("schema", "model", "dataset", "hyperparameters", "device", "tokens_per_s",
            "peak_memory_bytes", "val_perplexity", "train_loss", "flops_per_token"):
    assert key in a, key
assert a["schema"] == "tunescale.run/1"
assert pa[-1][2] < pa[0][2], "loss did not fall"
PY

# --- the command's contract -------------------------------------------------------------------
rc=0; "$TS" train --model nosuch --data "$tmp/data" --out "$tmp/x" 2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] && grep -q "unknown model" "$tmp/e" && ok "unknown model -> exit 2" || bad "unknown model (rc=$rc)"
rc=0; "$TS" train --model lstm-tiny --data "$tmp/nodata" 2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] && grep -q "data prepare" "$tmp/e" && ok "missing dataset -> exit 2 with a hint" || bad "missing dataset (rc=$rc)"
rc=0; "$TS" train --model transformer-small --data "$tmp/data" --out "$tmp/oom" --mem-limit 1MiB -q 2>"$tmp/e" || rc=$?
[ $rc -eq 3 ] && grep -q "out of memory" "$tmp/e" \
  && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="skipped: out of memory" and d["memory_asked_bytes"]>1<<20' "$tmp/oom/result.json" \
  && ok "--mem-limit below the model -> exit 3, recorded as skipped" || bad "mem-limit (rc=$rc): $(cat "$tmp/e")"
rc=0; "$TS" train --model lstm-tiny --data "$tmp/data" --steps 2 --out "$tmp/cut" --resume -q 2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] && grep -q "another model" "$tmp/e" && ok "resuming another model's checkpoint is refused" || bad "foreign checkpoint (rc=$rc): $(cat "$tmp/e")"

rc=0; "$TS" train --model lstm-tiny --data "$tmp/data" --steps 100 --seq-len 16 --batch 4 --lr 1e30 --max-nonfinite 5 --out "$tmp/div" -q 2>"$tmp/e" || rc=$?
[ $rc -eq 1 ] && grep -q "diverged" "$tmp/e" \
  && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="failed: diverged" and d["nonfinite_skipped"]==5' "$tmp/div/result.json" \
  && ok "an absurd learning rate stops the run as diverged after 5 non-finite steps" || bad "divergence (rc=$rc): $(cat "$tmp/e")"

rc=0; "$TS" train --model lstm-tiny --data "$tmp/data" --steps 2 --seq-len 16 --batch 4 --losses "$tmp/nodir/l.txt" --out "$tmp/lf" -q 2>"$tmp/e" || rc=$?
[ $rc -eq 1 ] && grep -q -- "--losses" "$tmp/e" && ok "an unwritable --losses file is a clear error" || bad "--losses (rc=$rc): $(cat "$tmp/e")"

finish
