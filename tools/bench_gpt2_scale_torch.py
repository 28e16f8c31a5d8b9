"""PyTorch baseline of bench/gpt2_scale.ts: GPT-2 124M and DistilBERT-base written out in plain
PyTorch (no transformers), random weights, the same shapes and the same work as the Tether side.

Run by the bench driver (one process per measurement, so peak RSS is this side's alone):

    /usr/bin/python3 tools/bench_gpt2_scale_torch.py --workload forward --threads 2

Prints one JSON line: {"side", "workload", "times_s", "peak_rss_bytes", "load", ...}; the peak
RSS is the workload's (the kernel's counter is restarted after the model is built).

Workloads (what a PyTorch user of TRL 0.7 runs, eager, as transformers computes it):
- generate: 64 prompts of 8 tokens, 64 sampled new tokens each (top_k 0, top_p 1: plain
  multinomial over the softmax), KV cache.
- forward: no-grad forward of 64 x 136 tokens, then log-probs of the next tokens
  (TRL's logprobs_from_logits: log_softmax over the vocabulary, gather).
- lora_step: LoRA r=32 (alpha 32, on c_attn) + value head; a PPO minibatch of 16 x 136 tokens:
  forward, log-probs of the response tokens, clipped policy loss + value loss, backward, Adam.
- distilbert: distilbert-base-cased shaped classifier (2 labels), no-grad forward of 64 x 160.
- matmul: the best GFLOP/s of single products at GPT-2's shapes.
Dropout is off everywhere (p = 0) on both sides.
"""

import argparse
import gc
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, POSITIONS, WIDTH, LAYERS, HEADS = 50257, 1024, 768, 12, 12
BERT_VOCAB, BERT_POSITIONS, BERT_LAYERS, BERT_FF = 28996, 512, 6, 3072


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Conv1D(nn.Module):
    def __init__(self, nx, nf):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.02)
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)


class LoraConv1D(nn.Module):
    """PEFT's LoRA over a Conv1D (fan_in_fan_out): base(x) + scale * (x A^T) B^T."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        nx, nf = base.weight.shape
        self.lora_A = nn.Parameter(torch.empty(r, nx).uniform_(-1 / math.sqrt(nx), 1 / math.sqrt(nx)))
        self.lora_B = nn.Parameter(torch.randn(nf, r) * 0.01)
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scale


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = Conv1D(WIDTH, 3 * WIDTH)
        self.c_proj = Conv1D(WIDTH, WIDTH)

    def forward(self, x, mask, past):
        b, t, _ = x.shape
        hd = WIDTH // HEADS
        q, k, v = self.c_attn(x).split(WIDTH, dim=2)
        q = q.view(b, t, HEADS, hd).transpose(1, 2)
        k = k.view(b, t, HEADS, hd).transpose(1, 2)
        v = v.view(b, t, HEADS, hd).transpose(1, 2)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        tk = k.shape[2]
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        causal = torch.ones(t, tk, dtype=torch.bool).tril(tk - t)
        w = torch.where(causal, w, torch.tensor(torch.finfo(w.dtype).min))
        w = w + (1.0 - mask[:, None, None, :]) * torch.finfo(w.dtype).min
        w = torch.softmax(w, dim=-1)
        y = torch.matmul(w, v).transpose(1, 2).reshape(b, t, WIDTH)
        return self.c_proj(y), (k, v)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(WIDTH)
        self.attn = Attention()
        self.ln_2 = nn.LayerNorm(WIDTH)
        self.c_fc = Conv1D(WIDTH, 4 * WIDTH)
        self.c_proj = Conv1D(4 * WIDTH, WIDTH)

    def forward(self, x, mask, past):
        a, present = self.attn(self.ln_1(x), mask, past)
        x = x + a
        x = x + self.c_proj(gelu_new(self.c_fc(self.ln_2(x))))
        return x, present


class GPT2(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, WIDTH)
        self.wpe = nn.Embedding(POSITIONS, WIDTH)
        self.h = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(WIDTH)
        self.v_head = None
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)

    def forward(self, ids, mask, past=None):
        t = ids.shape[1]
        t_past = 0 if past is None else past[0][0].shape[2]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, t_past:].long()
        x = self.wte(ids) + self.wpe(positions)
        presents = []
        for i, block in enumerate(self.h):
            x, p = block(x, mask, None if past is None else past[i])
            presents.append(p)
        hidden = self.ln_f(x)
        logits = hidden @ self.wte.weight.t()
        values = self.v_head(hidden).squeeze(-1) if self.v_head is not None else None
        return logits, values, presents


def logprobs_from_logits(logits, labels):
    """TRL 0.7's logprobs_from_logits."""
    logp = F.log_softmax(logits, dim=2)
    return torch.gather(logp, 2, labels.unsqueeze(2)).squeeze(-1)


