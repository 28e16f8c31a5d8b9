"""Generate tiny T5 fixtures under tests/fixtures/models/ that the t5-a reference does not cover.

It first runs its own forward pass on the t5-a reference checkpoint (tests/fixtures/models/t5-a,
computed independently) and stops unless it reproduces that reference.

Run with a Python that has PyTorch (transformers is not needed):

    /usr/bin/python3 tools/gen_t5_fixtures.py

Two variants, each written as
  config.json        a transformers T5Config
  model.safetensors  random F32 weights under transformers' names, written by hand (8-byte
                     little-endian header length, JSON header, raw little-endian bytes), saved as
                     transformers saves them: `shared.weight` once, `lm_head.weight` only when untied
  expected.json      an encoder batch (right-padded), a decoder batch (right-padded, with its
                     mask), the encoder's last hidden state, teacher-forced logits, and greedy
                     tokens, from the forward pass below in float64 on the stored f32 values

- `t5-relu-tied/`: T5 1.0 style: `feed_forward_proj: "relu"`, head tied to `shared` (the decoder
  output is scaled by d_model ** -0.5 before it), 3 heads of d_kv 4 (inner width 12, not d_model
  16), 2 encoder and 3 decoder blocks, encoder rows long enough (up to 26 tokens) that offsets
  pass `relative_attention_max_distance` 12 and hit the clamp to the last bucket.
- `t5-gated-silu/`: `feed_forward_proj: "gated-silu"` (wo(silu(wi_0 x) * wi_1 x)), untied head,
  so a gated activation other than T5 1.1's gelu is checked.

The forward pass follows Raffel et al. 2020 as transformers implements it: pre-norm blocks with
RMS layer norm (x / sqrt(mean(x^2) + eps) * w, no bias, no mean), attention without 1/sqrt(d_kv),
a relative position bias computed from block 0's table of each stack (bucket of key position minus
query position; half the buckets per direction in the encoder, past only in the decoder; exact
below num_buckets / 4 (encoder) or / 2 (decoder), logarithmic above, clamped to the last bucket;
the logarithm in float32 as transformers takes it) and added in every block of that stack;
cross-attention has no position bias; masked keys get the lowest finite float32. Dropout is off.
"""

import json
import math
import os
import struct

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "models")
MIN = torch.finfo(torch.float32).min


def write_safetensors(path, tensors):
    """tensors: list of (name, float tensor); stored as F32 in the given order."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, t in tensors:
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def rounded(x):
    """Nested lists with 12 significant digits."""
    if isinstance(x, torch.Tensor):
        x = x.tolist()
    if isinstance(x, list):
        return [rounded(v) for v in x]
    if isinstance(x, float):
        return float(f"{x:.12g}")
    return x


# --- weights -----------------------------------------------------------------------------------


def make_weights(c, gen):
    """Random weights (as f32 values) under transformers' names, in its parameter order."""
    d, inner, ff = c["d_model"], c["num_heads"] * c["d_kv"], c["d_ff"]
    gated = c["feed_forward_proj"].startswith("gated-")

    def normal(*shape, std):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * std).to(torch.float32)

    def near_one(n):
        return (1 + 0.2 * torch.randn(n, generator=gen, dtype=torch.float64)).to(torch.float32)

    w = [("shared.weight", normal(c["vocab_size"], d, std=1.0))]

    def attention(prefix, with_bias):
        w.append((f"{prefix}.q.weight", normal(inner, d, std=(d * c["d_kv"]) ** -0.5)))
        w.append((f"{prefix}.k.weight", normal(inner, d, std=d**-0.5)))
        w.append((f"{prefix}.v.weight", normal(inner, d, std=d**-0.5)))
        w.append((f"{prefix}.o.weight", normal(d, inner, std=inner**-0.5)))
        if with_bias:
            # Larger than the init's scale so positions visibly matter.
            w.append((f"{prefix}.relative_attention_bias.weight", normal(c["relative_attention_num_buckets"], c["num_heads"], std=1.0)))

    def feed_forward(prefix):
        if gated:
            w.append((f"{prefix}.DenseReluDense.wi_0.weight", normal(ff, d, std=d**-0.5)))
            w.append((f"{prefix}.DenseReluDense.wi_1.weight", normal(ff, d, std=d**-0.5)))
        else:
            w.append((f"{prefix}.DenseReluDense.wi.weight", normal(ff, d, std=d**-0.5)))
        w.append((f"{prefix}.DenseReluDense.wo.weight", normal(d, ff, std=ff**-0.5)))
        w.append((f"{prefix}.layer_norm.weight", near_one(d)))

    for i in range(c["num_layers"]):
        p = f"encoder.block.{i}"
        attention(f"{p}.layer.0.SelfAttention", i == 0)
        w.append((f"{p}.layer.0.layer_norm.weight", near_one(d)))
        feed_forward(f"{p}.layer.1")
    w.append(("encoder.final_layer_norm.weight", near_one(d)))
    for i in range(c["num_decoder_layers"]):
        p = f"decoder.block.{i}"
        attention(f"{p}.layer.0.SelfAttention", i == 0)
        w.append((f"{p}.layer.0.layer_norm.weight", near_one(d)))
        attention(f"{p}.layer.1.EncDecAttention", False)
        w.append((f"{p}.layer.1.layer_norm.weight", near_one(d)))
        feed_forward(f"{p}.layer.2")
    w.append(("decoder.final_layer_norm.weight", near_one(d)))
    if not c["tie_word_embeddings"]:
        w.append(("lm_head.weight", normal(c["vocab_size"], d, std=1.0)))
    return w


