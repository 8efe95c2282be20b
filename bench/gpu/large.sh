#!/usr/bin/env bash
# large.sh — the study's largest Transformer on a GPU server, in one lease:
#   bash bench/gpu/large.sh OUT_DIR          (from the repository root; bundle in .gpu/)
# In order of importance, all under one deadline (TS_GPU_DEADLINE seconds, default 480):
#   1. the machine: nvidia-smi, tunescale devices
#   2. losses: TS_GPU_TRAIN_STEPS training steps of each model at each batch on OpenCL and
#      Vulkan from the same seed and data, compared step by step (the backends draw the same
#      dropout masks, so they agree to float rounding)
#   3. throughput and peak memory: `bench step` OpenCL, Vulkan and PyTorch fp32
#      (bench/peer/peer_step.py) in TS_GPU_ROUNDS alternating rounds of TS_GPU_STEPS steps;
#      the summary gives the median of each and the ratios to PyTorch
#   4. if time is left: test_backend_ops (every op, OpenCL and Vulkan, against the CPU)
# Models and batches: TS_GPU_MODELS (default transformer-100M), TS_GPU_BATCHES (default
# "32 64"). TS_GPU_PEER_DEVICE=cpu, PYTHON=/usr/bin/python3 (a Python with torch), TUNESCALE=a
# local build and small models let it be tried on PoCL/lavapipe first.
# Everything lands in OUT_DIR: large.log, results.jsonl (one JSON object a line, tagged),
# losses-*.txt, summary.md.
set -uo pipefail
out=${1:?usage: large.sh OUT_DIR}
mkdir -p "$out"
exec > >(tee -a "$out/large.log") 2>&1
if [ -n "${TUNESCALE:-}" ]; then
  TS=$TUNESCALE # a local build (trying the script on the CPU drivers)
else
  # shellcheck source=bench/gpu/env.sh
  source bench/gpu/env.sh .gpu
  TS=$TUNESCALE
fi
models=${TS_GPU_MODELS:-transformer-100M}
batches=${TS_GPU_BATCHES:-32 64}
rounds=${TS_GPU_ROUNDS:-3}
steps=${TS_GPU_STEPS:-30}
train_steps=${TS_GPU_TRAIN_STEPS:-10}
peer_device=${TS_GPU_PEER_DEVICE:-cuda}
extra=${TS_GPU_EXTRA:-} # e.g. "--seq-len 32" for a try on the CPU drivers
export TUNESCALE_CACHE=$out/cache PYTHONUNBUFFERED=1
jsonl=$out/results.jsonl
: >"$jsonl"
ts_gpu_name=large.sh
# shellcheck source=bench/gpu/record.sh
source bench/gpu/record.sh

echo "== 1. machine"
nvidia-smi >"$out/nvidia-smi.txt" 2>&1 && head -n 15 "$out/nvidia-smi.txt"
uname -a; (. /etc/os-release && echo "$PRETTY_NAME"); nproc
"$TS" --version | head -n 1
record devices 60 "$TS" devices --json

echo "== 2. losses, OpenCL against Vulkan"
"$TS" data prepare --input bench/data --out "$out/data" --max-chars 2M -q
for model in $models; do
  for b in $batches; do
    for be in opencl vulkan; do
      [ "$(left)" -lt 60 ] && { echo "large.sh: train $be $model b$b skipped (deadline)"; continue; }
      t0=$SECONDS
      # shellcheck disable=SC2086
      timeout $(($(left) - 30)) "$TS" train --backend $be --model "$model" --batch "$b" \
        --data "$out/data" --steps "$train_steps" --seed 7 --no-eval -q $extra \
        --out "$out/run-$be-$model-b$b" --losses "$out/losses-$be-$model-b$b.txt" \
        2>"$out/stderr.tmp"
      echo "large.sh: train $be $model b$b rc=$? in $((SECONDS - t0)) s"
      tail -n 2 "$out/stderr.tmp"
      rm -f "$out/run-$be-$model-b$b"/*.safetensors
    done
  done
done

echo "== 3. training steps: ${rounds} alternating rounds of ${steps} steps"
for model in $models; do
  for b in $batches; do
    for r in $(seq "$rounds"); do
      for be in opencl vulkan; do
        # shellcheck disable=SC2086
        record "step/$be/$model/b$b/r$r" 240 "$TS" bench step --backend "$be" --model "$model" \
          --batch "$b" --steps "$steps" --warmup 3 $extra --json
      done
      # shellcheck disable=SC2086
      record "step/torch-fp32/$model/b$b/r$r" 240 "${PYTHON:-python3}" bench/peer/peer_step.py \
        --device "$peer_device" --model "$model" --batch "$b" --steps "$steps" --warmup 3 $extra --json
    done
  done
done

echo "== 4. every op on both backends"
if [ "$(left)" -gt 60 ] && [ -x .gpu/bin/test_backend_ops ]; then
  timeout $(($(left) - 10)) .gpu/bin/test_backend_ops >"$out/backend_ops.txt" 2>&1
  echo "test_backend_ops rc=$?: $(grep -c '^ok' "$out/backend_ops.txt") ok, $(grep -c '^FAIL' "$out/backend_ops.txt") FAIL"
  grep -E '^FAIL' "$out/backend_ops.txt" | head -n 20
fi

echo "== summary"
python3 bench/gpu/large_summary.py "$out" | tee "$out/summary.md"
rm -rf "$out/stderr.tmp" "$out/cache" "$out/data"
echo "large.sh: done in $SECONDS s"
