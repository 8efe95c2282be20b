#!/usr/bin/env bash
# data_parallel.sh — `mpirun -n 2 tunescale train` is the single-process run with the same global
# batch: per-step losses and the val loss agree within 1e-4 for a Transformer and an LSTM with
# dropout on (the masks are the global batch's), also with a batch that does not split evenly
# (B=7 over one epoch, whose last batch of one window leaves rank 0 empty), and after a resume
# under 2 ranks from a checkpoint; rank 0 alone writes the files; a rank that fails stops both
# with an error and a non-zero exit instead of a hang.
# Skips (77) without mpirun or without MPI in the build, unless TS_REQUIRE_MPI=1.
source "$(dirname "$0")/lib.sh"
unset TUNESCALE_FAULT TUNESCALE_PROGRESS_FD

require_mpi # skips (77) here without mpirun or an MPI build
mpi2() { timeout 120 mpirun --oversubscribe -n 2 "$@"; }

# 30k characters: 904 windows of 32, so B=7 leaves a last batch of one window
"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 30k -q
cat >"$tmp/tf.json" <<'EOF'
{"name": "dp-transformer", "family": "transformer", "d_model": 32, "n_layers": 2, "n_heads": 2,
 "d_ff": 64, "max_seq_len": 32, "dropout": 0.1}
EOF
cat >"$tmp/lstm.json" <<'EOF'
{"name": "dp-lstm", "family": "lstm", "d_model": 32, "n_layers": 2, "dropout": 0.1}
EOF

# same NAME1 NAME2 [STEPS]: losses files and val losses agree within 1e-4 (prints the largest gap)
same() {
  python3 - "$tmp/$1" "$tmp/$2" "${3:-0}" <<'PY'
import json, sys
a, b, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
la = [l.split() for l in open(a + ".losses")]
lb = [l.split() for l in open(b + ".losses")]
assert len(la) == len(lb) and (not steps or len(la) == steps), (len(la), len(lb))
worst = 0.0
for x, y in zip(la, lb):
    assert x[0] == y[0], (x, y)
    worst = max(worst, abs(float(x[1]) - float(y[1])))
ra, rb = (json.load(open(p + "/result.json")) for p in (a, b))
dv = abs(ra["val_loss"] - rb["val_loss"])
print(f"max |loss diff| {worst:.2g} over {len(la)} steps, |val diff| {dv:.2g}", end="")
assert worst <= 1e-4 and dv <= 1e-4 * abs(ra["val_loss"]), (worst, dv)
PY
}

for m in tf lstm; do
  c=(--model "$tmp/$m.json" --data "$tmp/data" --batch 8 --seq-len 32 --steps 30 --lr 3e-3
     --seed 5 --checkpoint-every 10 -q)
  "$TS" train "${c[@]}" --threads 1 --out "$tmp/$m-1" --losses "$tmp/$m-1.losses" \
    && ok "$m: single process" || bad "$m: single process"
  mpi2 "$TS" train "${c[@]}" --out "$tmp/$m-2" --losses "$tmp/$m-2.losses" >"$tmp/$m-2.out" 2>&1 \
    && ok "$m: 2 ranks" || { bad "$m: 2 ranks"; cat "$tmp/$m-2.out"; }
  msg=$(same $m-1 $m-2 30) && ok "$m: 2 ranks = 1 process, B=8: $msg" || bad "$m: B=8 differs: $msg"

  c=(--model "$tmp/$m.json" --data "$tmp/data" --batch 7 --seq-len 32 --epochs 1 --lr 3e-3
     --seed 6 -q)
  "$TS" train "${c[@]}" --threads 1 --out "$tmp/$m-7a" --losses "$tmp/$m-7a.losses" || bad "$m: B=7 single"
  mpi2 "$TS" train "${c[@]}" --out "$tmp/$m-7b" --losses "$tmp/$m-7b.losses" >"$tmp/$m-7.out" 2>&1 \
    || { bad "$m: B=7 2 ranks"; cat "$tmp/$m-7.out"; }
  msg=$(same $m-7a $m-7b 130) && ok "$m: B=7 over 2 ranks, one epoch: $msg" || bad "$m: B=7 differs: $msg"
