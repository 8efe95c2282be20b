"""PyTorch peer of `tunescale bench step`: times full training steps of the notebook's models.

    /usr/bin/python3 bench/peer/peer_step.py --model transformer-1M --batch 16 --steps 20 \
        --warmup 3 --seq-len 256 --vocab 100 --threads 2 --json

Builds the seed notebook's module (tests/golden/notebook_models.py) with the shape tunescale
gives the same model name, then times N steps of what the notebook's train_epoch does per batch
(zero_grad, forward, cross_entropy with ignore_index 0, backward, clip_grad_norm_(1.0),
AdamW.step with lr 3e-4 and weight decay 0.01) on random tokens, after W warm-up steps.

--precision matches `tunescale ... --precision`: fp32 (default, TF32 off), tf32 (TF32 tensor
cores for matmuls), bf16 / fp16 (torch.autocast around forward and loss, fp32 master weights
and AdamW state; fp16 with a GradScaler at its defaults: scale 2^16, halved on overflow,
doubled after 2000 good steps, as tunescale's). --tf32 is the old spelling of --precision tf32.

Reports tokens/s, ms/step, the growth of the process's peak resident memory (ru_maxrss after
the steps minus before the model was built), the torch version and the BLAS torch calls.
"""

import argparse
import contextlib
import json
import os
import re
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "..", "tests", "golden")

# Shapes of tunescale's named models (src/model/config.c). The vocabulary comes from --vocab.
MODELS = {
    "transformer-1M": {"family": "transformer", "d_model": 128, "n_layers": 4, "n_heads": 4,
                       "d_ff": 512, "max_seq_len": 256, "dropout": 0.1},
    "transformer-5M": {"family": "transformer", "d_model": 256, "n_layers": 6, "n_heads": 4,
                       "d_ff": 1024, "max_seq_len": 256, "dropout": 0.1},
    "transformer-20M": {"family": "transformer", "d_model": 512, "n_layers": 6, "n_heads": 8,
                        "d_ff": 2048, "max_seq_len": 256, "dropout": 0.1},
    "transformer-50M": {"family": "transformer", "d_model": 768, "n_layers": 8, "n_heads": 12,
                        "d_ff": 3072, "max_seq_len": 256, "dropout": 0.1},
    "transformer-100M": {"family": "transformer", "d_model": 1024, "n_layers": 10,
                         "n_heads": 16, "d_ff": 4096, "max_seq_len": 256, "dropout": 0.1},
    "transformer-tiny": {"family": "transformer", "d_model": 16, "n_layers": 2, "n_heads": 2,
                         "d_ff": 64, "max_seq_len": 8, "dropout": 0.0},
    "transformer-small": {"family": "transformer", "d_model": 64, "n_layers": 2, "n_heads": 2,
                          "d_ff": 256, "max_seq_len": 256, "dropout": 0.1},
    "lstm-1M": {"family": "lstm", "d_model": 256, "n_layers": 2, "dropout": 0.1},
    "lstm-5M": {"family": "lstm", "d_model": 512, "n_layers": 2, "dropout": 0.1},
    "lstm-20M": {"family": "lstm", "d_model": 1024, "n_layers": 2, "dropout": 0.1},
    "lstm-50M": {"family": "lstm", "d_model": 1536, "n_layers": 2, "dropout": 0.1},
    "lstm-100M": {"family": "lstm", "d_model": 2048, "n_layers": 3, "dropout": 0.1},
    "lstm-tiny": {"family": "lstm", "d_model": 16, "n_layers": 2, "dropout": 0.0},
    "lstm-small": {"family": "lstm", "d_model": 128, "n_layers": 1, "dropout": 0.1},
}

PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
LR = 3e-4
WEIGHT_DECAY = 0.01
CLIP = 1.0
PAD = 0
FIRST_TOKEN = 4  # as tunescale's bench: random ids skip the four special tokens


