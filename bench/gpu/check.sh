#!/usr/bin/env bash
# check.sh — the GPU server's whole check in one go, for one lease of a machine:
#   bash bench/gpu/check.sh OUT_DIR          (from the repository root; bundle in .gpu/)
# In order of importance, each step under its own time limit and all under one deadline
# (TS_GPU_DEADLINE seconds, default 480), so a slow step costs only itself:
#   1. the machine: nvidia-smi, tunescale devices
#   2. correctness on NVIDIA: test_backend_ops (every op, OpenCL and Vulkan, against the CPU)
#      and tests/cli/backend_training.sh (50 steps with dropout on, per step within 1e-3)
#   3. training throughput and peak memory at the notebook's batch (64), tunescale OpenCL and
#      Vulkan against PyTorch fp32 and TF32 on the same card (bench/peer/peer_step.py)
#   4. GEMM GFLOP/s against torch.matmul, and bench peak
#   5. if time is left: the seed preset's models up to 20M for 2M tokens each on both backends
#      under a 16 GiB cap (sweep.tar.gz: result files, report, plots; no weights)
# Everything lands in OUT_DIR: check.log (all output), results.jsonl (one JSON object a line,
# each tagged with its step), backend_ops.txt, backend_training.txt, nvidia-smi.txt.
set -uo pipefail
out=${1:?usage: check.sh OUT_DIR}
mkdir -p "$out"
exec > >(tee -a "$out/check.log") 2>&1
# shellcheck source=bench/gpu/env.sh
source bench/gpu/env.sh .gpu
TS=$TUNESCALE
export TUNESCALE_CACHE=$out/cache PYTHONUNBUFFERED=1
jsonl=$out/results.jsonl
: >"$jsonl"
ts_gpu_name=check.sh
# shellcheck source=bench/gpu/record.sh
source bench/gpu/record.sh

echo "== 1. machine"
nvidia-smi >"$out/nvidia-smi.txt" 2>&1; head -n 15 "$out/nvidia-smi.txt"
uname -a; (. /etc/os-release && echo "$PRETTY_NAME"); nproc; python3 --version
ldd "$TS" | grep "not found" && echo "check.sh: libraries missing (above)"
record devices 60 "$TS" devices --json
"$TS" devices 2>&1 | head -n 40

echo "== 2. correctness"
t0=$SECONDS
timeout 150 .gpu/bin/test_backend_ops >"$out/backend_ops.txt" 2>&1
echo "test_backend_ops rc=$? in $((SECONDS - t0)) s: $(grep -c '^ok' "$out/backend_ops.txt") ok, $(grep -c '^FAIL' "$out/backend_ops.txt") FAIL, $(grep -c '^skip' "$out/backend_ops.txt") skip"
grep -E '^(FAIL|skip)' "$out/backend_ops.txt" | head -n 20
t0=$SECONDS
TUNESCALE=$TS TS_SOURCE_DIR=$PWD TS_REQUIRE_BACKENDS=opencl,vulkan timeout 150 \
  bash tests/cli/backend_training.sh >"$out/backend_training.txt" 2>&1
echo "backend_training rc=$? in $((SECONDS - t0)) s"; tail -n 12 "$out/backend_training.txt"

echo "== 3. training steps at batch 64 x 256 (vocab 100)"
for model in transformer-1M lstm-1M transformer-5M lstm-5M transformer-20M lstm-20M; do
  for be in opencl vulkan; do
    record "step/$be/$model" 60 "$TS" bench step --backend "$be" --model "$model" --batch 64 \
      --steps 10 --warmup 3 --json
  done
  record "step/torch-fp32/$model" 60 python3 bench/peer/peer_step.py --device cuda --model "$model" \
    --batch 64 --steps 10 --warmup 3 --json
  record "step/torch-tf32/$model" 60 python3 bench/peer/peer_step.py --device cuda --tf32 \
    --model "$model" --batch 64 --steps 10 --warmup 3 --json
done

# The LSTM gap of issue 20: lstm-100M at batch 32 (its memory), next to PyTorch (cuDNN).
for be in opencl vulkan; do
  record "step/$be/lstm-100M" 90 "$TS" bench step --backend "$be" --model lstm-100M --batch 32 \
    --steps 10 --warmup 3 --json
done
record "step/torch-fp32/lstm-100M" 90 python3 bench/peer/peer_step.py --device cuda \
  --model lstm-100M --batch 32 --steps 10 --warmup 3 --json
