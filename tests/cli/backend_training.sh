#!/usr/bin/env bash
# backend_training.sh — whole training runs on every GPU-API backend against the CPU backend:
# 50 steps of small Transformer and LSTM models with dropout 0.1 from the same seed agree per
# step within 1e-3 (the Transformer also with every product forced onto the tiled SGEMM and its
# epilogues, TUNESCALE_GEMM=tiled; the LSTM also with the persistent kernel forced, on OpenCL;
# a two-layer LSTM, dropout between the layers, with the split-K path forced, on both);
# OpenCL's second run compiles nothing (program cache); a model past
# --mem-limit exits 3 with an out-of-memory line naming the size asked and the limit; with the
# per-buffer cap lowered (TUNESCALE_MAX_BUFFER_BYTES, and vulkan's binding span) the
# activations split over several buffers and 10 steps give the same losses and weights, bit
# for bit, as without it, on every backend.
# A backend with no device here is reported as skipped unless named in TS_REQUIRE_BACKENDS
# (CI sets TS_REQUIRE_BACKENDS=opencl,vulkan: PoCL and lavapipe are installed there).
source "$(dirname "$0")/lib.sh"
export TUNESCALE_CACHE_DIR=$tmp/cache
skip=0

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 300k -q
# lstm2: lstm-small's width in two layers (dropout between them), for the split-K row
printf '{"family": "lstm", "name": "lstm2", "vocab_size": 100, "d_model": 64, "n_layers": 2}\n' \
  >"$tmp/lstm2.json"
run() { # backend model out-name [extra args]
  local be=$1 model=$2 name=$3
  shift 3
  [ "$model" = lstm2 ] && model=$tmp/lstm2.json
  "$TS" train --backend "$be" --model "$model" --data "$tmp/data" --steps 50 --seq-len 32 \
    --batch 4 --dropout 0.1 --lr 1e-3 --seed 11 --no-eval -q --out "$tmp/$name" \
    --losses "$tmp/$name.txt" "$@"
}
for model in transformer-small lstm-small lstm2; do
  run cpu $model cpu-$model --threads 2
done

# 640 KiB: above either model's parameters (one buffer), below its activations (several).
capped() { # backend model [extra args]
  local be=$1 model=$2 cap=655360
  shift 2
  run $be $model $be-$model-10 --steps 10 "$@" || { bad "$be $model: 10 steps failed"; return; }
  TUNESCALE_MAX_BUFFER_BYTES=$cap TUNESCALE_VK_MAX_RANGE=$cap \
    run $be $model $be-$model-capped --steps 10 "$@" 2>"$tmp/err" \
    || { bad "$be $model under a $cap-byte buffer cap: $(cat "$tmp/err")"; return; }
  # the split depends only on the layout and the cap (below every device's own): plan it on cpu
  local n
  n=$(TUNESCALE_MAX_BUFFER_BYTES=$cap "$TS" bench step --backend cpu --threads 2 --model $model \
      --batch 4 --seq-len 32 --steps 1 --warmup 0 --json \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["activation_buffers"])')
  if [ "${n:-0}" -gt 2 ] && cmp -s "$tmp/$be-$model-10.txt" "$tmp/$be-$model-capped.txt" \
     && cmp -s "$tmp/$be-$model-10/model.safetensors" "$tmp/$be-$model-capped/model.safetensors"
  then
    ok "$be $model: activations in $n buffers of <= $cap bytes: losses and weights bit-identical"
  else
    bad "$be $model under a $cap-byte cap ($n buffers): losses or weights differ"
  fi
}
for model in transformer-small lstm-small; do
  capped cpu $model --threads 2
done

for be in opencl vulkan; do
  if ! "$TS" bench gemm --backend $be --size 3x5x7 --reps 1 >/dev/null 2>"$tmp/why"; then
    if grep -q "$be" <<<"${TS_REQUIRE_BACKENDS:-}"; then
      bad "$be required but unavailable: $(cat "$tmp/why")"
    else
      skip=$((skip + 1)); echo "skip $be: $(cat "$tmp/why")"
    fi
    continue
  fi
  # transformer-small:tiled puts every product on our tiled SGEMM (TUNESCALE_GEMM=tiled), with
  # the biases, GELU and dropout after ff.0 and the output layer's bias in its epilogue
  # (backends/gemm_epilogue.h); lstm-small:persistent forces the persistent LSTM kernel
  # (TUNESCALE_LSTM_PATH; opencl only: lavapipe refuses it); lstm2:split the split-K path,
  # 16 columns per split (4 splits forward, 16 backward: backends/lstm_split.h)
  runs="transformer-small lstm-small transformer-small:tiled lstm2:split"
  [ $be = opencl ] && runs="$runs lstm-small:persistent"
  for item in $runs; do
    model=${item%%:*}; how=${item#*:}; [ "$how" = "$item" ] && how=
    gemm=; lstm_path=
    [ "$how" = tiled ] && gemm=tiled
    [ "$how" = persistent ] && lstm_path=persistent
    [ "$how" = split ] && lstm_path=split
    if ! TUNESCALE_GEMM=$gemm TUNESCALE_LSTM_PATH=$lstm_path TUNESCALE_LSTM_SPLIT_K=16 \
        run $be $model $be-$model$how \
        2>"$tmp/err"; then
      bad "$be $model ${how:+($how) }training failed: $(cat "$tmp/err")"
      continue
    fi
    python3 - "$tmp/cpu-$model.txt" "$tmp/$be-$model$how.txt" <<'PY' \
      && ok "$be $model${how:+ ($how)}: 50 steps with dropout 0.1 match the CPU within 1e-3 ($(cat "$tmp/maxdiff"))" \
      || bad "$be $model${how:+ ($how)}: losses differ from the CPU: $(cat "$tmp/maxdiff")"
import sys
a = [float(l.split()[1]) for l in open(sys.argv[1])]
b = [float(l.split()[1]) for l in open(sys.argv[2])]
worst = max(abs(x - y) for x, y in zip(a, b)) if len(a) == len(b) == 50 else float("inf")
open(sys.argv[2].rsplit("/", 1)[0] + "/maxdiff", "w").write(f"max |diff| {worst:.2e}")
sys.exit(0 if worst <= 1e-3 else 1)
PY
  done
  for model in transformer-small lstm-small; do
    capped $be $model
  done
  if [ $be = opencl ]; then
    TUNESCALE_CL_VERBOSE=1 run opencl transformer-small again 2>"$tmp/log" >/dev/null
    if grep -q "compiling OpenCL program" "$tmp/log"; then
      bad "opencl: the second run compiled again: $(grep -c compiling "$tmp/log") programs"
    else
      ok "opencl: the second run compiles nothing (program cache in $TUNESCALE_CACHE_DIR)"
    fi
  fi
  rc=0
  "$TS" train --backend $be --model transformer-20M --data "$tmp/data" --steps 1 \
    --mem-limit 64MiB --out "$tmp/oom-$be" -q 2>"$tmp/e" || rc=$?
  if [ $rc -eq 3 ] && [ "$(wc -l <"$tmp/e")" -eq 1 ] && grep -q "out of memory" "$tmp/e" \
     && grep -q "67108864" "$tmp/e" \
     && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="skipped: out of memory"' "$tmp/oom-$be/result.json"; then
    ok "$be: --mem-limit 64MiB on transformer-20M -> exit 3: $(cat "$tmp/e")"
  else
    bad "$be: --mem-limit (rc=$rc): $(cat "$tmp/e")"
  fi
done
finish ", $skip skipped"