def build_model(name, vocab_size, dropout=None):
    """The notebook's module for a tunescale model name (dropout: override or the model's)."""
    sys.path.insert(0, os.path.abspath(GOLDEN))
    from notebook_models import LSTMLM, TransformerLM

    config = MODELS[name]
    p = config["dropout"] if dropout is None else dropout
    if config["family"] == "transformer":
        return TransformerLM(vocab_size, config["d_model"], config["n_layers"],
                             config["n_heads"], config["d_ff"],
                             max_seq_len=config["max_seq_len"], dropout=p)
    return LSTMLM(vocab_size, config["d_model"], config["n_layers"], dropout=p)


def blas_libraries():
    """Shared libraries of this process whose names say BLAS or LAPACK (after one matmul)."""
    found = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) < 6:
                    continue
                path = fields[-1]
                base = os.path.basename(path).lower()
                if ("blas" in base or "lapack" in base or "mkl" in base) and path not in found:
                    found.append(path)
    except OSError:
        pass
    return found


def describe_blas(torch):
    """(summary, reference): what BLAS torch uses, and whether it looks like reference BLAS.

    Debian's python3-torch is built with BLAS_INFO=generic and calls whatever libblas.so.3
    the alternatives system points at: OpenBLAS when libopenblas0 is installed, else the
    unoptimised reference BLAS (about 25x slower here).
    """
    a = torch.randn(64, 64)
    (a @ a).sum().item()  # make sure the BLAS library is loaded
    config = torch.__config__.show()
    match = re.search(r"BLAS_INFO=([^,\s]+)", config)
    build_info = match.group(1) if match else "unknown"
    libs = blas_libraries()
    resolved = [os.path.realpath(p) for p in libs]
    tuned = ("openblas", "mkl", "blis", "atlas")
    # The file the generic build's sgemm_ comes from is the one named libblas.so.*; another
    # optimised library (OpenBLAS's LAPACK, say) may be loaded beside the reference BLAS.
    generic = [p for p in resolved if os.path.basename(p).startswith("libblas.so")]
    if generic:
        reference = not any(key in p.lower() for p in generic for key in tuned)
    else:
        built_in = build_info.lower() in ("mkl", "open", "openblas", "blis", "accelerate")
        reference = not built_in and not any(key in p.lower() for p in resolved
                                             for key in tuned)
    summary = f"BLAS_INFO={build_info}; loaded: " + (", ".join(resolved) if resolved else "none")
    return summary, reference


def random_batch(torch, generator, batch, seq_len, vocab):
    shape = (batch, seq_len)
    x = torch.randint(FIRST_TOKEN, vocab, shape, generator=generator)
    y = torch.randint(FIRST_TOKEN, vocab, shape, generator=generator)
    return x, y


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="where PyTorch trains (cuda: a GPU machine's PyTorch)")
    parser.add_argument("--tf32", action="store_true",
                        help="cuda: let matmuls and convolutions use TF32 tensor cores "
                             "(off by default: fp32 as tunescale computes); = --precision tf32")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="fp32 (default), tf32, bf16 or fp16 (autocast; fp16 with "
                             "GradScaler)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if min(args.batch, args.steps, args.seq_len, args.threads) < 1 or args.warmup < 0:
        parser.error("--batch, --steps, --seq-len and --threads must be positive")
    if args.vocab <= FIRST_TOKEN:
        parser.error(f"--vocab must be above {FIRST_TOKEN}")
    if args.tf32 and args.precision not in (None, "tf32"):
        parser.error("--tf32 and --precision " + args.precision + " contradict each other")
    args.precision = "tf32" if args.tf32 else (args.precision or "fp32")
    args.tf32 = args.precision == "tf32"
    if args.device == "cpu" and args.precision in ("tf32", "fp16"):
        parser.error(f"--precision {args.precision} needs --device cuda (PyTorch on the CPU has "
                     "no TF32, and no fp16 autocast in this version)")
    config = MODELS[args.model]
    if config["family"] == "transformer" and args.seq_len > config["max_seq_len"]:
        parser.error(f"{args.model} takes at most --seq-len {config['max_seq_len']}")
    return args


