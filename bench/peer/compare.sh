#!/usr/bin/env bash
# compare.sh — tunescale's CPU backend against PyTorch (the notebook's own modules) on full
# training steps: tokens/s and peak memory, model by model, on this machine.
#
#   bench/peer/compare.sh [--model M ...] [--batch 16] [--steps 20] [--warmup 3] [--seq-len 256]
#                         [--vocab 100] [--threads N] [--repeats 3] [--tunescale BIN] [--json]
#
# For each model it runs `tunescale bench step --backend cpu --json` and peer_step.py back to
# back, --repeats times, alternating which goes first, and reports the median of each. With
# --json, stdout holds one JSON document only (the table and progress go to stderr).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=/usr/bin/python3

models=()
batch=16
steps=20
warmup=3
seq_len=256
vocab=100
threads=$(nproc)
repeats=3
json=0
tunescale=${TUNESCALE:-$root/build/tunescale}

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  echo "compare.sh: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --model) [ $# -ge 2 ] || die "--model needs a value"; models+=("$2"); shift 2 ;;
    --batch) [ $# -ge 2 ] || die "--batch needs a value"; batch=$2; shift 2 ;;
    --steps) [ $# -ge 2 ] || die "--steps needs a value"; steps=$2; shift 2 ;;
    --warmup) [ $# -ge 2 ] || die "--warmup needs a value"; warmup=$2; shift 2 ;;
    --seq-len) [ $# -ge 2 ] || die "--seq-len needs a value"; seq_len=$2; shift 2 ;;
    --vocab) [ $# -ge 2 ] || die "--vocab needs a value"; vocab=$2; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; threads=$2; shift 2 ;;
    --repeats) [ $# -ge 2 ] || die "--repeats needs a value"; repeats=$2; shift 2 ;;
    --tunescale) [ $# -ge 2 ] || die "--tunescale needs a value"; tunescale=$2; shift 2 ;;
    --json) json=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[ ${#models[@]} -gt 0 ] || models=(transformer-1M lstm-1M)
for n in "$batch" "$steps" "$seq_len" "$vocab" "$threads" "$repeats"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive integer"
done
[[ "$warmup" =~ ^[0-9]+$ ]] || die "--warmup '$warmup' is not a non-negative integer"
[ -x "$tunescale" ] || die "no tunescale binary at $tunescale (build it, or pass --tunescale)"
"$python" -c 'import torch' 2>/dev/null \
  || die "PyTorch is missing: apt-get install python3-torch python3-numpy libopenblas0"

# With --json everything but the JSON document goes to stderr.
if [ $json = 1 ]; then exec 3>&1 1>&2; else exec 3>&1; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$cpu" ] || cpu=$(uname -m)
cores=$(nproc)
echo "machine: $cpu, $cores cores ($(uname -sr)); $threads threads for both"
echo "shape: batch $batch x seq-len $seq_len, vocab $vocab, $steps timed steps after $warmup" \
     "warm-up, median of $repeats runs (order alternates)"

run_tunescale() {  # model repeat
  "$tunescale" bench step --backend cpu --model "$1" --batch "$batch" --steps "$steps" \
    --warmup "$warmup" --seq-len "$seq_len" --vocab "$vocab" --threads "$threads" --json \
    > "$tmp/$1.tunescale.$2.json" \
    || { echo "compare.sh: tunescale bench step failed for $1" >&2; exit 1; }
}

run_pytorch() {  # model repeat
  "$python" "$here/peer_step.py" --model "$1" --batch "$batch" --steps "$steps" \
    --warmup "$warmup" --seq-len "$seq_len" --vocab "$vocab" --threads "$threads" --json \
    > "$tmp/$1.pytorch.$2.json" \
    || { echo "compare.sh: peer_step.py failed for $1" >&2; exit 1; }
}

for model in "${models[@]}"; do
  for r in $(seq 1 "$repeats"); do
    if [ $((r % 2)) = 1 ]; then
      echo "  $model run $r/$repeats: tunescale, then PyTorch"
      run_tunescale "$model" "$r"
      run_pytorch "$model" "$r"
    else
      echo "  $model run $r/$repeats: PyTorch, then tunescale"
      run_pytorch "$model" "$r"
      run_tunescale "$model" "$r"
    fi
  done
done

"$python" - "$tmp" "$json" "$cpu" "$cores" "$threads" "$repeats" "${models[@]}" <<'PY'
import json
import statistics
import sys

tmp, as_json, cpu, cores, threads, repeats = sys.argv[1:7]
models = sys.argv[7:]
repeats = int(repeats)


def load(model, who):
    return [json.load(open(f"{tmp}/{model}.{who}.{r}.json")) for r in range(1, repeats + 1)]


def mib(n):
    return f"{n / 2**20:.1f} MiB"


rows = []
torch_info = {}
for model in models:
    ours, peer = load(model, "tunescale"), load(model, "pytorch")
    torch_info = {"torch_version": peer[0]["torch_version"], "blas": peer[0]["blas"],
                  "reference_blas": peer[0]["reference_blas"],
                  "openblas_num_threads": peer[0]["openblas_num_threads"],
                  "omp_wait_policy": peer[0]["omp_wait_policy"]}
    ts_tok = statistics.median(x["tokens_per_s"] for x in ours)
    pt_tok = statistics.median(x["tokens_per_s"] for x in peer)
    ts_mem = statistics.median(x["peak_memory_bytes"] for x in ours)
    pt_mem = statistics.median(x["peak_rss_growth_bytes"] for x in peer)
    rows.append({
        "model": model,
        "params": ours[0]["params"],
        "tunescale_tokens_per_s": ts_tok,
        "pytorch_tokens_per_s": pt_tok,
        "speed_ratio": ts_tok / pt_tok,
        "tunescale_ms_per_step": statistics.median(x["ms_per_step"] for x in ours),
        "pytorch_ms_per_step": statistics.median(x["ms_per_step"] for x in peer),
        "tunescale_peak_memory_bytes": ts_mem,
        "pytorch_peak_rss_growth_bytes": pt_mem,
        "memory_ratio": ts_mem / pt_mem if pt_mem > 0 else None,
        "tunescale_tokens_per_s_runs": [x["tokens_per_s"] for x in ours],
        "pytorch_tokens_per_s_runs": [x["tokens_per_s"] for x in peer],
        "pytorch_last_loss": peer[-1]["last_loss"],
        "tunescale_last_loss": ours[-1]["last_loss"],
    })

first = load(models[0], "tunescale")[0]
summary = {
    "machine": {"cpu": cpu, "cores": int(cores)},
    "threads": int(threads),
    "batch": first["batch"],
    "seq_len": first["seq_len"],
    "steps": first["steps"],
    "repeats": repeats,
    "statistic": "median",
    **torch_info,
    "models": rows,
}

print(f"PyTorch {torch_info['torch_version']}, {torch_info['blas']}; "
      f"OPENBLAS_NUM_THREADS={torch_info['openblas_num_threads']}, "
      f"OMP_WAIT_POLICY={torch_info['omp_wait_policy']}")
if torch_info["reference_blas"]:
    print("WARNING: PyTorch ran on the reference BLAS: its numbers are ~25x too slow "
          "(apt-get install libopenblas0)")
header = ("model", "tunescale tok/s", "PyTorch tok/s", "ratio", "tunescale peak mem",
          "PyTorch RSS growth", "mem ratio")
table = [header]
for row in rows:
    ratio = row["memory_ratio"]
    table.append((
        row["model"],
        f"{row['tunescale_tokens_per_s']:.0f}",
        f"{row['pytorch_tokens_per_s']:.0f}",
        f"{row['speed_ratio']:.2f}x",
        mib(row["tunescale_peak_memory_bytes"]),
        mib(row["pytorch_peak_rss_growth_bytes"]),
        f"{ratio:.2f}" if ratio is not None else "n/a",
    ))
widths = [max(len(line[i]) for line in table) for i in range(len(header))]
for n, line in enumerate(table):
    print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(line, widths))))
    if n == 0:
        print("  ".join("-" * w for w in widths))
print("ratio = tunescale tok/s / PyTorch tok/s (above 1: tunescale is faster); "
      "mem ratio = tunescale peak / PyTorch RSS growth (below 1: tunescale uses less)")
for row in rows:
    print(f"  {row['model']} runs, tok/s: tunescale "
          + " ".join(f"{v:.0f}" for v in row["tunescale_tokens_per_s_runs"])
          + "; PyTorch " + " ".join(f"{v:.0f}" for v in row["pytorch_tokens_per_s_runs"]))

if as_json == "1":
    with open("/dev/fd/3", "w") as out:
        out.write(json.dumps(summary, indent=1) + "\n")
PY
