"""Summary of bench/gpu/large.sh: loss agreement between backends and median throughput.

    python3 bench/gpu/large_summary.py OUT_DIR      (prints Markdown)

Reads OUT_DIR/losses-<backend>-<model>-b<batch>.txt ('step loss grad_norm' lines) and
OUT_DIR/results.jsonl (tags step/<who>/<model>/b<batch>/r<round>).
"""

import glob
import json
import os
import re
import statistics
import sys


def read_losses(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                rows.append((int(parts[0]), float(parts[1]), float(parts[2]) if len(parts) > 2 else None))
    return rows


def losses_table(out):
    print("## Losses, OpenCL against Vulkan (same seed, data and dropout masks)\n")
    print("| model | batch | steps | first loss (OpenCL / Vulkan) | last loss (OpenCL / Vulkan) | max abs diff |")
    print("|---|--:|--:|--:|--:|--:|")
    for path in sorted(glob.glob(os.path.join(out, "losses-opencl-*.txt"))):
        m = re.match(r"losses-opencl-(.+)-b(\d+)\.txt", os.path.basename(path))
        other = path.replace("losses-opencl-", "losses-vulkan-")
        a = read_losses(path)
        b = read_losses(other) if os.path.exists(other) else []
        if not a or not b:
            print(f"| {m.group(1)} | {m.group(2)} | {len(a)} / {len(b)} | missing | | |")
            continue
        n = min(len(a), len(b))
        diff = max(abs(a[i][1] - b[i][1]) for i in range(n))
        print(f"| {m.group(1)} | {m.group(2)} | {n} | {a[0][1]:.6f} / {b[0][1]:.6f} | "
              f"{a[n - 1][1]:.6f} / {b[n - 1][1]:.6f} | {diff:.2e} |")
    print()


def step_table(out):
    runs = {}
    with open(os.path.join(out, "results.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            parts = rec["tag"].split("/")
            if parts[0] != "step" or len(parts) != 5:
                continue
            _, who, model, batch, _ = parts
            key = (model, int(batch[1:]), who)
            res = rec["result"] if isinstance(rec["result"], dict) else None
            runs.setdefault(key, []).append((rec["rc"], res))
    print("## Training steps: median tokens/s of the rounds, peak device memory\n")
    print("| model | batch | who | rounds ok | tok/s (median) | tok/s (min-max) | ÷ PyTorch fp32 | peak MiB |")
    print("|---|--:|---|--:|--:|--:|--:|--:|")
    medians = {}
    for (model, batch, who), rs in sorted(runs.items()):
        good = [r for rc, r in rs if rc == 0 and r]
        if good:
            toks = [r["tokens_per_s"] for r in good]
            medians[(model, batch, who)] = statistics.median(toks)
    for (model, batch, who), rs in sorted(runs.items()):
        good = [r for rc, r in rs if rc == 0 and r]
        if not good:
            print(f"| {model} | {batch} | {who} | 0/{len(rs)} | failed | | | |")
            continue
        toks = [r["tokens_per_s"] for r in good]
        med = medians[(model, batch, who)]
        peer = medians.get((model, batch, "torch-fp32"))
        ratio = f"{med / peer:.2f}x" if peer and who != "torch-fp32" else ""
        peak = good[0].get("peak_memory_bytes") or good[0].get("cuda_max_memory_allocated_bytes")
        peak_s = f"{peak / 2**20:,.0f}" if peak else ""
        print(f"| {model} | {batch} | {who} | {len(good)}/{len(rs)} | {med:,.0f} | "
              f"{min(toks):,.0f}-{max(toks):,.0f} | {ratio} | {peak_s} |")
    print()


def main():
    out = sys.argv[1]
    losses_table(out)
    step_table(out)


if __name__ == "__main__":
    main()
