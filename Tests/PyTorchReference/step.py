#!/usr/bin/env python3
"""PyTorch's CPU training step on the four reference workloads, for side-by-side runs.

The counterpart of `tandem-bench step` (docs/BENCHMARKS.md defines the workloads): the
same models, batch shapes and optimizers, one step being forward, cross-entropy, backward,
gradient clipping at 1.0 and the optimizer step. Written as a practitioner would write it
(nanoGPT's attention through scaled_dot_product_attention, nn.LSTM, foreach optimizers).
It is a benchmark only: training never imports it.

Usage: python3 Tests/PyTorchReference/step.py --workload lenet5_fmnist_b64 --threads 1 --steps 60
Prints one JSON line with the same keys as `tandem-bench step --json` (ms_per_step is the
median of the timed steps after 5 warm-up steps; peak_rss_mb is the whole process's,
Python and libtorch included).
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """nanoGPT's pre-LayerNorm block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.fc, self.out = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab=65, context=64, width=128, layers=4, heads=4):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab, width), nn.Embedding(context, width)
        self.blocks = nn.Sequential(*[Block(width, heads) for _ in range(layers)])
        self.norm, self.head = nn.LayerNorm(width), nn.Linear(width, vocab, bias=False)

    def forward(self, ids):
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
        return self.head(self.norm(self.blocks(x))).view(-1, self.head.out_features)


class CharLSTM(nn.Module):
    def __init__(self, vocab=65, embedding=128, hidden=256):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids):
        h, _ = self.lstm(self.embedding(ids))
        return self.head(h).reshape(-1, self.head.out_features)


def workload(name):
    """(model, inputs, targets, optimizer) of a reference workload, synthetic data."""
    torch.manual_seed(1)
    if name in ("mlp_fmnist_b64", "lenet5_fmnist_b64"):
        if name == "mlp_fmnist_b64":
            model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                                  nn.Linear(128, 10))
        else:
            model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
        x, y = torch.rand(64, 1, 28, 28), torch.arange(64) * 7 % 10
        return model, x, y, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model = GPT() if name == "chargpt_shakespeare_b32_t64" else CharLSTM()
    ids = torch.randint(0, 65, (32 * 64 + 1,))
    x, y = ids[:-1].view(32, 64), ids[1:]
    return model, x, y, torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, choices=["mlp_fmnist_b64", "lenet5_fmnist_b64",
                                                              "chargpt_shakespeare_b32_t64", "charlstm_shakespeare_b32_t64"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, x, y, optimizer = workload(args.workload)

    def step():
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    if not torch.isfinite(torch.tensor(step())):
        raise SystemExit(f"{args.workload}: the first step's loss is not finite")
    for _ in range(5):
        step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    ms = statistics.median(times)
    print(json.dumps({"bench": "step", "impl": "pytorch", "torch": torch.__version__, "workload": args.workload,
                      "threads": args.threads, "world": 1, "ms_per_step": ms, "samples_per_s": x.shape[0] / ms * 1e3,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
