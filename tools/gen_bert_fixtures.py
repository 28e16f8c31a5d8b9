"""Generate tiny BERT and RoBERTa sequence-classification fixtures under tests/fixtures/models/.

Run with a Python that has PyTorch (transformers is not needed):

    /usr/bin/python3 tools/gen_bert_fixtures.py

For each of bert-tiny/ and roberta-tiny/ it writes
  config.json        a transformers config (BertConfig / RobertaConfig field names)
  model.safetensors  random F32 weights under transformers' names, written by hand
                     (8-byte little-endian header length, JSON header, raw little-endian bytes)
  expected.json      a padded batch with the encoder's last hidden state and the classifier
                     logits, from the forward pass below run in float64 on the stored f32 values

The forward passes are written here from the published architectures (Devlin et al. 2019;
Liu et al. 2019) as transformers implements them: post-LayerNorm blocks, exact erf GELU,
key-padding masks added as the lowest finite float, BERT's pooler (tanh of a dense layer on the
first token) before its classifier, RoBERTa's positions counted from padding_idx + 1 over
non-padding tokens and its dense + tanh + out_proj head on the first token. Dropout is off
(eval mode).
"""

import json
import math
import os
import struct

import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "models")


# --- checkpoint writing ------------------------------------------------------------------------


def write_safetensors(path, tensors):
    """tensors: list of (name, float tensor); stored as F32 in the given order."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, t in tensors:
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# --- random weights ----------------------------------------------------------------------------


def make_weights(cfg, prefix, head, gen):
    """Random weights under transformers' names. Values are rounded to f32 once, here, so the
    float64 reference below and any f32 reader see the same numbers."""
    d, inner = cfg["hidden_size"], cfg["intermediate_size"]

    def normal(*shape, std=0.2):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * std).float().double()

    def norm_weight(n):
        return (1 + normal(n, std=0.1)).float().double()

    w = []

    def linear(name, n_out, n_in):
        w.append((f"{name}.weight", normal(n_out, n_in)))
        w.append((f"{name}.bias", normal(n_out, std=0.1)))

    def layer_norm(name, n):
        w.append((f"{name}.weight", norm_weight(n)))
        w.append((f"{name}.bias", normal(n, std=0.1)))

    e = f"{prefix}.embeddings"
    w.append((f"{e}.word_embeddings.weight", normal(cfg["vocab_size"], d, std=0.5)))
    w.append((f"{e}.position_embeddings.weight", normal(cfg["max_position_embeddings"], d, std=0.5)))
    w.append((f"{e}.token_type_embeddings.weight", normal(cfg["type_vocab_size"], d, std=0.5)))
    layer_norm(f"{e}.LayerNorm", d)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}.encoder.layer.{i}"
        linear(f"{p}.attention.self.query", d, d)
        linear(f"{p}.attention.self.key", d, d)
        linear(f"{p}.attention.self.value", d, d)
        linear(f"{p}.attention.output.dense", d, d)
        layer_norm(f"{p}.attention.output.LayerNorm", d)
        linear(f"{p}.intermediate.dense", inner, d)
        linear(f"{p}.output.dense", d, inner)
        layer_norm(f"{p}.output.LayerNorm", d)
    n_labels = len(cfg["id2label"])
    if head == "bert":
        linear(f"{prefix}.pooler.dense", d, d)
        linear("classifier", n_labels, d)
    else:
        linear("classifier.dense", d, d)
        linear("classifier.out_proj", n_labels, d)
    return w


# --- reference forward (float64, eval mode) ----------------------------------------------------


def roberta_position_ids(input_ids, padding_idx):
    real = (input_ids != padding_idx).long()
    return torch.cumsum(real, dim=1) * real + padding_idx


def encoder(cfg, w, prefix, input_ids, attention_mask, token_type_ids, position_ids):
    d, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    dh = d // heads
    eps = cfg["layer_norm_eps"]
    e = f"{prefix}.embeddings"
    x = (
        w[f"{e}.word_embeddings.weight"][input_ids]
        + w[f"{e}.token_type_embeddings.weight"][token_type_ids]
        + w[f"{e}.position_embeddings.weight"][position_ids]
    )
    x = F.layer_norm(x, (d,), w[f"{e}.LayerNorm.weight"], w[f"{e}.LayerNorm.bias"], eps)
    b, t = input_ids.shape
    hidden_keys = (1.0 - attention_mask.double())[:, None, None, :] * torch.finfo(torch.float64).min

    def lin(name, v):
        return v @ w[f"{name}.weight"].T + w[f"{name}.bias"]

    def heads_of(v):
        return v.view(b, t, heads, dh).transpose(1, 2)

    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}.encoder.layer.{i}"
        q = heads_of(lin(f"{p}.attention.self.query", x))
        k = heads_of(lin(f"{p}.attention.self.key", x))
        v = heads_of(lin(f"{p}.attention.self.value", x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + hidden_keys
        context = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        a = lin(f"{p}.attention.output.dense", context) + x
        a = F.layer_norm(
            a, (d,), w[f"{p}.attention.output.LayerNorm.weight"],
            w[f"{p}.attention.output.LayerNorm.bias"], eps,
        )
        h = F.gelu(lin(f"{p}.intermediate.dense", a))
        x = F.layer_norm(
            lin(f"{p}.output.dense", h) + a, (d,), w[f"{p}.output.LayerNorm.weight"],
            w[f"{p}.output.LayerNorm.bias"], eps,
        )
    return x


def bert_logits(w, hidden):
    pooled = torch.tanh(hidden[:, 0] @ w["bert.pooler.dense.weight"].T + w["bert.pooler.dense.bias"])
    return pooled @ w["classifier.weight"].T + w["classifier.bias"]


def roberta_logits(w, hidden):
    x = torch.tanh(hidden[:, 0] @ w["classifier.dense.weight"].T + w["classifier.dense.bias"])
    return x @ w["classifier.out_proj.weight"].T + w["classifier.out_proj.bias"]


# --- the two fixtures --------------------------------------------------------------------------


def labels(n):
    return {str(i): f"LABEL_{i}" for i in range(n)}, {f"LABEL_{i}": i for i in range(n)}


def bert_case():
    id2label = {"0": "negative", "1": "neutral", "2": "positive"}
    cfg = {
        "model_type": "bert",
        "architectures": ["BertForSequenceClassification"],
        "vocab_size": 99,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 24,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "id2label": id2label,
        "label2id": {v: int(k) for k, v in id2label.items()},
    }
    # Right-padded (pad 0), as a tokenizer pads for classification; segment B in two rows.
    input_ids = [
        [2, 17, 45, 98, 3, 61, 7, 30, 3],
        [2, 11, 3, 54, 76, 3, 0, 0, 0],
        [2, 90, 3, 0, 0, 0, 0, 0, 0],
    ]
    token_type_ids = [
        [0, 0, 0, 0, 0, 1, 1, 1, 1],
        [0, 0, 0, 1, 1, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]
    return cfg, "bert", input_ids, token_type_ids


def roberta_case():
    id2label, label2id = labels(1)
    cfg = {
        "model_type": "roberta",
        "architectures": ["RobertaForSequenceClassification"],
        "vocab_size": 101,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 48,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 14,
        "type_vocab_size": 1,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-5,
        "bos_token_id": 0,
        "pad_token_id": 1,
        "eos_token_id": 2,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "id2label": id2label,
        "label2id": label2id,
    }
    # A full row, a right-padded row and a left-padded row (pad 1): positions start at
    # pad + 1 = 2 on the first real token and pads keep position 1.
    input_ids = [
        [0, 44, 87, 12, 5, 63, 29, 100, 2],
        [0, 71, 38, 9, 2, 1, 1, 1, 1],
        [1, 1, 1, 0, 55, 14, 80, 33, 2],
    ]
    return cfg, "roberta", input_ids, None


def build(name, case, seed):
    cfg, family, input_ids, token_type_ids = case
    gen = torch.Generator().manual_seed(seed)
    weights = make_weights(cfg, family, family, gen)
    w = dict(weights)
    ids = torch.tensor(input_ids)
    pad = cfg["pad_token_id"]
    mask = (ids != pad).long()
    types = torch.tensor(token_type_ids) if token_type_ids is not None else torch.zeros_like(ids)
    if family == "roberta":
        positions = roberta_position_ids(ids, pad)
    else:
        positions = torch.arange(ids.shape[1])[None, :].expand_as(ids)
    hidden = encoder(cfg, w, family, ids, mask, types, positions)
    logits = bert_logits(w, hidden) if family == "bert" else roberta_logits(w, hidden)

    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out, "model.safetensors"), weights)
    expected = {
        "case": name,
        "note": "float64 forward on the stored f32 weights, eval mode; compare hidden states "
        "where attention_mask is 1",
        "input_ids": input_ids,
        "attention_mask": mask.tolist(),
        "position_ids": positions.tolist(),
        "last_hidden_state": hidden.tolist(),
        "logits": logits.tolist(),
    }
    if token_type_ids is not None:
        expected["token_type_ids"] = token_type_ids
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)
        f.write("\n")
    sizes = {f: os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)}
    print(name, sizes, "logits", [[round(v, 4) for v in row] for row in logits.tolist()])


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    build("bert-tiny", bert_case(), 20240611)
    build("roberta-tiny", roberta_case(), 20240612)
