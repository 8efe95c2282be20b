"""The seed notebook's models and learning-rate schedule, re-typed with identical semantics.

TransformerBlock, TransformerLM and LSTMLM build the same modules, in the same order (so the
same parameter names and the same random initialisation for a given seed), and compute the same
forward pass as the notebook's classes. lr_lambda / get_lr_scheduler are its warmup + cosine
schedule. make_golden.py, the benchmarks and the peer scripts import this module.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class TransformerBlock(nn.Module):
    """Post-LN block: x = LN1(x + MHA(x)); x = LN2(x + FF(x))."""

    def __init__(self, d_model, n_heads, d_ff, dropout=0.1):
        super().__init__()
        self.attention = nn.MultiheadAttention(
            d_model, n_heads, dropout=dropout, batch_first=True
        )
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(
            nn.Linear(d_model, d_ff),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(d_ff, d_model),
            nn.Dropout(dropout),
        )

    def forward(self, x, mask=None):
        attn_out, _ = self.attention(x, x, x, attn_mask=mask, need_weights=False)
        x = self.norm1(x + attn_out)
        x = self.norm2(x + self.ff(x))
        return x


def init_weights(module):
    """The notebook's _init_weights: Linear/Embedding weights N(0, 0.02), Linear biases 0."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        module.weight.data.normal_(mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            module.bias.data.zero_()


def causal_mask(seq_len, device):
    """The notebook's mask: True above the diagonal (masked).

    The notebook follows triu(...).bool() with mask.masked_fill(mask, -inf); on a bool tensor
    that fill writes True where it is already True, so the mask stays boolean. That step is
    kept to stay faithful.
    """
    mask = torch.triu(torch.ones(seq_len, seq_len), diagonal=1).bool().to(device)
    mask = mask.masked_fill(mask, float("-inf"))
    return mask


class TransformerLM(nn.Module):
    """Decoder-only Transformer: token + position embedding, N post-LN blocks, LN, linear."""

    def __init__(self, vocab_size, d_model, n_layers, n_heads, d_ff, max_seq_len=512,
                 dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(max_seq_len, d_model)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([
            TransformerBlock(d_model, n_heads, d_ff, dropout) for _ in range(n_layers)
        ])
        self.norm = nn.LayerNorm(d_model)
        self.output = nn.Linear(d_model, vocab_size)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        init_weights(module)

    def forward(self, x):
        batch_size, seq_len = x.shape
        mask = causal_mask(seq_len, x.device)
        positions = torch.arange(seq_len, device=x.device).unsqueeze(0).expand(batch_size, -1)
        x = self.token_embedding(x) + self.position_embedding(positions)
        x = self.dropout(x)
        for block in self.blocks:
            x = block(x, mask)
        x = self.norm(x)
        return self.output(x)

    def count_parameters(self):
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


class LSTMLM(nn.Module):
    """Embedding, stacked nn.LSTM, dropout, linear."""

    def __init__(self, vocab_size, d_model, n_layers, dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.lstm = nn.LSTM(
            d_model,
            d_model,
            n_layers,
            dropout=dropout if n_layers > 1 else 0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(d_model, vocab_size)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        init_weights(module)

    def forward(self, x):
        x = self.embedding(x)
        x, _ = self.lstm(x)
        x = self.dropout(x)
        return self.output(x)

    def count_parameters(self):
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def lr_lambda(step, warmup_steps, total_steps):
    """The notebook's multiplier: linear warmup from 0, then half a cosine down to 0."""
    if step < warmup_steps:
        return step / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return 0.5 * (1 + np.cos(np.pi * progress))


def get_lr_scheduler(optimizer, warmup_steps, total_steps):
    """LambdaLR over lr_lambda, as the notebook builds it."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_lambda(step, warmup_steps, total_steps)
    )


def warmup_steps_for(total_steps):
    """The notebook's warmup length: min(500, total_steps // 10)."""
    return min(500, total_steps // 10)


def compute_loss(model, x, y, vocab_size, pad_index=0):
    """Cross-entropy over all positions, ignoring <PAD> targets (mean over the rest)."""
    logits = model(x)
    return F.cross_entropy(
        logits.reshape(-1, vocab_size), y.reshape(-1), ignore_index=pad_index
    )