class DistilBert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(BERT_VOCAB, WIDTH)
        self.pos = nn.Embedding(BERT_POSITIONS, WIDTH)
        self.ln = nn.LayerNorm(WIDTH, eps=1e-12)
        self.layers = nn.ModuleList()
        for _ in range(BERT_LAYERS):
            self.layers.append(nn.ModuleDict(dict(
                q=nn.Linear(WIDTH, WIDTH), k=nn.Linear(WIDTH, WIDTH), v=nn.Linear(WIDTH, WIDTH),
                o=nn.Linear(WIDTH, WIDTH), sa_ln=nn.LayerNorm(WIDTH, eps=1e-12),
                lin1=nn.Linear(WIDTH, BERT_FF), lin2=nn.Linear(BERT_FF, WIDTH),
                out_ln=nn.LayerNorm(WIDTH, eps=1e-12))))
        self.pre_classifier = nn.Linear(WIDTH, WIDTH)
        self.classifier = nn.Linear(WIDTH, 2)

    def forward(self, ids, mask):
        b, t = ids.shape
        hd = WIDTH // HEADS
        x = self.ln(self.word(ids) + self.pos(torch.arange(t)[None, :]))
        hidden_mask = (mask == 0).view(b, 1, 1, t)
        for L in self.layers:
            def heads(y):
                return y.view(b, t, HEADS, hd).transpose(1, 2)
            q = heads(L["q"](x)) / math.sqrt(hd)
            k, v = heads(L["k"](x)), heads(L["v"](x))
            s = torch.matmul(q, k.transpose(2, 3)).masked_fill(hidden_mask, torch.finfo(q.dtype).min)
            ctx = torch.matmul(torch.softmax(s, dim=-1), v).transpose(1, 2).reshape(b, t, WIDTH)
            x = L["sa_ln"](L["o"](ctx) + x)
            x = L["out_ln"](L["lin2"](F.gelu(L["lin1"](x))) + x)
        return self.classifier(F.relu(self.pre_classifier(x[:, 0])))


def tokens(rows, cols, vocab, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (rows, cols), generator=g)


def run_generate(timed):
    model = GPT2().eval()
    prompts = tokens(64, 8, VOCAB, 1)
    torch.manual_seed(0)

    def work():
        with torch.no_grad():
            ids, mask = prompts, torch.ones(64, 8)
            logits, _, past = model(ids, mask)
            out = []
            for _ in range(64):
                probs = torch.softmax(logits[:, -1, :], dim=-1)
                nxt = torch.multinomial(probs, 1)
                out.append(nxt)
                mask = torch.cat([mask, torch.ones(64, 1)], dim=1)
                logits, _, past = model(nxt, mask, past)
            return torch.cat(out, 1)

    return timed(work), 64 * 64


def run_forward(timed):
    model = GPT2().eval()
    ids = tokens(64, 136, VOCAB, 2)
    mask = torch.ones(64, 136)

    def work():
        with torch.no_grad():
            logits, _, _ = model(ids, mask)
            return logprobs_from_logits(logits[:, :-1, :], ids[:, 1:])

    return timed(work), 64 * 136


