#!/usr/bin/env bash
# precision.sh — issue 21's GPU figures for one lease, on an NVIDIA machine:
#   bash bench/gpu/precision.sh OUT_DIR        (from the repository root; bundle in .gpu/)
# All under one deadline (TS_GPU_DEADLINE seconds, default 480), most important first:
#   1. correctness: test_precision (each backend's reduced-mode GEMM against the cpu's
#      emulation of the same mode) and tests/cli/precision.sh (every mode on every backend
#      either trains within the tolerance of fp32 or is refused in one line)
#   2. bench gemm --precision fp32|tf32|bf16|fp16 at 4096^3 on opencl and vulkan (a refusal is
#      recorded with its line) beside peer_gemm.py in the same mode; criterion: vulkan tf32/bf16
#      >= 0.7x PyTorch's mode
#   3. bench step transformer-20M and transformer-100M in bf16 and fp16, --repeat 3 (median),
#      beside peer_step.py autocast in the same mode; criterion: bf16 >= 0.8x PyTorch
#   4. 200 steps of transformer-small, fp32 and each accepted reduced mode on vulkan: loss
#      after 200 steps within 0.02 of fp32's (the tolerance of the issue note)
# Output: OUT_DIR/precision.log and results.jsonl (one JSON object a line, tagged).
set -uo pipefail
out=${1:?usage: precision.sh OUT_DIR}
mkdir -p "$out"
exec > >(tee -a "$out/precision.log") 2>&1
# shellcheck source=bench/gpu/env.sh
source bench/gpu/env.sh .gpu
TS=$TUNESCALE
export TUNESCALE_CACHE=$out/cache PYTHONUNBUFFERED=1
jsonl=$out/results.jsonl
: >>"$jsonl"
ts_gpu_name=precision.sh
# shellcheck source=bench/gpu/record.sh
source bench/gpu/record.sh
modes=(fp32 tf32 bf16 fp16)

echo "== 1. correctness"
if [ -x .gpu/bin/test_precision ]; then
  timeout 120 .gpu/bin/test_precision >"$out/test_precision.txt" 2>&1
  echo "test_precision rc=$?"; grep -E "^(opencl|vulkan)|FAIL|PASSED|FAILED" "$out/test_precision.txt"
fi
if [ -x .gpu/bin/test_attention_precision ]; then # the fused attention's fp16 vs the cpu's
  TS_REQUIRE_BACKENDS=vulkan timeout 120 .gpu/bin/test_attention_precision \
    >"$out/test_attention_precision.txt" 2>&1
  echo "test_attention_precision rc=$?"
  grep -E "^vulkan|FAIL|PASSED|FAILED" "$out/test_attention_precision.txt"
fi
TUNESCALE=$TS TS_SOURCE_DIR=$PWD timeout 240 bash tests/cli/precision.sh >"$out/precision_sh.txt" 2>&1
echo "precision.sh rc=$?"; grep -E "^(ok|FAIL|skip)" "$out/precision_sh.txt" | cut -c1-200

echo "== 2. GEMM 4096^3 per mode"
for p in "${modes[@]}"; do
  for be in opencl vulkan; do
    record "gemm/$be/$p" 60 "$TS" bench gemm --backend "$be" --precision "$p" \
      --size 4096x4096x4096 --reps 10 --json
  done
  record "gemm/torch/$p" 60 python3 bench/peer/peer_gemm.py --device cuda --precision "$p" \
    --size 4096x4096x4096 --reps 10 --json
done

echo "== 3. training steps, batch 32 x 256, median of 3"
for model in transformer-20M transformer-100M; do
  for p in fp32 bf16 fp16; do
    record "step/vulkan/$p/$model" 120 "$TS" bench step --backend vulkan --precision "$p" \
      --model "$model" --batch 32 --steps 5 --warmup 2 --repeat 3 --json
    for r in 1 2 3; do
      record "step/torch/$p/$model/r$r" 90 python3 bench/peer/peer_step.py --device cuda \
        --precision "$p" --model "$model" --batch 32 --steps 5 --warmup 2 --json
    done
  done
done

echo "== 4. 200 steps of transformer-small per mode (vulkan)"
if [ "$(left)" -gt 60 ]; then
  "$TS" data prepare --input bench/data --out "$out/data" --max-chars 300k -q
  for p in "${modes[@]}"; do
    timeout $(($(left) > 10 ? $(left) - 5 : 5)) "$TS" train --backend vulkan --precision "$p" \
      --model transformer-small --data "$out/data" --steps 200 --seq-len 32 --batch 4 \
      --lr 1e-3 --seed 11 --dropout 0.1 --no-eval -q --out "$out/loss-$p" \
      --losses "$out/loss-$p.txt"
    echo "train vulkan $p rc=$? final: $(tail -n 1 "$out/loss-$p.txt" 2>/dev/null)"
  done
fi
rm -f "$out/stderr.tmp"
rm -rf "$out/cache" "$out/data"
echo "precision.sh: done in $SECONDS s ($(wc -l <"$jsonl") records)"
