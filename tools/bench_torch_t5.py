"""PyTorch baseline for bench/t5_vs_torch.ts: a T5 with random weights, forward and KV-cached
greedy generation, on the CPU with 2 threads (--threads), in float32, eager, no gradients.

Run with Debian's Python (the one with torch); bench/t5_vs_torch.ts runs it beside Tether:

    /usr/bin/python3 tools/bench_torch_t5.py --batch 4 --src 64 --tgt 32 --new 32 --iters 3

Prints one JSON line: the shape, median and best seconds per forward and per generation, the
tokens/s they give, and the process's peak RSS (ru_maxrss) in MB.

The model is written here in plain PyTorch (transformers is not installed): T5 1.1 as flan-T5
uses it (gated-gelu feed-forward, untied head, RMS norm, relative position bias from block 0 of
each stack, no 1/sqrt(d_kv)). Generation runs the encoder once, computes each decoder block's
cross-attention keys/values once, and grows the self-attention cache by one position per step,
as transformers' generate does; it emits exactly --new tokens per row (no stop token).
"""

import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MIN = torch.finfo(torch.float32).min


def bucket_table(queries, keys, start, bidirectional, num_buckets, max_distance):
    rel = torch.arange(keys)[None, :] - (torch.arange(queries)[:, None] + start)
    b = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        b += (rel > 0).long() * num_buckets
        n = rel.abs()
    else:
        n = -torch.clamp(rel, max=0)
    max_exact = num_buckets // 2
    large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).long()
    large = torch.clamp(large, max=num_buckets - 1)
    return b + torch.where(n < max_exact, n, large)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class Attention(nn.Module):
    def __init__(self, c, has_bias):
        super().__init__()
        inner = c["num_heads"] * c["d_kv"]
        self.h, self.dk = c["num_heads"], c["d_kv"]
        self.q = nn.Linear(c["d_model"], inner, bias=False)
        self.k = nn.Linear(c["d_model"], inner, bias=False)
        self.v = nn.Linear(c["d_model"], inner, bias=False)
        self.o = nn.Linear(inner, c["d_model"], bias=False)
        self.relative_attention_bias = nn.Embedding(c["relative_attention_num_buckets"], self.h) if has_bias else None

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.h, self.dk).transpose(1, 2)

    def kv(self, source):
        return self.split(self.k(source)), self.split(self.v(source))

    def forward(self, x, bias, past=None, fixed=None):
        q = self.split(self.q(x))
        if fixed is not None:
            k, v = fixed
        else:
            k, v = self.kv(x)
            if past is not None:
                k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        probs = torch.softmax(q @ k.transpose(-1, -2) + bias, -1)
        b, _, t, _ = q.shape
        return self.o((probs @ v).transpose(1, 2).reshape(b, t, self.h * self.dk)), (k, v)


class FF(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi_0 = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wi_1 = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wo = nn.Linear(c["d_ff"], c["d_model"], bias=False)

    def forward(self, x):
        return self.wo(F.gelu(self.wi_0(x), approximate="tanh") * self.wi_1(x))


class Block(nn.Module):
    def __init__(self, c, first, decoder):
        super().__init__()
        eps = c["layer_norm_epsilon"]
        self.ln0, self.attn = RMSNorm(c["d_model"], eps), Attention(c, first)
        self.cross = Attention(c, False) if decoder else None
        self.ln1 = RMSNorm(c["d_model"], eps) if decoder else None
        self.ln2, self.ff = RMSNorm(c["d_model"], eps), FF(c)

    def forward(self, x, bias, past=None, cross=None, cross_bias=None):
        a, present = self.attn(self.ln0(x), bias, past)
        x = x + a
        if self.cross is not None:
            x = x + self.cross(self.ln1(x), cross_bias, fixed=cross)[0]
        return x + self.ff(self.ln2(x)), present


class T5(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.shared = nn.Embedding(c["vocab_size"], c["d_model"])
        self.enc = nn.ModuleList([Block(c, i == 0, False) for i in range(c["num_layers"])])
        self.dec = nn.ModuleList([Block(c, i == 0, True) for i in range(c["num_decoder_layers"])])
        self.enc_ln = RMSNorm(c["d_model"], c["layer_norm_epsilon"])
        self.dec_ln = RMSNorm(c["d_model"], c["layer_norm_epsilon"])
        self.lm_head = nn.Linear(c["d_model"], c["vocab_size"], bias=False)

    def bias(self, stack, queries, keys, start, bidirectional):
        table = stack[0].attn.relative_attention_bias.weight
        idx = bucket_table(queries, keys, start, bidirectional, self.c["relative_attention_num_buckets"], self.c["relative_attention_max_distance"])
        return table[idx].permute(2, 0, 1)[None]

    def encode(self, ids, mask):
        s = ids.shape[1]
        bias = self.bias(self.enc, s, s, 0, True).masked_fill(mask[:, None, None, :] == 0, MIN)
        x = self.shared(ids)
        for block in self.enc:
            x = block(x, bias)[0]
        return self.enc_ln(x)

    def cross_kv(self, enc):
        return [block.cross.kv(enc) for block in self.dec]

    def decode(self, ids, enc_mask, cross, past=None):
        t = ids.shape[1]
        start = 0 if past is None else past[0][0].shape[2]
        causal = torch.ones(t, start + t, dtype=torch.bool).tril(start)
        bias = self.bias(self.dec, t, start + t, start, False).masked_fill(~causal, MIN)
        cross_bias = torch.zeros(enc_mask.shape[0], 1, 1, enc_mask.shape[1]).masked_fill(enc_mask[:, None, None, :] == 0, MIN)
        x = self.shared(ids)
        presents = []
        for i, block in enumerate(self.dec):
            x, p = block(x, bias, None if past is None else past[i], cross[i], cross_bias)
            presents.append(p)
        return self.lm_head(self.dec_ln(x)), presents


def timed(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--src", type=int, default=64)
    ap.add_argument("--tgt", type=int, default=32)
    ap.add_argument("--new", type=int, default=32)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    c = {
        "vocab_size": 32128, "d_model": 512, "d_kv": 64, "num_heads": 6, "d_ff": 1024,
        "num_layers": 8, "num_decoder_layers": 8, "relative_attention_num_buckets": 32,
        "relative_attention_max_distance": 128, "layer_norm_epsilon": 1e-6,
    }
    torch.manual_seed(0)
    model = T5(c).eval()
    g = torch.Generator().manual_seed(1)
    src = torch.randint(2, c["vocab_size"], (a.batch, a.src), generator=g)
    mask = torch.ones_like(src)
    tgt = torch.randint(2, c["vocab_size"], (a.batch, a.tgt), generator=g)
    tgt[:, 0] = 0

    def forward():
        enc = model.encode(src, mask)
        model.decode(tgt, mask, model.cross_kv(enc))

    def generate():
        enc = model.encode(src, mask)
        cross = model.cross_kv(enc)
        ids = torch.zeros(a.batch, 1, dtype=torch.long)
        past = None
        for _ in range(a.new):
            logits, past = model.decode(ids, mask, cross, past)
            ids = logits[:, -1].argmax(-1, keepdim=True)

    with torch.no_grad():
        fwd = timed(forward, a.iters, a.warmup)
        gen = timed(generate, a.iters, a.warmup)
    print(json.dumps({
        "side": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in model.parameters()),
        "forward_s": {"median": fwd[0], "best": fwd[1]},
        "forward_tokens_per_s": a.batch * (a.src + a.tgt) / fwd[0],
        "generate_s": {"median": gen[0], "best": gen[1]},
        "generate_tokens_per_s": a.batch * a.new / gen[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
