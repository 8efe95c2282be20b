"""Training parity with PyTorch: the same start, the same batches, per-step losses compared.

    parity.py run --model transformer-1M --data DIR --out DIR [--steps 100] [--batch 16]
                  [--seq-len 256] [--lr 3e-4] [--seed 1234] [--threads N]
    parity.py compare PYTORCH_LOSSES TUNESCALE_LOSSES [--tol 1e-3] [--json]

`run` builds the seed notebook's module (tests/golden/notebook_models.py) with the shape of the
named tunescale model, the vocabulary of the dataset (dataset.json's vocab_size) and dropout 0,
seeded; writes its initial weights to OUT/init.safetensors (state_dict names, F32), then trains
it exactly as the notebook does (AdamW, weight decay 0.01, clip_grad_norm_(1.0), LambdaLR
warmup min(500, steps // 10) then cosine to 0 over --steps) on train.bin's windows in file order
— the order `tunescale train --no-shuffle` uses — and writes "step loss grad_norm" per step to
OUT/pytorch_losses.txt.

`compare` reads two such files and prints the largest |loss difference| and where the losses
first differ by more than 1e-6, 1e-5, 1e-4 and the bound; it exits 1 when the bound is passed.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.abspath(os.path.join(HERE, "..", "..", "tests", "golden"))
PAD = 0
WEIGHT_DECAY = 0.01
CLIP = 1.0


def read_tokens(path):
    import numpy as np

    return np.fromfile(path, dtype="<u2").astype(np.int64)


def window_count(n_tokens, seq_len, stride):
    """Number of training windows, as tunescale's loader counts them (ts_window_count)."""
    if n_tokens < seq_len + 2:
        return 1  # one padded window
    full = (n_tokens - 1 - seq_len) // stride + 1
    last_start = (full - 1) * stride
    tail = last_start + seq_len < n_tokens - 1 and last_start + stride < n_tokens - 1
    return full + int(tail)


def window(tokens, w, seq_len, stride):
    """Window w in file order: x = tokens[s:s+T], y = tokens[s+1:s+T+1], <PAD> past the end."""
    import numpy as np

    start = w * stride
    chunk = np.zeros(seq_len + 1, dtype=np.int64)
    piece = tokens[start:start + seq_len + 1]
    chunk[:len(piece)] = piece
    return chunk[:-1], chunk[1:]


def batches(tokens, batch, seq_len, stride=None):
    """Yields (x, y) batches forever: windows j*B..j*B+B-1 in file order, epoch after epoch.

    The last batch of an epoch holds the windows left (it may be short), as in tunescale.
    """
    import numpy as np
    import torch

    stride = stride or seq_len
    n_windows = window_count(len(tokens), seq_len, stride)
    per_epoch = (n_windows + batch - 1) // batch
    step = 0
    while True:
        j = step % per_epoch
        rows = [window(tokens, w, seq_len, stride)
                for w in range(j * batch, min(j * batch + batch, n_windows))]
        x = torch.from_numpy(np.stack([r[0] for r in rows]))
        y = torch.from_numpy(np.stack([r[1] for r in rows]))
        yield x, y
        step += 1


def export_initial(model, path):
    """Writes the model's state_dict (F32) with the helpers of tests/golden/make_golden.py."""
    from make_golden import write_safetensors

    tensors = {name: t.detach().cpu().contiguous().numpy().copy()
               for name, t in model.state_dict().items()}
    write_safetensors(path, tensors, {"generator": "bench/peer/parity.py"})