record "step/torch-tf32/lstm-100M" 90 python3 bench/peer/peer_step.py --device cuda --tf32 \
  --model lstm-100M --batch 32 --steps 10 --warmup 3 --json

# Issue 20 item 2, the LSTM recurrence paths side by side (each JSON's lstm_path says which ran
# and lstm_persistent why): OpenCL takes the persistent kernel on a GPU by default (the runs
# above), here the per-step path forced for comparison; Vulkan's persistent shader runs only
# when forced (not yet validated on a GPU; its self-test decides).
for model in lstm-1M lstm-20M; do
  record "step/opencl/$model-fused-step" 60 env TUNESCALE_LSTM_PATH=fused-step "$TS" bench step \
    --backend opencl --model "$model" --batch 64 --steps 10 --warmup 3 --json
  record "step/vulkan/$model-persistent" 60 env TUNESCALE_LSTM_PATH=persistent "$TS" bench step \
    --backend vulkan --model "$model" --batch 64 --steps 10 --warmup 3 --json
done

# Issue 20 item 2, split-K (TUNESCALE_LSTM_PATH=split) beside the other paths at the sizes it
# is for: H = 1024 (lstm-20M) and 2048 (lstm-100M, where W_hh is 64 MiB). Vulkan's default
# there is already split (a GPU, H >= 1024, persistent not taken): its fused-step is forced.
for be in opencl vulkan; do
  record "step/$be/lstm-20M-split" 60 env TUNESCALE_LSTM_PATH=split "$TS" bench step \
    --backend $be --model lstm-20M --batch 64 --steps 10 --warmup 3 --json
  for path in split fused-step; do
    record "step/$be/lstm-100M-$path" 90 env TUNESCALE_LSTM_PATH=$path "$TS" bench step \
      --backend $be --model lstm-100M --batch 32 --steps 10 --warmup 3 --json
  done
done
record "step/vulkan/lstm-20M-fused-step" 60 env TUNESCALE_LSTM_PATH=fused-step "$TS" bench step \
  --backend vulkan --model lstm-20M --batch 64 --steps 10 --warmup 3 --json
# the forward's columns per split (backends/lstm_split.h: 256 by default, 8 splits at H = 2048)
for ks in 128 512; do
  record "step/opencl/lstm-100M-split-k$ks" 90 env TUNESCALE_LSTM_PATH=split \
    TUNESCALE_LSTM_SPLIT_K=$ks "$TS" bench step --backend opencl --model lstm-100M --batch 32 \
    --steps 10 --warmup 3 --json
done

echo "== 4. GEMM and peak"
sizes=(--size 4096x512x128 --size 4096x128x512 --size 4096x1024x256 --size 1024x1024x1024
  --size 16384x2048x512 --size 16384x512x2048 --size 4096x4096x4096)
for be in opencl vulkan; do
  record "gemm/$be" 90 "$TS" bench gemm --backend "$be" "${sizes[@]}" --reps 10 --json
done
record gemm/torch-fp32 60 python3 bench/peer/peer_gemm.py --device cuda "${sizes[@]}" --reps 10 --json
record gemm/torch-tf32 60 python3 bench/peer/peer_gemm.py --device cuda --tf32 "${sizes[@]}" --reps 10 --json
for be in opencl vulkan; do
  record "peak/$be" 30 "$TS" bench peak --backend "$be" --quick --json
done

echo "== 5. a short sweep: the seed preset's models to 20M, 2M tokens each, both backends, 16GiB cap (a T4)"
if [ "$(left)" -gt 120 ]; then
  # The bundle has no PLplot driver, so the report there has no plots (it says so): run
  # tunescale report on the copied-back folder to draw them.
  "$TS" data prepare --input bench/data --out "$out/data" -q
  timeout $(($(left) - 20)) "$TS" sweep --preset seed --max-params 25M --tokens 2M \
    --data "$out/data" --backend opencl,vulkan --mem-limit 16GiB --out "$out/sweep" -q
  echo "sweep rc=$?"
  "$TS" compare "$out/sweep" --out "$out/sweep/compare" >/dev/null 2>&1 || true
  sed -n 1,40p "$out/sweep/summary.md"
  # the record without weights: result files, logs, report, plots
  tar -C "$out" --exclude='*.safetensors' -czf "$out/sweep.tar.gz" sweep && rm -rf "$out/sweep" "$out/data"
fi
rm -f "$out/stderr.tmp"
rm -rf "$out/cache"
echo "check.sh: done in $SECONDS s ($(wc -l <"$jsonl") records)"