# --- the forward pass, float64 -----------------------------------------------------------------


def bucket(relative, bidirectional, num_buckets, max_distance):
    """Bucket of one offset (memory - query), the logarithm in float32 as transformers takes it."""
    b = 0
    if bidirectional:
        num_buckets //= 2
        if relative > 0:
            b += num_buckets
        n = abs(relative)
    else:
        n = -min(relative, 0)
    max_exact = num_buckets // 2
    if n < max_exact:
        return b + n
    ratio = torch.log(torch.tensor(n, dtype=torch.float32) / max_exact)
    large = max_exact + int(ratio / math.log(max_distance / max_exact) * (num_buckets - max_exact))
    return b + min(large, num_buckets - 1)


def position_bias(table, queries, keys, bidirectional, c):
    """[H, queries, keys] from a [num_buckets, H] table."""
    idx = torch.tensor(
        [[bucket(j - i, bidirectional, c["relative_attention_num_buckets"], c["relative_attention_max_distance"]) for j in range(keys)] for i in range(queries)]
    )
    return table[idx].permute(2, 0, 1)


def rms_norm(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def act(name):
    return {
        "relu": torch.relu,
        "gelu": lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2))),
        "gelu_new": lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        "silu": lambda x: x * torch.sigmoid(x),
    }[name]


def attend(W, prefix, x, source, bias, c):
    """bias: [B or 1, H, Tq, Tk] additive (positions and masks)."""
    b, t, _ = x.shape
    s = source.shape[1]
    h, dk = c["num_heads"], c["d_kv"]
    q = (x @ W[f"{prefix}.q.weight"].T).view(b, t, h, dk).transpose(1, 2)
    k = (source @ W[f"{prefix}.k.weight"].T).view(b, s, h, dk).transpose(1, 2)
    v = (source @ W[f"{prefix}.v.weight"].T).view(b, s, h, dk).transpose(1, 2)
    probs = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1)
    out = (probs @ v).transpose(1, 2).reshape(b, t, h * dk)
    return out @ W[f"{prefix}.o.weight"].T


def feed_forward(W, prefix, x, c):
    # transformers reads "gated-gelu" as the tanh approximation (T5 1.1).
    f = act("gelu_new" if c["feed_forward_proj"] == "gated-gelu" else c["feed_forward_proj"].split("-")[-1])
    if c["feed_forward_proj"].startswith("gated-"):
        hidden = f(x @ W[f"{prefix}.wi_0.weight"].T) * (x @ W[f"{prefix}.wi_1.weight"].T)
    else:
        hidden = f(x @ W[f"{prefix}.wi.weight"].T)
    return hidden @ W[f"{prefix}.wo.weight"].T


