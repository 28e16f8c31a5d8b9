"""PyTorch baseline for bench/core.bench.ts: the same shapes on the CPU with 2 threads.

Run with Debian's Python (the one with torch):

    /usr/bin/python3 tools/bench_torch_core.py

Prints one table row per benchmark: median and best milliseconds per iteration and the rate
(GFLOP/s for matmul, tokens/s for the transformer block and the GPT training step).
"""

import math
import platform
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(1234)


def timed(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def fwd_bwd(inputs, f, upstream):
    def step():
        for t in inputs:
            t.grad = None
        (f() * upstream).sum().backward()

    return step


class Block(nn.Module):
    """Pre-norm GPT block: x + attn(ln1(x)), then + mlp(ln2(x)); causal attention."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc = nn.Linear(width, 4 * width)
        self.fc_proj = nn.Linear(4 * width, width)

    def forward(self, x):
        b, t, c = x.shape
        h, d = self.heads, c // self.heads
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, h, d).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
        y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class TinyGpt(nn.Module):
    def __init__(self, vocab, context, width, layers, heads):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.t()


def loaded_blas():
    """The BLAS library this process actually mapped (Debian's build links the generic libblas.so.3)."""
    try:
        with open("/proc/self/maps") as f:
            names = {line.split()[-1].rsplit("/", 1)[-1] for line in f if "blas" in line.lower()}
        return ", ".join(sorted(names)) or "none mapped"
    except OSError:
        return "unknown"


def main():
    rows = []

    for size in (512, 1024):
        a, b = torch.randn(size, size), torch.randn(size, size)
        med, best = timed(lambda: a @ b, 50 if size == 512 else 10, 3)
        rows.append((f"matmul {size}³", med, best, f"{2 * size**3 / med / 1e6:.1f} GFLOP/s"))

    x = torch.randn(8, 128, 256, requires_grad=True)
    w = torch.ones(256, requires_grad=True)
    bias = torch.zeros(256, requires_grad=True)
    g = torch.randn(8, 128, 256)
    step = fwd_bwd([x, w, bias], lambda: F.layer_norm(x, (256,), w, bias, 1e-5), g)
    med, best = timed(step, 30, 3)
    rows.append(("layerNorm [8,128,256] fwd+bwd", med, best, ""))

    x = torch.randn(8, 4, 128, 128, requires_grad=True)
    g = torch.randn(8, 4, 128, 128)
    med, best = timed(fwd_bwd([x], lambda: x.softmax(-1), g), 30, 3)
    rows.append(("softmax [8,4,128,128] fwd+bwd", med, best, ""))

    logits = torch.randn(1024, 8192, requires_grad=True)
    targets = torch.randint(0, 8192, (1024,))
    med, best = timed(fwd_bwd([logits], lambda: F.cross_entropy(logits, targets), 1.0), 10, 2)
    rows.append(("crossEntropy [1024,8192] fwd+bwd", med, best, ""))

    block = Block(256, 4)
    x = torch.randn(8, 128, 256, requires_grad=True)
    g = torch.randn(8, 128, 256)
    params = [x, *block.parameters()]
    med, best = timed(fwd_bwd(params, lambda: block(x), g), 10, 2)
    rows.append(("transformer block B=8 T=128 C=256 H=4 fwd+bwd", med, best,
                 f"{8 * 128 / med * 1e3:.1f} tokens/s"))

    vocab, context, width, layers, heads, batch = 8192, 128, 256, 4, 4, 8
    model = TinyGpt(vocab, context, width, layers, heads)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    ids = torch.randint(0, vocab, (batch, context))
    targets = torch.randint(0, vocab, (batch * context,))

    def train_step():
        logits = model(ids)
        F.cross_entropy(logits.view(-1, vocab), targets).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    med, best = timed(train_step, 5, 1)
    rows.append((f"GPT train step ({layers} layers, {width} wide, vocab {vocab}, {batch}×{context})",
                 med, best, f"{batch * context / med * 1e3:.1f} tokens/s"))

    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"BLAS: {loaded_blas()}, Python {platform.python_version()}")
    width_name = max(len(r[0]) for r in rows)
    print(f"| {'benchmark'.ljust(width_name)} | median ms | best ms | rate |")
    print(f"| {'-' * width_name} | --------- | ------- | ---- |")
    for name, med, best, rate in rows:
        print(f"| {name.ljust(width_name)} | {med:9.2f} | {best:7.2f} | {rate} |")


if __name__ == "__main__":
    main()