done

python3 - "$tmp/tf-2/result.json" <<'PY' && ok "result.json records the layout" || bad "result.json layout"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "ok" and r["data_parallel"] == {"ranks": 2, "local_batch": 4, "global_batch": 8}, r.get("data_parallel")
assert r["tokens"] == 30 * 8 * 32 and r["tokens_per_s"] > 0
PY
ls "$tmp/tf-2" | sort | tr '\n' ' ' | grep -q '^checkpoint.safetensors model.safetensors result.json $' \
  && ok "rank 0 alone writes the run folder" || bad "run folder: $(ls "$tmp/tf-2")"
[ ! -s "$tmp/tf-2.out" ] && ok "-q: both ranks quiet" || { bad "output under -q"; cat "$tmp/tf-2.out"; }

# --- resume under 2 ranks from a checkpoint of an interrupted run ----------------------------
# An injected device fault (TUNESCALE_FAULT=op:N) stops a single-process run after its first
# checkpoint (step 10 or 20 of 30); the resumed 2-rank run ends as the uninterrupted one.
c=(--model "$tmp/lstm.json" --data "$tmp/data" --batch 8 --seq-len 32 --steps 30 --lr 3e-3
   --seed 5 --checkpoint-every 10 -q)
found=
for n in 300 600 1200 2400 4800 9600; do
  rm -rf "$tmp/cut" "$tmp/cut.losses"
  rc=0; TUNESCALE_FAULT=op:$n "$TS" train "${c[@]}" --threads 1 --out "$tmp/cut" \
    --losses "$tmp/cut.losses" 2>/dev/null || rc=$?
  [ $rc = 0 ] && break
  if [ -f "$tmp/cut/checkpoint.safetensors" ]; then found=$n; break; fi
done
if [ -n "$found" ]; then
  # the losses file continues from the checkpoint's step: drop what came after it
  ck=$(python3 - "$tmp/cut/checkpoint.safetensors" <<'PY'
import json, struct, sys
f = open(sys.argv[1], "rb")
n = struct.unpack("<Q", f.read(8))[0]
print(int(json.loads(json.loads(f.read(n))["__metadata__"]["tunescale_state"])["step"]))
PY
)
  head -n $ck "$tmp/cut.losses" >"$tmp/cut.l" && mv "$tmp/cut.l" "$tmp/cut.losses"
  mpi2 "$TS" train "${c[@]}" --out "$tmp/cut" --losses "$tmp/cut.losses" --resume >"$tmp/res.out" 2>&1 \
    && ok "resumed at step $ck under 2 ranks" || { bad "resume under 2 ranks"; cat "$tmp/res.out"; }
  msg=$(same lstm-1 cut 30) && ok "resumed 2-rank run = uninterrupted run: $msg" || bad "resume differs: $msg"
else
  bad "no TUNESCALE_FAULT=op:N between the first checkpoint and the end"
fi

# --- one rank fails: both stop, each with one line, non-zero exit, no hang -------------------
if [ -n "$found" ]; then
  rm -rf "$tmp/fail"
  rc=0; TUNESCALE_FAULT=op:$found@$tmp/fired mpi2 "$TS" train "${c[@]}" --out "$tmp/fail" \
    >"$tmp/fail.out" 2>&1 || rc=$?
  if [ $rc != 0 ] && [ $rc != 124 ] && grep -q '^tunescale: rank [01]: .*injected device fault' "$tmp/fail.out" \
     && grep -q '^tunescale: rank [01]: stopped because another data-parallel rank failed' "$tmp/fail.out"; then
    ok "a failing rank stops both (exit $rc): $(grep -c '^tunescale: rank' "$tmp/fail.out") error lines"
  else
    bad "failing rank (rc=$rc)"; cat "$tmp/fail.out"
  fi
  [ ! -e "$tmp/fail/result.json" ] && ok "no result.json from a failed data-parallel run" \
    || bad "result.json written after a failure"
fi

finish
