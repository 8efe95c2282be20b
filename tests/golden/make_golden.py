"""Writes the PyTorch golden files the C tests compare against.

For a tiny Transformer and a tiny LSTM built exactly as the seed notebook builds them, this
records the initial parameters, one batch, the logits, the loss, the gradients, and the state
after three AdamW steps taken the way the notebook trains, as safetensors files.

    /usr/bin/python3 tests/golden/make_golden.py [--out tests/golden]

See README.md in this directory for the tensor names.
"""

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notebook_models import LSTMLM, TransformerLM, get_lr_scheduler  # noqa: E402

SEED = 1234
PAD = 0
BATCH = 3
SEQ = 7
LR = 1e-2
WEIGHT_DECAY = 0.01
WARMUP_STEPS = 2
TOTAL_STEPS = 10
STEPS = 3
CLIP = 1.0

CONFIGS = {
    "transformer_tiny": {
        "family": "transformer",
        "vocab_size": 23,
        "d_model": 16,
        "n_layers": 2,
        "n_heads": 2,
        "d_ff": 64,
        "max_seq_len": 8,
        "dropout": 0.0,
    },
    "lstm_tiny": {
        "family": "lstm",
        "vocab_size": 23,
        "d_model": 16,
        "n_layers": 2,
        "dropout": 0.0,
    },
}

DTYPES = {np.dtype("<f4"): "F32", np.dtype("<i4"): "I32", np.dtype("<i8"): "I64"}


def write_safetensors(path, tensors, metadata):
    """Writes tensors (name -> numpy array, in order) and metadata (str -> str) to path.

    The header is padded with spaces to a multiple of 8 bytes, tensors follow in the given order
    with no gaps, and metadata gains tunescale_sha256: the SHA-256 of the data section.
    """
    arrays = []
    for name, array in tensors.items():
        array = np.asarray(array)  # np.ascontiguousarray would turn a 0-d array into 1-d
        if not array.flags.c_contiguous:
            array = array.copy(order="C")
        array = array.astype(array.dtype.newbyteorder("<"), copy=False)
        if array.dtype not in DTYPES:
            raise ValueError(f"{name}: unsupported dtype {array.dtype}")
        arrays.append((name, array))

    data = b"".join(array.tobytes() for _, array in arrays)
    meta = dict(metadata)
    meta["tunescale_sha256"] = hashlib.sha256(data).hexdigest()
    header = {"__metadata__": meta}
    offset = 0
    for name, array in arrays:
        header[name] = {
            "dtype": DTYPES[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes

    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_safetensors(path):
    """Reads a safetensors file: returns ({name: numpy array}, {metadata key: value}).

    Checks tunescale_sha256 when the file has one, so files from tunescale can be loaded here.
    """
    names = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1"}
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    data = blob[8 + length:]
    meta = header.pop("__metadata__", {})
    want = meta.get("tunescale_sha256")
    if want is not None and hashlib.sha256(data).hexdigest() != want.lower():
        raise ValueError(f"{path}: checksum mismatch (file corrupt)")
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=names[info["dtype"]])
        tensors[name] = array.reshape(info["shape"])
    return tensors, meta


def to_numpy(tensor):
    """A copy: .numpy() shares memory, and the optimizer later updates parameters in place."""
    return tensor.detach().cpu().contiguous().numpy().copy()


def build_model(config):
    if config["family"] == "transformer":
        return TransformerLM(
            config["vocab_size"],
            config["d_model"],
            config["n_layers"],
            config["n_heads"],
            config["d_ff"],
            max_seq_len=config["max_seq_len"],
            dropout=config["dropout"],
        )
    return LSTMLM(config["vocab_size"], config["d_model"], config["n_layers"],
                  dropout=config["dropout"])


def make_batch(vocab_size):
    """Random windows whose tails are padded, like the notebook's last (short) window.

    Row r ends with r + 1 <PAD> targets; as in the dataset, a window is chunk[:-1] -> chunk[1:]
    of a chunk padded with <PAD>, so the inputs carry one <PAD> fewer than the targets.
    """
    chunks = torch.randint(1, vocab_size, (BATCH, SEQ + 1))
    for row in range(BATCH):
        chunks[row, SEQ - row:] = PAD
    return chunks[:, :-1].clone(), chunks[:, 1:].clone()


def loss_of(model, x, y, vocab_size):
    logits = model(x)
    loss = F.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1), ignore_index=PAD)
    return logits, loss


