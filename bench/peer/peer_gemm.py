"""PyTorch peer of `tunescale bench gemm`: C (MxN) = A (MxK) @ B^T (KxN) in fp32 on one device.

    python3 bench/peer/peer_gemm.py --device cuda --size 4096x512x128 --size 1024x1024x1024 --json
    python3 bench/peer/peer_gemm.py --device cuda --tf32 ...     # TF32 tensor cores allowed
    python3 bench/peer/peer_gemm.py --device cuda --from-json gemm.json   # bench gemm's shapes

--from-json takes the JSON of `tunescale bench gemm --json` (e.g. with --model-shapes: the
products `tunescale tune` tunes for) and times the same products, transposes and batches
included (op(A) = A^T where ta is 1, op(B) = B^T where tb is 1; bench gemm's default is
A @ B^T, the same as --size here).

--precision matches `tunescale bench gemm --precision`: fp32 (TF32 off), tf32, or bf16/fp16
inputs (A and B stored in that type) with fp32 accumulation (cuBLAS's reduced-precision
reductions are switched off, as tunescale sums in fp32). --tf32 = --precision tf32.

Times `reps` products after a warm-up (the same count as tunescale's --reps), synchronising the
device before and after, and reports GFLOP/s = 2*M*N*K / time, like tunescale's bench gemm.
"""

import argparse
import json
import sys
import time


def shape(text):
    try:
        m, n, k = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not MxNxK")
    if min(m, n, k) < 1:
        raise argparse.ArgumentTypeError(f"'{text}': sizes must be positive")
    return m, n, k


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=shape, action="append",
                        help="MxNxK (repeatable; default tunescale's four shapes)")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--device", default="cuda", choices=("cpu", "cuda"))
    parser.add_argument("--tf32", action="store_true", help="= --precision tf32")
    parser.add_argument("--precision", choices=("fp32", "tf32", "bf16", "fp16"), default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--from-json", metavar="FILE",
                        help="time the products of a `tunescale bench gemm --json` document")
    args = parser.parse_args()
    if args.tf32 and args.precision not in (None, "tf32"):
        parser.error("--tf32 and --precision " + args.precision + " contradict each other")
    args.precision = "tf32" if args.tf32 else (args.precision or "fp32")
    args.tf32 = args.precision == "tf32"
    if args.device == "cpu" and args.precision in ("tf32", "fp16"):
        parser.error(f"--precision {args.precision} needs --device cuda")
    # (M, N, K, ta, tb, batch)
    products = [(m, n, k, 0, 1, 1) for m, n, k in (args.size or [
        (4096, 512, 128), (4096, 128, 512), (4096, 1024, 256), (1024, 1024, 1024)])]
    if args.from_json:
        try:
            with open(args.from_json) as f:
                doc = json.load(f)
            products = [(int(r["M"]), int(r["N"]), int(r["K"]), int(r.get("ta", 0)),
                         int(r.get("tb", 1)), int(r.get("batch", 1))) for r in doc]
        except (OSError, ValueError, KeyError, TypeError) as e:
            sys.exit(f"peer_gemm: --from-json {args.from_json}: not bench gemm JSON ({e})")
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("peer_gemm: --device cuda: torch sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    # fp32 accumulation for half inputs, like tunescale's reduced modes
    for switch in ("allow_fp16_reduced_precision_reduction",
                   "allow_bf16_reduced_precision_reduction"):
        try:  # the bf16 one is newer than Debian 12's torch, which raises AssertionError
            setattr(torch.backends.cuda.matmul, switch, False)
        except (AttributeError, AssertionError):
            pass
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision, torch.float32)

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    rows = []
    g = torch.Generator().manual_seed(3)
    for m, n, k, ta, tb, batch in products:
        # stored operands: A is (K x M) when transposed, B is (N x K) when transposed
        a = torch.rand(batch, k if ta else m, m if ta else k, generator=g).to(args.device, dtype)
        b = torch.rand(batch, n if tb else k, k if tb else n, generator=g).to(args.device, dtype)
        opa = a.transpose(-1, -2) if ta else a
        opb = b.transpose(-1, -2) if tb else b
        if batch == 1:
            opa, opb = opa[0], opb[0]
        c = torch.matmul(opa, opb)  # warm-up: cuBLAS picks its kernel here
        sync()
        t0 = time.perf_counter()
        for _ in range(args.reps):
            c = torch.matmul(opa, opb)
        sync()
        seconds = (time.perf_counter() - t0) / args.reps
        rows.append({"backend": "pytorch", "device": args.device, "tf32": args.tf32,
                     "precision": args.precision, "M": m,
                     "N": n, "K": k, "ta": ta, "tb": tb, "batch": batch,
                     "gflops": 2.0 * m * n * k * batch / seconds / 1e9, "ms": 1e3 * seconds})
        del a, b, c, opa, opb
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            print(f"peer gemm {r['M']}x{r['N']}x{r['K']} on {args.device}"
                  f" ({args.precision}): {r['gflops']:.1f} GFLOP/s, {r['ms']:.3f} ms")


if __name__ == "__main__":
    main()
