"""Plain-PyTorch Llama-family and OPT causal LMs (no transformers), written from the published
architectures, for side-by-side benchmarks and reference fixtures of config variants.

Both read transformers' config.json fields and parameter names, so a state dict loads from a
Hugging Face checkpoint folder unchanged. Positions follow the attention mask
(cumsum(mask) - 1), the KV cache holds keys after RoPE, and attention masks padded keys.

Used by tools/bench_torch_llama.py and tools/gen_causal_variants.py; needs only torch (1.13
works) and the standard library.
"""

import json
import math
import struct
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    """A safetensors file as a dict of tensors (F32/F64/F16/BF16)."""
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = bytearray(data[8 + n + begin : 8 + n + end])
        t = torch.frombuffer(raw, dtype=DTYPES[entry["dtype"]]) if raw else torch.empty(0)
        out[name] = t.reshape(entry["shape"]).clone()
    return out


@torch.no_grad()
def load_safetensors_into(model, path):
    """Copies a safetensors file into `model`'s parameters one tensor at a time (never the whole
    file in memory); tensors the model lacks are skipped. Returns the names loaded."""
    params = model.state_dict()
    loaded = []
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        for name, entry in header.items():
            if name == "__metadata__" or name not in params:
                continue
            begin, end = entry["data_offsets"]
            f.seek(8 + n + begin)
            raw = bytearray(f.read(end - begin))
            src = torch.frombuffer(raw, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
            params[name].copy_(src)
            loaded.append(name)
    return loaded


def write_safetensors(path, tensors):
    """Writes tensors (contiguous, any of DTYPES) as safetensors with {format: pt} metadata."""
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def positions_from_mask(mask, t):
    """cumsum(mask) - 1 over the last t columns, padded slots clamped to 0."""
    return (mask.cumsum(-1) - 1).clamp(min=0)[:, -t:]


def attend(q, k, v, mask, scale):
    """softmax(scale q k^T) v, causal (aligned to the last query) and key-padding masked."""
    tq, tk = q.shape[2], k.shape[2]
    causal = torch.ones(tq, tk, dtype=torch.bool).tril(tk - tq)
    keep = causal[None, None] & mask[:, None, None, :].bool()
    scores = (q @ k.transpose(-1, -2)) * scale
    scores = scores.masked_fill(~keep, torch.finfo(scores.dtype).min)
    return scores.softmax(-1) @ v


# ---- Llama family ---------------------------------------------------------------------------


def rope_inv_freq(cfg):
    d = cfg["head_dim"]
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    s = cfg.get("rope_scaling")
    if not s:
        return inv
    kind = s.get("rope_type", s.get("type", "default"))
    if kind == "linear":
        return inv / s["factor"]
    if kind == "llama3":
        factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
        ctx = s["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > ctx / low, inv / factor, inv)
        smooth = (ctx / wavelen - low) / (high - low)
        blended = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= ctx / high) & (wavelen <= ctx / low)
        return torch.where(medium, blended, scaled)
    return inv


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


class LlamaLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, hd = cfg["hidden_size"], cfg["head_dim"]
        h, kv, f = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["intermediate_size"]
        qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
        o_bias = cfg["model_type"] == "llama" and cfg.get("attention_bias", False)
        mlp_bias = cfg["model_type"] == "llama" and cfg.get("mlp_bias", False)
        self.h, self.kv, self.hd, self.eps = h, kv, hd, cfg.get("rms_norm_eps", 1e-6)
        self.self_attn = nn.Module()
        self.self_attn.q_proj = nn.Linear(d, h * hd, bias=qkv_bias)
        self.self_attn.k_proj = nn.Linear(d, kv * hd, bias=qkv_bias)
        self.self_attn.v_proj = nn.Linear(d, kv * hd, bias=qkv_bias)
        self.self_attn.o_proj = nn.Linear(h * hd, d, bias=o_bias)
        self.mlp = nn.Module()
        self.mlp.gate_proj = nn.Linear(d, f, bias=mlp_bias)
        self.mlp.up_proj = nn.Linear(d, f, bias=mlp_bias)
        self.mlp.down_proj = nn.Linear(f, d, bias=mlp_bias)
        self.input_layernorm = nn.Module()
        self.input_layernorm.weight = nn.Parameter(torch.ones(d))
        self.post_attention_layernorm = nn.Module()
        self.post_attention_layernorm.weight = nn.Parameter(torch.ones(d))

    def norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def forward(self, x, mask, cos, sin, past):
        b, t, _ = x.shape
        a = self.self_attn
        y = self.norm(x, self.input_layernorm.weight)
        q = a.q_proj(y).view(b, t, self.h, self.hd).transpose(1, 2)
        k = a.k_proj(y).view(b, t, self.kv, self.hd).transpose(1, 2)
        v = a.v_proj(y).view(b, t, self.kv, self.hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        g = self.h // self.kv
        o = attend(q, k.repeat_interleave(g, 1), v.repeat_interleave(g, 1), mask, self.hd ** -0.5)
        x = x + a.o_proj(o.transpose(1, 2).reshape(b, t, -1))
        y = self.norm(x, self.post_attention_layernorm.weight)
        m = self.mlp
        return x + m.down_proj(F.silu(m.gate_proj(y)) * m.up_proj(y)), (k, v)


class LlamaForCausalLM(nn.Module):
    """Llama, Qwen2 or Mistral by config (Mistral's sliding window is not applied)."""

    def __init__(self, cfg):
        super().__init__()
        cfg = dict(cfg)
        cfg.setdefault("num_key_value_heads", cfg["num_attention_heads"])
        cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
        self.cfg = cfg
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.model.layers = nn.ModuleList(LlamaLayer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.model.norm = nn.Module()
        self.model.norm.weight = nn.Parameter(torch.ones(cfg["hidden_size"]))
        self.tied = cfg.get("tie_word_embeddings", False)
        if not self.tied:
            self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        self.register_buffer("inv_freq", rope_inv_freq(cfg), persistent=False)

    def head_weight(self):
        return self.model.embed_tokens.weight if self.tied else self.lm_head.weight

    def forward(self, ids, mask, past=None, last_only=False):
        t = ids.shape[1]
        pos = positions_from_mask(mask, t).to(torch.float64)
        angles = (pos[..., None] * self.inv_freq).to(self.model.norm.weight.dtype)
        emb = torch.cat([angles, angles], -1)[:, None]
        cos, sin = emb.cos(), emb.sin()
        x = self.model.embed_tokens(ids)
        presents = []
        for i, layer in enumerate(self.model.layers):
            x, kv = layer(x, mask, cos, sin, None if past is None else past[i])
            presents.append(kv)
        x = self.model.layers[0].norm(x, self.model.norm.weight)
        if last_only:
            x = x[:, -1:]
        return x @ self.head_weight().t(), presents


# ---- OPT ------------------------------------------------------------------------------------


class OPTLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, bias = cfg["hidden_size"], cfg.get("enable_bias", True)
        self.h, self.pre = cfg["num_attention_heads"], cfg.get("do_layer_norm_before", True)
        self.act = {"relu": F.relu, "gelu": F.gelu}[cfg.get("activation_function", "relu")]
        self.self_attn = nn.Module()
        for name in ["k_proj", "v_proj", "q_proj", "out_proj"]:
            setattr(self.self_attn, name, nn.Linear(d, d, bias=bias))
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, cfg["ffn_dim"], bias=bias)
        self.fc2 = nn.Linear(cfg["ffn_dim"], d, bias=bias)
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, x, mask, past):
        b, t, d = x.shape
        hd, a = d // self.h, self.self_attn
        y = self.self_attn_layer_norm(x) if self.pre else x
        q = (a.q_proj(y) * hd ** -0.5).view(b, t, self.h, hd).transpose(1, 2)
        k = a.k_proj(y).view(b, t, self.h, hd).transpose(1, 2)
        v = a.v_proj(y).view(b, t, self.h, hd).transpose(1, 2)
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        o = attend(q, k, v, mask, 1.0).transpose(1, 2).reshape(b, t, d)
        x = x + a.out_proj(o)
        if not self.pre:
            x = self.self_attn_layer_norm(x)
        y = self.final_layer_norm(x) if self.pre else x
        x = x + self.fc2(self.act(self.fc1(y)))
        if not self.pre:
            x = self.final_layer_norm(x)
        return x, (k, v)


class OPTForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        e = cfg.get("word_embed_proj_dim", d)
        self.cfg = cfg
        dec = nn.Module()
        dec.embed_tokens = nn.Embedding(cfg["vocab_size"], e)
        dec.embed_positions = nn.Embedding(cfg.get("max_position_embeddings", 2048) + 2, d)
        if e != d:
            dec.project_out = nn.Linear(d, e, bias=False)
            dec.project_in = nn.Linear(e, d, bias=False)
        self.final_norm = cfg.get("do_layer_norm_before", True) and not cfg.get(
            "_remove_final_layer_norm", False)
        if self.final_norm:
            dec.final_layer_norm = nn.LayerNorm(d)
        dec.layers = nn.ModuleList(OPTLayer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.model = nn.Module()
        self.model.decoder = dec
        self.projected = e != d

    def forward(self, ids, mask, past=None, last_only=False):
        dec = self.model.decoder
        pos = positions_from_mask(mask, ids.shape[1])
        x = dec.embed_tokens(ids)
        if self.projected:
            x = dec.project_in(x)
        x = x + dec.embed_positions(pos + 2)
        presents = []
        for i, layer in enumerate(dec.layers):
            x, kv = layer(x, mask, None if past is None else past[i])
            presents.append(kv)
        if self.final_norm:
            x = dec.final_layer_norm(x)
        if self.projected:
            x = dec.project_out(x)
        if last_only:
            x = x[:, -1:]
        return x @ dec.embed_tokens.weight.t(), presents


def build(cfg):
    """The model class for a config's model_type."""
    return OPTForCausalLM(cfg) if cfg["model_type"] == "opt" else LlamaForCausalLM(cfg)


@torch.no_grad()
def greedy(model, prompts, new_tokens, pad=0):
    """Greedy continuation of left-padded prompts with the KV cache: the new tokens per row."""
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    out, past, feed = [], None, ids
    for _ in range(new_tokens):
        logits, past = model(feed, mask, past, last_only=True)
        nxt = logits[:, -1].argmax(-1, keepdim=True)
        out.append(nxt)
        feed = nxt
        mask = torch.cat([mask, torch.ones_like(nxt)], 1)
    return torch.cat(out, 1).tolist()