def torch_package_version():
    """The Debian package version (torch.__version__ of Debian's build says 1.13.0a0)."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-torch"],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def make_golden(name, config, out_dir):
    torch.manual_seed(SEED)
    model = build_model(config)
    model.train()
    vocab = config["vocab_size"]
    x, y = make_batch(vocab)

    params = dict(model.named_parameters())
    assert list(params) == list(model.state_dict()), "state_dict holds more than parameters"

    tensors = {}
    for pname, p in params.items():
        tensors[f"param.{pname}"] = to_numpy(p)
    tensors["x"] = to_numpy(x).astype(np.int32)
    tensors["y"] = to_numpy(y).astype(np.int32)

    logits, loss = loss_of(model, x, y, vocab)
    loss.backward()
    tensors["logits"] = to_numpy(logits)
    tensors["loss"] = to_numpy(loss)
    for pname, p in params.items():
        tensors[f"grad.{pname}"] = to_numpy(p.grad)

    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    scheduler = get_lr_scheduler(optimizer, WARMUP_STEPS, TOTAL_STEPS)
    step_loss, grad_norm, lrs = [], [], []
    for _ in range(STEPS):
        optimizer.zero_grad()
        _, loss = loss_of(model, x, y, vocab)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
        step_loss.append(loss.item())
        grad_norm.append(norm.item())

    tensors["step_loss"] = np.array(step_loss, dtype=np.float32)
    tensors["grad_norm"] = np.array(grad_norm, dtype=np.float32)
    tensors["lr"] = np.array(lrs, dtype=np.float32)
    for pname, p in params.items():
        tensors[f"param3.{pname}"] = to_numpy(p)
    for pname, p in params.items():
        state = optimizer.state[p]
        tensors[f"exp_avg3.{pname}"] = to_numpy(state["exp_avg"])
        tensors[f"exp_avg_sq3.{pname}"] = to_numpy(state["exp_avg_sq"])

    run_config = dict(config, batch_size=BATCH, seq_len=SEQ, pad_index=PAD, seed=SEED)
    metadata = {
        "config": json.dumps(run_config, sort_keys=True),
        "torch_version": torch.__version__,
        "torch_package": torch_package_version(),
        "generator": "tests/golden/make_golden.py",
        "lr": repr(LR),
        "weight_decay": repr(WEIGHT_DECAY),
        "betas": "0.9,0.999",
        "eps": "1e-08",
        "clip_grad_norm": repr(CLIP),
        "warmup_steps": str(WARMUP_STEPS),
        "total_steps": str(TOTAL_STEPS),
        "steps": str(STEPS),
    }
    path = os.path.join(out_dir, f"{name}.safetensors")
    write_safetensors(path, tensors, metadata)

    n_params = sum(p.numel() for p in params.values())
    print(f"{path}: {os.path.getsize(path)} bytes, {n_params} parameters, "
          f"{len(tensors)} tensors")
    print(f"  loss {tensors['loss'].item():.7f}  step_loss "
          + " ".join(f"{v:.7f}" for v in step_loss))
    print("  grad_norm " + " ".join(f"{v:.7f}" for v in grad_norm)
          + "  lr " + " ".join(f"{v:g}" for v in lrs))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=here, help="output directory (default: %(default)s)")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    os.makedirs(args.out, exist_ok=True)
    print(f"torch {torch.__version__} (package {torch_package_version()}), numpy {np.__version__}")
    for name, config in CONFIGS.items():
        make_golden(name, config, args.out)


if __name__ == "__main__":
    main()