def encoder(W, ids, mask, c):
    eps = c["layer_norm_epsilon"]
    b, s = ids.shape
    x = W["shared.weight"][ids]
    pos = position_bias(W["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], s, s, True, c)
    keep = mask[:, None, None, :].bool()
    bias = torch.where(keep, pos[None], torch.tensor(MIN, dtype=torch.float64))
    for i in range(c["num_layers"]):
        p = f"encoder.block.{i}.layer"
        x = x + attend(W, f"{p}.0.SelfAttention", rms_norm(x, W[f"{p}.0.layer_norm.weight"], eps), rms_norm(x, W[f"{p}.0.layer_norm.weight"], eps), bias, c)
        x = x + feed_forward(W, f"{p}.1.DenseReluDense", rms_norm(x, W[f"{p}.1.layer_norm.weight"], eps), c)
    return rms_norm(x, W["encoder.final_layer_norm.weight"], eps)


def decoder_logits(W, enc, enc_mask, dec_ids, dec_mask, c):
    eps = c["layer_norm_epsilon"]
    b, t = dec_ids.shape
    x = W["shared.weight"][dec_ids]
    pos = position_bias(W["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], t, t, False, c)
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    keep = causal[None, None] & dec_mask[:, None, None, :].bool()
    self_bias = torch.where(keep, pos[None], torch.tensor(MIN, dtype=torch.float64))
    cross_bias = torch.where(enc_mask[:, None, None, :].bool(), torch.tensor(0.0, dtype=torch.float64), torch.tensor(MIN, dtype=torch.float64))
    for i in range(c["num_decoder_layers"]):
        p = f"decoder.block.{i}.layer"
        h = rms_norm(x, W[f"{p}.0.layer_norm.weight"], eps)
        x = x + attend(W, f"{p}.0.SelfAttention", h, h, self_bias, c)
        x = x + attend(W, f"{p}.1.EncDecAttention", rms_norm(x, W[f"{p}.1.layer_norm.weight"], eps), enc, cross_bias, c)
        x = x + feed_forward(W, f"{p}.2.DenseReluDense", rms_norm(x, W[f"{p}.2.layer_norm.weight"], eps), c)
    x = rms_norm(x, W["decoder.final_layer_norm.weight"], eps)
    if c["tie_word_embeddings"]:
        return (x * c["d_model"] ** -0.5) @ W["shared.weight"].T
    return x @ W["lm_head.weight"].T


def greedy(W, enc, enc_mask, c, steps):
    """Greedy decoding by full re-runs (no cache): the tokens after the start token."""
    b = enc.shape[0]
    ids = torch.full((b, 1), c["decoder_start_token_id"], dtype=torch.long)
    gaps = []
    for _ in range(steps):
        logits = decoder_logits(W, enc, enc_mask, ids, torch.ones_like(ids), c)[:, -1]
        top2 = logits.topk(2, dim=-1).values
        gaps.append(float((top2[:, 0] - top2[:, 1]).min()))
        ids = torch.cat([ids, logits.argmax(-1, keepdim=True)], dim=1)
    return ids[:, 1:], min(gaps)


# --- cases -------------------------------------------------------------------------------------


def right_pad(rows, pad=0):
    width = max(len(r) for r in rows)
    ids = [r + [pad] * (width - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (width - len(r)) for r in rows]
    return torch.tensor(ids), torch.tensor(mask)


def write_variant(name, c, seed, enc_lengths, dec_lengths):
    gen = torch.Generator().manual_seed(seed)
    weights = make_weights(c, gen)
    W = {k: v.to(torch.float64) for k, v in weights}
    v = c["vocab_size"]
    # Real tokens avoid pad 0 and eos 1; encoder rows end with eos, decoder rows start with 0.
    enc_rows = [torch.randint(2, v, (n - 1,), generator=gen).tolist() + [1] for n in enc_lengths]
    dec_rows = [[0] + torch.randint(2, v, (n - 1,), generator=gen).tolist() for n in dec_lengths]
    enc_ids, enc_mask = right_pad(enc_rows)
    dec_ids, dec_mask = right_pad(dec_rows)
    enc = encoder(W, enc_ids, enc_mask, c)
    logits = decoder_logits(W, enc, enc_mask, dec_ids, dec_mask, c)
    tokens, gap = greedy(W, enc, enc_mask, c, 6)
    assert gap > 1e-3, f"{name}: greedy top-two gap {gap} too small to compare tokens exactly"
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), weights)
    config = {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", **c}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    expected = {
        "note": "float64 forward of tools/gen_t5_fixtures.py on the stored f32 weights; compare encoder "
        "states where attention_mask is 1 and logits where decoder_attention_mask is 1",
        "input_ids": enc_ids.tolist(),
        "attention_mask": enc_mask.tolist(),
        "decoder_input_ids": dec_ids.tolist(),
        "decoder_attention_mask": dec_mask.tolist(),
        "encoder_last_hidden_state": rounded(enc),
        "logits": rounded(logits),
        "greedy_new_tokens": tokens.tolist(),
        "greedy_min_top2_gap": float(f"{gap:.6g}"),
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    print(f"{name}: {sum(t.numel() for _, t in weights)} weights, greedy gap {gap:.4g}")


BASE = {
    "vocab_size": 50,
    "d_model": 16,
    "d_kv": 4,
    "num_heads": 3,
    "d_ff": 24,
    "num_layers": 2,
    "num_decoder_layers": 3,
    "relative_attention_num_buckets": 10,
    "relative_attention_max_distance": 12,
    "dropout_rate": 0.1,
    "layer_norm_epsilon": 1e-6,
    "initializer_factor": 1.0,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "decoder_start_token_id": 0,
    "is_encoder_decoder": True,
}

def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(body[a:b]), dtype=torch.float32).view(info["shape"]).to(torch.float64)
    return out


def check_against_t5_a():
    """This forward on the t5-a reference checkpoint, against that checkpoint's expected.json."""
    folder = os.path.join(ROOT, "t5-a")
    c = json.load(open(os.path.join(folder, "config.json")))
    e = json.load(open(os.path.join(folder, "expected.json")))
    W = read_safetensors(os.path.join(folder, "model.safetensors"))
    worst = 0.0
    for side in ["right", "left"]:
        ids, mask = torch.tensor(e[f"input_ids_{side}"]), torch.tensor(e[f"attention_mask_{side}"])
        enc = encoder(W, ids, mask, c)
        dec = torch.tensor(e["decoder_input_ids"])
        logits = decoder_logits(W, enc, mask, dec, torch.ones_like(dec), c)
        worst = max(worst, float((logits - torch.tensor(e[f"logits_{side}"], dtype=torch.float64)).abs().max()))
        want = torch.tensor(e[f"encoder_last_hidden_state_{side}"], dtype=torch.float64)
        worst = max(worst, float(((enc - want).abs() * mask[:, :, None]).max()))
    tokens, _ = greedy(W, encoder(W, torch.tensor(e["input_ids_right"]), torch.tensor(e["attention_mask_right"]), c), torch.tensor(e["attention_mask_right"]), c, 8)
    assert tokens.tolist() == e["greedy_new_tokens"], tokens.tolist()
    assert worst < 1e-9, f"t5-a: this forward differs from the reference by {worst}"
    print(f"t5-a: this forward matches the reference (largest difference {worst:.2g}), greedy tokens equal")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    check_against_t5_a()
    write_variant("t5-relu-tied", {**BASE, "feed_forward_proj": "relu", "tie_word_embeddings": True}, 11, [26, 9, 3], [14, 14, 6])
    write_variant("t5-gated-silu", {**BASE, "feed_forward_proj": "gated-silu", "tie_word_embeddings": False, "num_decoder_layers": 2}, 12, [12, 5], [8, 4])