def run(args):
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, GOLDEN)
    sys.path.insert(0, HERE)
    import torch
    import torch.nn.functional as F
    from notebook_models import get_lr_scheduler, warmup_steps_for
    from peer_step import MODELS, build_model

    if args.model not in MODELS:
        sys.exit(f"parity: unknown model '{args.model}' (one of {', '.join(sorted(MODELS))})")
    limit = MODELS[args.model].get("max_seq_len")
    if limit is not None and args.seq_len > limit:
        sys.exit(f"parity: {args.model} takes at most --seq-len {limit}")
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.data, "dataset.json"), encoding="utf-8") as f:
        vocab = json.load(f)["vocab_size"]
    os.makedirs(args.out, exist_ok=True)

    torch.manual_seed(args.seed)
    model = build_model(args.model, vocab, dropout=0.0)
    model.train()  # dropout 0: deterministic, and the notebook trains in train mode
    init_path = os.path.join(args.out, "init.safetensors")
    export_initial(model, init_path)

    warmup = warmup_steps_for(args.steps)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=WEIGHT_DECAY)
    scheduler = get_lr_scheduler(optimizer, warmup, args.steps)
    tokens = read_tokens(os.path.join(args.data, "train.bin"))
    feed = batches(tokens, args.batch, args.seq_len)
    losses_path = os.path.join(args.out, "pytorch_losses.txt")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parity: PyTorch {torch.__version__}, {args.model} (vocab {vocab}, {n_params} "
          f"parameters, dropout 0, seed {args.seed}), {args.steps} steps of batch "
          f"{args.batch} x {args.seq_len}, lr {args.lr:g}, warmup {warmup}", flush=True)
    with open(losses_path, "w", encoding="utf-8") as out:
        for step in range(1, args.steps + 1):
            x, y = next(feed)
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1), ignore_index=PAD)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            optimizer.step()
            scheduler.step()
            out.write(f"{step} {loss.item():.9g} {norm.item():.9g}\n")
            out.flush()
    print(f"parity: wrote {init_path} and {losses_path}")


def read_losses(path):
    """{step: (loss, grad_norm)} from a 'step loss grad_norm' file."""
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if fields:
                rows[int(fields[0])] = (float(fields[1]), float(fields[2]))
    return rows


def compare(args):
    ref, ours = read_losses(args.pytorch), read_losses(args.tunescale)
    steps = sorted(set(ref) & set(ours))
    missing = sorted(set(ref) ^ set(ours))
    if not steps:
        print("parity: no common steps to compare")
        return 1
    diffs = [abs(ref[s][0] - ours[s][0]) for s in steps]
    norm_rel = [abs(ref[s][1] - ours[s][1]) / max(abs(ref[s][1]), 1e-30) for s in steps]
    worst = max(range(len(steps)), key=lambda i: diffs[i])
    first_over = {}
    for bound in (1e-6, 1e-5, 1e-4, args.tol):
        over = [s for s, d in zip(steps, diffs) if d > bound]
        first_over[f"{bound:g}"] = over[0] if over else None
    ok = diffs[worst] <= args.tol and not missing
    summary = {
        "steps": len(steps),
        "missing_steps": missing,
        "max_abs_loss_diff": diffs[worst],
        "at_step": steps[worst],
        "first_step_over": first_over,
        "step1_loss_diff": diffs[0],
        "max_rel_grad_norm_diff": max(norm_rel),
        "final_loss_pytorch": ref[steps[-1]][0],
        "final_loss_tunescale": ours[steps[-1]][0],
        "tolerance": args.tol,
        "pass": ok,
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"  steps compared {len(steps)}" + (f", MISSING {missing}" if missing else ""))
        print(f"  step 1 loss: PyTorch {ref[steps[0]][0]:.7f}  tunescale {ours[steps[0]][0]:.7f}"
              f"  |diff| {diffs[0]:.3g}")
        print(f"  step {steps[-1]} loss: PyTorch {ref[steps[-1]][0]:.7f}  tunescale "
              f"{ours[steps[-1]][0]:.7f}  |diff| {diffs[-1]:.3g}")
        print(f"  max |loss diff| {diffs[worst]:.3g} at step {steps[worst]}; "
              f"max relative grad-norm diff {max(norm_rel):.3g}")
        print("  first step with |diff| over: "
              + ", ".join(f"{k}: {v if v is not None else 'none'}"
                          for k, v in first_over.items()))
        print(f"  {'PASS' if ok else 'FAIL'} (bound {args.tol:g})")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="export initial weights and train in PyTorch")
    p_run.add_argument("--model", required=True)
    p_run.add_argument("--data", required=True, help="a dataset from tunescale data prepare")
    p_run.add_argument("--out", required=True)
    p_run.add_argument("--steps", type=int, default=100)
    p_run.add_argument("--batch", type=int, default=16)
    p_run.add_argument("--seq-len", type=int, default=256)
    p_run.add_argument("--lr", type=float, default=3e-4)
    p_run.add_argument("--seed", type=int, default=1234)
    p_run.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p_cmp = sub.add_parser("compare", help="compare two per-step loss files")
    p_cmp.add_argument("pytorch")
    p_cmp.add_argument("tunescale")
    p_cmp.add_argument("--tol", type=float, default=1e-3)
    p_cmp.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.command == "run":
        if min(args.steps, args.batch, args.seq_len, args.threads) < 1:
            parser.error("--steps, --batch, --seq-len and --threads must be positive")
        run(args)
        return 0
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
