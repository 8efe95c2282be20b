#!/usr/bin/env bash
# tune.sh — the GEMM part of issue 19 on one lease of a GPU machine:
#   bash bench/gpu/tune.sh OUT_DIR        (from the repository root; bundle in .gpu/)
# For OpenCL and Vulkan: bench gemm untuned (fresh cache: the defaults from device facts), then
# `tunescale tune`, then bench gemm again (tuned, with CLBlast / built-in, our kernel and the
# untuned plan side by side), each on the 4096 cube, bench gemm's usual shapes and every
# product of the presets tune tunes for (--model-shapes); torch.matmul fp32 (TF32 off) on the
# same products (bench/peer/peer_gemm.py --from-json); transformer-20M B64 steps tuned and with
# every product on the tiled kernel and its epilogues (TUNESCALE_GEMM=tiled). Results: OUT_DIR/results.jsonl (tags
# gemm-untuned/B, tune/B, gemm-tuned/B, gemm-torch/B), the tuning files in OUT_DIR/tuning/
# (commit them under results/ with the tables), OUT_DIR/tune.log.
# To try it without a GPU (CPU drivers): TUNESCALE=build/tunescale TS_PEER_DEVICE=cpu \
#   TS_TUNE_BUDGET=20 TS_GEMM_ARGS="--size 256x256x256" bash bench/gpu/tune.sh /tmp/t
set -uo pipefail
out=${1:?usage: tune.sh OUT_DIR}
mkdir -p "$out/tuning"
exec > >(tee -a "$out/tune.log") 2>&1
if [ -z "${TUNESCALE:-}" ]; then
  # shellcheck source=bench/gpu/env.sh
  source bench/gpu/env.sh .gpu
fi
TS=$TUNESCALE
export TUNESCALE_CACHE=$out/cache PYTHONUNBUFFERED=1
jsonl=$out/results.jsonl
: >"$jsonl"
ts_gpu_name=tune.sh
export TS_GPU_DEADLINE=${TS_GPU_DEADLINE:-780}
# shellcheck source=bench/gpu/record.sh
source bench/gpu/record.sh
peer=${TS_PEER_DEVICE:-cuda}
budget=${TS_TUNE_BUDGET:-90}
# shellcheck disable=SC2206 # word splitting is the point
gemm_args=(${TS_GEMM_ARGS:---size 4096x4096x4096 --size 4096x512x128 --size 4096x128x512 --size 4096x1024x256 --size 1024x1024x1024})

for be in opencl vulkan; do
  echo "== $be"
  record "gemm-untuned/$be" 120 "$TS" bench gemm --backend "$be" "${gemm_args[@]}" --reps 10 --json
  if [ -z "${TS_GEMM_ARGS:-}" ]; then
    record "gemm-untuned-model/$be" 120 "$TS" bench gemm --backend "$be" --model-shapes --reps 5 --json
  fi
  record "tune/$be" $((budget + 60)) "$TS" tune --backend "$be" --budget "$budget" --json
  cp "$TUNESCALE_CACHE"/tune/"$be"-*.json "$out/tuning/" 2>/dev/null
  "$TS" devices | grep -E "device|gemm" | head -n 8
  record "gemm-tuned/$be" 120 "$TS" bench gemm --backend "$be" "${gemm_args[@]}" --reps 10 --json
  if [ -z "${TS_GEMM_ARGS:-}" ]; then
    record "gemm-tuned-model/$be" 180 "$TS" bench gemm --backend "$be" --model-shapes --reps 5 --json
    # the step under the tuned plan, and with every product on our tiled kernel, whose epilogue
    # takes ff.0's bias+GELU+dropout and the output bias (dispatches_per_step, tokens/s)
    record "step-tuned/$be/transformer-20M" 60 "$TS" bench step --backend "$be" \
      --model transformer-20M --batch 64 --steps 10 --warmup 3 --json
    TUNESCALE_GEMM=tiled record "step-tiled/$be/transformer-20M" 60 "$TS" bench step \
      --backend "$be" --model transformer-20M --batch 64 --steps 10 --warmup 3 --json
  fi
done
# torch.matmul on the same products (the shapes of the last tuned bench gemm records)
python3 - "$jsonl" "$out" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
for tag in ("gemm-tuned/vulkan", "gemm-tuned-model/vulkan", "gemm-tuned/opencl",
            "gemm-tuned-model/opencl"):
    r = [x for x in recs if x["tag"] == tag and isinstance(x["result"], list)]
    if r:
        name = "shapes-model.json" if "model" in tag else "shapes.json"
        json.dump(r[0]["result"], open(sys.argv[2] + "/" + name, "w"))
PY
for f in shapes shapes-model; do
  [ -f "$out/$f.json" ] &&
    record "gemm-torch/$f" 120 python3 bench/peer/peer_gemm.py --device "$peer" --from-json "$out/$f.json" --reps 10 --json
done
# one table: tuned / untuned per shape, against torch
python3 - "$jsonl" <<'PY'
import json, sys
recs = {r["tag"]: r["result"] for r in map(json.loads, open(sys.argv[1])) if isinstance(r["result"], list)}
def key(x):
    return (x["M"], x["N"], x["K"], x.get("ta", 0), x.get("tb", 1), x.get("batch", 1))
torch = {key(x): x["gflops"] for t in ("gemm-torch/shapes", "gemm-torch/shapes-model") for x in recs.get(t, [])}
for be in ("opencl", "vulkan"):
    for sfx in ("", "-model"):
        tuned = recs.get("gemm-tuned%s/%s" % (sfx, be), [])
        untuned = {key(x): x["gflops"] for x in recs.get("gemm-untuned%s/%s" % (sfx, be), [])}
        for x in tuned:
            k = key(x)
            u, t = untuned.get(k), torch.get(k)
            print("%-7s %-40s %-14s %9.1f GFLOP/s  tuned/untuned %s  vs torch %s" % (
                be, x.get("what", "%dx%dx%d" % k[:3]), x.get("kernel", "?"), x["gflops"],
                "%.2fx" % (x["gflops"] / u) if u else "?", "%.2fx" % (x["gflops"] / t) if t else "?"))
PY
rm -f "$out/stderr.tmp"
echo "tune.sh: done in $SECONDS s ($(wc -l <"$jsonl") records)"