def main():
    args = parse_args()
    # OpenBLAS keeps its own thread pool; without this it uses every core whatever
    # torch.set_num_threads says. Must be set before torch loads the library. A value already
    # in the environment wins (as does OMP_WAIT_POLICY): see README.md on oversubscription.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    blas, reference = describe_blas(torch)
    if reference:
        print("peer_step: WARNING: torch is using the reference (unoptimised) BLAS: " + blas,
              file=sys.stderr)
        print("peer_step: WARNING: Debian's python3-torch calls the system libblas.so.3; "
              "install libopenblas0 (apt-get install libopenblas0) or PyTorch runs ~25x "
              "slower and the comparison is meaningless", file=sys.stderr)

    cuda = args.device == "cuda"
    if cuda:
        if not torch.cuda.is_available():
            sys.exit("peer_step: --device cuda: torch sees no CUDA device")
        # Both switches: PyTorch's default for matmul TF32 changed between versions.
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.cuda.reset_peak_memory_stats()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    torch.manual_seed(1)
    model = build_model(args.model, args.vocab).to(args.device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    generator = torch.Generator().manual_seed(2)
    autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)
    # fp16 only: bf16 keeps fp32's range, as tunescale scales only fp16 losses
    scaler = torch.cuda.amp.GradScaler(enabled=args.precision == "fp16")

    def autocast():  # fp32/tf32: none (CPU autocast refuses any dtype but bf16)
        if autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=args.device, dtype=autocast_dtype)
    n_params = sum(p.numel() for p in model.parameters())

    t0 = time.perf_counter()
    loss_value = float("nan")
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            t0 = time.perf_counter()
        x, y = random_batch(torch, generator, args.batch, args.seq_len, args.vocab)
        x, y = x.to(args.device), y.to(args.device)
        optimizer.zero_grad()
        with autocast():
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, args.vocab).float(), y.reshape(-1),
                                   ignore_index=PAD)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)  # clip the true gradient (a no-op when disabled)
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        scaler.step(optimizer)  # skipped after an overflow
        scaler.update()
        loss_value = loss.item()  # also waits for the step, like tunescale's sync
    elapsed = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    tokens = args.batch * args.seq_len * args.steps
    result = {
        "bench": "step",
        "backend": "pytorch",
        "model": args.model,
        "params": n_params,
        "batch": args.batch,
        "seq_len": args.seq_len,
        "vocab": args.vocab,
        "steps": args.steps,
        "warmup": args.warmup,
        "threads": torch.get_num_threads(),
        "tokens_per_s": tokens / elapsed,
        "ms_per_step": 1e3 * elapsed / args.steps,
        "peak_rss_growth_bytes": (rss_after - rss_before) * 1024,
        "peak_rss_bytes": rss_after * 1024,
        "last_loss": loss_value,
        "torch_version": torch.__version__,
        "blas": blas,
        "reference_blas": reference,
        "openblas_num_threads": os.environ["OPENBLAS_NUM_THREADS"],
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        "device": args.device,
        "precision": args.precision,
    }
    if cuda:
        result["tf32"] = args.tf32
        result["gpu"] = torch.cuda.get_device_name(0)
        # what the caching allocator handed out at most: the peer of tunescale's peak
        result["cuda_max_memory_allocated_bytes"] = torch.cuda.max_memory_allocated()
        result["cuda_max_memory_reserved_bytes"] = torch.cuda.max_memory_reserved()
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"peer step: {args.model} in PyTorch {torch.__version__} {args.precision} "
              f"({result['threads']} "
              f"threads, {blas}), batch {args.batch} x {args.seq_len}: "
              f"{result['tokens_per_s']:.0f} tok/s, {result['ms_per_step']:.1f} ms/step, "
              f"peak RSS growth {result['peak_rss_growth_bytes'] / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
