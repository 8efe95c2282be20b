#!/usr/bin/env bash
# interop.sh — weights move between tunescale and PyTorch (the seed notebook's modules) by name,
# and both compute the same losses from them, for transformer-tiny and lstm-tiny:
#   (a) tunescale -> PyTorch: a trained run's model.safetensors loads with
#       load_state_dict(strict=True), and PyTorch's validation loss on it (mean cross-entropy
#       over every non-<PAD> target of val.bin, windows of T with stride T, dropout off)
#       equals result.json's val_loss within 1e-4 relative;
#   (b) PyTorch -> tunescale: a seeded notebook model's weights, given to `train --init` with
#       --lr 0 for one step, give the first batch's loss within 1e-5 relative and, the weights
#       being unchanged by AdamW at lr 0, the same validation loss within 1e-4 relative.
# Skipped (exit 0) without python3-torch unless TS_REQUIRE_TORCH=1.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

# exit 0, not 77: ctest has no SKIP_RETURN_CODE for cli_interop
"$PY" -c 'import torch' 2>/dev/null || skip_unless_required TS_REQUIRE_TORCH "python3-torch not installed" 0

B=4
T=8
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

cat > "$tmp/interop.py" <<'PY'
"""Helpers for interop.sh: export seeded weights, load tunescale's, compute losses."""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.environ["TS_SOURCE_DIR"], "tests", "golden"))
from make_golden import read_safetensors, write_safetensors  # noqa: E402
from notebook_models import LSTMLM, TransformerLM  # noqa: E402

PAD = 0


def build(name, vocab):
    # tunescale's transformer-tiny / lstm-tiny shapes (src/model/config.c), dropout 0
    if name == "transformer-tiny":
        return TransformerLM(vocab, 16, 2, 2, 64, max_seq_len=8, dropout=0.0)
    if name == "lstm-tiny":
        return LSTMLM(vocab, 16, 2, dropout=0.0)
    raise SystemExit(f"interop.py: unknown model {name}")


def vocab_of(data):
    with open(os.path.join(data, "dataset.json"), encoding="utf-8") as f:
        return json.load(f)["vocab_size"]


def windows(path, T):
    """All windows of a split, stride T, in file order, <PAD>-padded (tunescale's loader)."""
    tokens = np.fromfile(path, dtype="<u2").astype(np.int64)
    n = len(tokens)
    if n < T + 2:
        count = 1
    else:
        full = (n - 1 - T) // T + 1
        last = (full - 1) * T
        count = full + int(last + T < n - 1)
    padded = np.zeros(count * T + 1, dtype=np.int64)
    padded[:min(n, len(padded))] = tokens[:len(padded)]
    x = np.stack([padded[w * T:w * T + T] for w in range(count)])
    y = np.stack([padded[w * T + 1:w * T + T + 1] for w in range(count)])
    return torch.from_numpy(x), torch.from_numpy(y)


def split_loss(model, path, T, B, vocab):
    """Mean cross-entropy over every non-<PAD> target, in batches of B, dropout off."""
    x, y = windows(path, T)
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for i in range(0, len(x), B):
            logits = model(x[i:i + B])
            total += F.cross_entropy(logits.reshape(-1, vocab), y[i:i + B].reshape(-1),
                                     ignore_index=PAD, reduction="sum").double().item()
            count += int((y[i:i + B] != PAD).sum())
    return total / count


def check(what, ours, theirs, rel):
    diff = abs(ours - theirs) / max(abs(theirs), 1e-30)
    status = "within" if diff <= rel else "OUTSIDE"
    print(f"  {what}: PyTorch {theirs:.9g}, tunescale {ours:.9g}, relative diff {diff:.3g} "
          f"({status} {rel:g})")
    return diff <= rel


def cmd_export(name, data, out):
    torch.manual_seed(4321)
    model = build(name, vocab_of(data))
    tensors = {k: v.detach().contiguous().numpy().copy() for k, v in model.state_dict().items()}
    write_safetensors(out, tensors, {"generator": "tests/cli/interop.sh"})


def load(name, vocab, path):
    model = build(name, vocab)
    tensors, _ = read_safetensors(path)
    state = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in tensors.items()}
    model.load_state_dict(state, strict=True)  # raises on a missing or extra name
    return model


def cmd_val(name, data, weights, result, T, B):
    vocab = vocab_of(data)
    model = load(name, vocab, weights)
    with open(result, encoding="utf-8") as f:
        ours = json.load(f)["val_loss"]
    theirs = split_loss(model, os.path.join(data, "val.bin"), T, B, vocab)
    return check("val loss", ours, theirs, 1e-4)


def cmd_first(name, data, weights, losses, T, B):
    vocab = vocab_of(data)
    model = load(name, vocab, weights)
    model.train()  # dropout is 0: train mode is deterministic, as in tunescale's step
    x, y = windows(os.path.join(data, "train.bin"), T)
    with torch.no_grad():
        logits = model(x[:B])
        theirs = F.cross_entropy(logits.reshape(-1, vocab), y[:B].reshape(-1),
                                 ignore_index=PAD).item()
    with open(losses, encoding="utf-8") as f:
        ours = float(f.readline().split()[1])
    return check("first-step loss", ours, theirs, 1e-5)


def main():
    torch.set_num_threads(1)
    cmd, name, data = sys.argv[1:4]
    if cmd == "export":
        cmd_export(name, data, sys.argv[4])
        return 0
    weights, other, T, B = sys.argv[4], sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
    if cmd == "val":
        return 0 if cmd_val(name, data, weights, other, T, B) else 1
    if cmd == "first":
        return 0 if cmd_first(name, data, weights, other, T, B) else 1
    raise SystemExit(f"interop.py: unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main())
PY
export TS_SOURCE_DIR=$SRC
helper() { "$PY" "$tmp/interop.py" "$@"; }

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 200k -q \
  || { echo "interop: FAIL: data prepare"; exit 1; }
data=$tmp/data
common=(--data "$data" --batch "$B" --seq-len "$T" --threads 1 -q)

for model in transformer-tiny lstm-tiny; do
  # (a) tunescale -> PyTorch
  run=$tmp/$model-a
  if "$TS" train --model "$model" "${common[@]}" --steps 3 --out "$run"; then
    helper val "$model" "$data" "$run/model.safetensors" "$run/result.json" "$T" "$B" \
      && ok "$model: tunescale weights load into PyTorch (strict) and give its val loss" \
      || bad "$model: tunescale -> PyTorch val loss"
  else
    bad "$model: tunescale train (3 steps) failed"
  fi

  # (b) PyTorch -> tunescale
  run=$tmp/$model-b
  init=$tmp/$model-init.safetensors
  if ! helper export "$model" "$data" "$init"; then
    bad "$model: exporting PyTorch weights failed"
    continue
  fi
  if "$TS" train --model "$model" "${common[@]}" --init "$init" --steps 1 --lr 0 --dropout 0 \
       --no-shuffle --losses "$run.losses" --out "$run"; then
    helper first "$model" "$data" "$init" "$run.losses" "$T" "$B" \
      && ok "$model: PyTorch weights give the same first-batch loss in tunescale" \
      || bad "$model: PyTorch -> tunescale first-step loss"
    helper val "$model" "$data" "$init" "$run/result.json" "$T" "$B" \
      && ok "$model: PyTorch weights give the same val loss in tunescale (lr 0 step)" \
      || bad "$model: PyTorch -> tunescale val loss"
  else
    bad "$model: tunescale train --init (lr 0) failed"
  fi
done

finish