def run_lora_step(timed):
    model = GPT2()
    for p in model.parameters():
        p.requires_grad_(False)
    for block in model.h:
        block.attn.c_attn = LoraConv1D(block.attn.c_attn, 32, 32)
    model.v_head = nn.Linear(WIDTH, 1)
    trainable = [p for n, p in model.named_parameters() if "lora_" in n or n.startswith("v_head")]
    opt = torch.optim.Adam(trainable, lr=1.41e-5, eps=1e-8)
    ids = tokens(16, 136, VOCAB, 3)
    mask = torch.ones(16, 136)
    g = torch.Generator().manual_seed(4)
    old_lp = -torch.rand(16, 135, generator=g) * 10
    adv = torch.randn(16, 135, generator=g)
    returns = torch.randn(16, 135, generator=g)
    resp = torch.zeros(16, 135)
    resp[:, 7:] = 1  # the 128 response tokens after an 8-token query

    def work():
        opt.zero_grad()
        logits, values, _ = model(ids, mask)
        lp = logprobs_from_logits(logits[:, :-1, :], ids[:, 1:])
        ratio = torch.exp(lp - old_lp)
        pg = torch.max(-adv * ratio, -adv * torch.clamp(ratio, 0.8, 1.2))
        vf = (values[:, :-1] - returns) ** 2
        n = resp.sum()
        loss = (pg * resp).sum() / n + 0.1 * 0.5 * (vf * resp).sum() / n
        loss.backward()
        opt.step()
        return loss

    return timed(work), 16 * 136


def run_distilbert(timed):
    model = DistilBert().eval()
    ids = tokens(64, 160, BERT_VOCAB, 5)
    lengths = [100 + (i * 37) % 61 for i in range(64)]
    mask = torch.tensor([[1.0 if j < n else 0.0 for j in range(160)] for n in lengths])

    def work():
        with torch.no_grad():
            return model(ids, mask)

    return timed(work), 64 * 160


MATMUL_SHAPES = [  # (m, k, n, transposed right operand)
    (2176, 768, 2304, False), (2176, 768, 3072, False), (2176, 3072, 768, False),
    (2176, 768, 50257, True), (8704, 768, 3072, False), (10240, 768, 3072, False),
]


def run_matmul(_timed):
    best = []
    for m, k, n, trans in MATMUL_SHAPES:
        a = torch.randn(m, k)
        b = torch.randn(n, k) if trans else torch.randn(k, n)
        times = []
        for _ in range(4):
            t0 = time.perf_counter()
            _ = a @ b.t() if trans else a @ b
            times.append(time.perf_counter() - t0)
        best.append({"m": m, "k": k, "n": n, "gflops": 2 * m * k * n / min(times) / 1e9})
    return best


def read_load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def reset_peak_rss():
    """Collects garbage and restarts the kernel's peak counter (the build's peak is returned)."""
    before = peak_rss()
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return before


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True,
                    choices=["generate", "forward", "lora_step", "distilbert", "matmul"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--iters", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1234)
    load = [read_load()]
    cpu = []
    out = {"side": f"torch-{args.threads}t", "workload": args.workload}

    def timed(fn):
        out["build_peak_rss_bytes"] = reset_peak_rss()
        for _ in range(args.warmup):
            fn()
        times = []
        for _ in range(args.iters):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        return times

    if args.workload == "matmul":
        out["matmul"] = run_matmul(timed)
    else:
        runner = {"generate": run_generate, "forward": run_forward, "lora_step": run_lora_step,
                  "distilbert": run_distilbert}[args.workload]
        times, n_tokens = runner(timed)
        out["times_s"] = times
        out["cpu_s"] = cpu
        out["tokens"] = n_tokens
    load.append(read_load())
    out["peak_rss_bytes"] = peak_rss()
    out["load"] = load
    out["torch"] = torch.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
