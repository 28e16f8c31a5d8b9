"""PyTorch baseline for bench/llama_generation.ts: the same checkpoint, the same batches, in the
plain-PyTorch Llama of tools/torch_causal.py, on the CPU (2 threads unless --threads), float32,
no autograd.

    /usr/bin/python3 tools/bench_torch_llama.py CHECKPOINT_DIR [--forward-batch 1] [--tokens 128]
        [--gen-batch 1] [--prompt 16] [--new 32] [--iters 3] [--threads 2]

Prints one JSON line: forward tokens/s (median of the timed iterations), KV-cached greedy
generation tokens/s (new tokens per second), the generated tokens of the first iteration, and
peak RSS (ru_maxrss).
"""

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_causal import build, greedy, load_safetensors_into  # noqa: E402



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--forward-batch", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--gen-batch", type=int, default=1)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--new", type=int, default=32)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    folder = Path(a.checkpoint)
    cfg = json.loads((folder / "config.json").read_text())
    t0 = time.perf_counter()
    model = build(cfg)
    loaded = load_safetensors_into(model, folder / "model.safetensors")
    assert len(loaded) == len(model.state_dict()), "the checkpoint does not fill the model"
    model.eval()
    load_s = time.perf_counter() - t0
    vocab = cfg["vocab_size"]
    ids = torch.tensor([[(i * 7919 + r * 104729) % vocab for i in range(a.tokens)]
                        for r in range(a.forward_batch)])
    mask = torch.ones_like(ids)
    times = []
    with torch.no_grad():
        for i in range(a.iters + 1):
            t = time.perf_counter()
            model(ids, mask)
            if i > 0:
                times.append(time.perf_counter() - t)
    forward_tps = a.forward_batch * a.tokens / statistics.median(times)
    prompts = [[(i * 31 + r * 17) % vocab for i in range(a.prompt)] for r in range(a.gen_batch)]
    gen_times, tokens = [], None
    for i in range(a.iters + 1):
        t = time.perf_counter()
        out = greedy(model, prompts, a.new)
        if i > 0:
            gen_times.append(time.perf_counter() - t)
        tokens = tokens or out
    gen_tps = a.gen_batch * a.new / statistics.median(gen_times)
    print(json.dumps({
        "impl": f"PyTorch {torch.__version__}, {a.threads} thread{'s' if a.threads > 1 else ''}",
        "load_s": load_s,
        "forward_tokens_per_s": forward_tps,
        "forward_ms": [t * 1e3 for t in times],
        "generate_tokens_per_s": gen_tps,
        "generate_ms": [t * 1e3 for t in gen_times],
        "tokens": tokens,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
