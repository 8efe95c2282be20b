#!/usr/bin/env bash
# parity.sh — the acceptance check: from the same initial weights (exported from PyTorch), with
# dropout 0 and the same batch order, N training steps give per-step losses within 1e-3 of
# PyTorch's (the seed notebook's modules, AdamW, clip, warmup + cosine schedule).
#
#   bench/peer/parity.sh [--data DIR] [--model M ...] [--steps 100] [--batch 16]
#                        [--seq-len 256] [--lr 3e-4] [--threads N] [--tol 1e-3]
#                        [--keep DIR] [--tunescale BIN]
#
# Defaults: the bundled corpus (bench/data, prepared into a temporary folder), models
# transformer-1M and lstm-1M, 100 steps of batch 16 x 256. For a quick look:
#   bench/peer/parity.sh --steps 10 --batch 4
# --keep DIR keeps every file (init.safetensors, both loss files, the tunescale run).
# Exits 1 when any model is outside the bound.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=/usr/bin/python3

data=
models=()
steps=100
batch=16
seq_len=256
lr=3e-4
threads=$(nproc)
tol=1e-3
keep=
tunescale=${TUNESCALE:-$root/build/tunescale}

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  echo "parity.sh: $*" >&2
  exit 2
}

fail() {
  echo "parity.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --data) [ $# -ge 2 ] || die "--data needs a value"; data=$2; shift 2 ;;
    --model) [ $# -ge 2 ] || die "--model needs a value"; models+=("$2"); shift 2 ;;
    --steps) [ $# -ge 2 ] || die "--steps needs a value"; steps=$2; shift 2 ;;
    --batch) [ $# -ge 2 ] || die "--batch needs a value"; batch=$2; shift 2 ;;
    --seq-len) [ $# -ge 2 ] || die "--seq-len needs a value"; seq_len=$2; shift 2 ;;
    --lr) [ $# -ge 2 ] || die "--lr needs a value"; lr=$2; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; threads=$2; shift 2 ;;
    --tol) [ $# -ge 2 ] || die "--tol needs a value"; tol=$2; shift 2 ;;
    --keep) [ $# -ge 2 ] || die "--keep needs a value"; keep=$2; shift 2 ;;
    --tunescale) [ $# -ge 2 ] || die "--tunescale needs a value"; tunescale=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[ ${#models[@]} -gt 0 ] || models=(transformer-1M lstm-1M)
for n in "$steps" "$batch" "$seq_len" "$threads"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive integer"
done
[ -x "$tunescale" ] || die "no tunescale binary at $tunescale (build it, or pass --tunescale)"
"$python" -c 'import torch' 2>/dev/null \
  || die "PyTorch is missing: apt-get install python3-torch python3-numpy"

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  work=$(cd "$keep" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

if [ -z "$data" ]; then
  data=$work/data
  echo "parity: preparing the bundled corpus into $data"
  "$tunescale" data prepare --input "$root/bench/data" --out "$data" -q
fi
if [ ! -f "$data/dataset.json" ] || [ ! -f "$data/train.bin" ]; then
  die "$data is not a dataset (no dataset.json / train.bin): run tunescale data prepare"
fi

echo "parity: $steps steps, batch $batch x $seq_len, lr $lr, dropout 0, file order," \
     "$threads threads, bound $tol"
failed=()
for model in "${models[@]}"; do
  dir=$work/$model
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "== $model"
  start=$SECONDS
  "$python" "$here/parity.py" run --model "$model" --data "$data" --out "$dir" \
    --steps "$steps" --batch "$batch" --seq-len "$seq_len" --lr "$lr" --threads "$threads" \
    || fail "PyTorch run failed for $model"
  echo "  PyTorch: $((SECONDS - start)) s"
  start=$SECONDS
  "$tunescale" train --backend cpu --model "$model" --data "$data" --out "$dir/run" \
    --init "$dir/init.safetensors" --dropout 0 --no-shuffle --steps "$steps" \
    --batch "$batch" --seq-len "$seq_len" --lr "$lr" --threads "$threads" --no-eval \
    --losses "$dir/tunescale_losses.txt" -q \
    || fail "tunescale train failed for $model"
  echo "  tunescale: $((SECONDS - start)) s"
  if ! "$python" "$here/parity.py" compare "$dir/pytorch_losses.txt" \
         "$dir/tunescale_losses.txt" --tol "$tol"; then
    failed+=("$model")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "parity: FAILED for ${failed[*]}"
  exit 1
fi
echo "parity: all ${#models[@]} models within $tol"
