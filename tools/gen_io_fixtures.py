"""Generate the checkpoint-IO fixtures under tests/fixtures/io/.

Run with a Python that has PyTorch (>= 1.6, zip serialisation):

    python3 tools/gen_io_fixtures.py

Outputs (all tiny):
  halfs.safetensors / halfs.expected.json
      F16, BF16, I64 and I32 tensors holding edge values (subnormals, infinities, NaN, signed
      zero, extremes); the expected f32 bit patterns come from torch's own conversion.
  strided.bin / strided.expected.json
      torch.save of a module's state_dict (an OrderedDict with _metadata) extended with views
      that share storages at offsets and with non-contiguous strides, half/bf16/int64 tensors,
      a scalar, an empty tensor and an nn.Parameter.
  deflated.bin
      strided.bin re-packed with deflate compression (torch writes stored entries).

and, under tests/fixtures/tokenizers/ (no PyTorch needed: `python3 tools/gen_io_fixtures.py
tokenizers`), hand-built tokenizers in the `tokenizers` JSON format whose encodings the tests
derive by hand:
  tiny-bpe/         GPT-2-style byte-level BPE: GPT-2's 256 byte symbols (same ids), nine
                    merges spelling "hello" and " world", and <|endoftext|>; the config names no
                    special tokens, as GPT-2's does not.
  tiny-bpe-slow/    the same tokenizer as the legacy vocab.json + merges.txt pair.
  tiny-wordlevel/   a lower-casing word-level tokenizer with [PAD]/[UNK]/[EOS].
  tiny-bert-vocab/  a WordPiece vocabulary as a bare vocab.txt (BERT's legacy files).
"""

import collections
import io
import json
import os
import struct
import zipfile

import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
OUT = os.path.join(ROOT, "io")
TOKENIZERS = os.path.join(ROOT, "tokenizers")

def safetensors_dtype(t):
    import torch

    return {
        torch.float16: "F16",
        torch.bfloat16: "BF16",
        torch.float32: "F32",
        torch.int64: "I64",
        torch.int32: "I32",
    }[t.dtype]


def f32_bits(t):
    """The f32 bit pattern of each element after torch converts it to float32."""
    import torch

    return [int(b) & 0xFFFFFFFF for b in t.float().contiguous().view(torch.int32).flatten().tolist()]


def write_safetensors(path, tensors):
    """Write a safetensors file by hand (the format is 8-byte length + JSON header + bytes)."""
    import torch

    header = {"__metadata__": {"format": "pt"}}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        raw = t.contiguous().view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {
            "dtype": safetensors_dtype(t),
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def halfs():
    import torch

    f16_bits = [
        0x0000, 0x8000, 0x3C00, 0xC000, 0x7BFF, 0x0400, 0x0001, 0x03FF, 0x8001,
        0x7C00, 0xFC00, 0x7E00, 0x3555, 0x5640,
    ]
    bf16_bits = [
        0x0000, 0x8000, 0x3F80, 0xBFC0, 0x7F7F, 0x0080, 0x0001, 0x7F80, 0xFF80, 0x7FC0,
        0x4049, 0xC2F7,
    ]
    f16 = torch.tensor(f16_bits, dtype=torch.int32).to(torch.int16).view(torch.float16).reshape(2, 7)
    bf16 = torch.tensor(bf16_bits, dtype=torch.int32).to(torch.int16).view(torch.bfloat16).reshape(3, 4)
    i64 = torch.tensor([[0, 1, -1], [2 ** 24, -(2 ** 24), 123456]], dtype=torch.int64)
    i32 = torch.tensor([7, -8, 2 ** 20], dtype=torch.int32)
    tensors = collections.OrderedDict(f16=f16, bf16=bf16, i64=i64, i32=i32)
    write_safetensors(os.path.join(OUT, "halfs.safetensors"), tensors)
    expected = {
        "f16": {"input_bits": f16_bits, "shape": [2, 7], "f32_bits": f32_bits(f16)},
        "bf16": {"input_bits": bf16_bits, "shape": [3, 4], "f32_bits": f32_bits(bf16)},
        "i64": {"shape": [2, 3], "values": i64.flatten().tolist()},
        "i32": {"shape": [3], "values": i32.flatten().tolist()},
    }
    with open(os.path.join(OUT, "halfs.expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


def strided():
    import torch

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    state = module.state_dict()  # OrderedDict carrying _metadata (pickled via BUILD)
    base = torch.arange(30, dtype=torch.float32).reshape(5, 6) / 7
    state["base"] = base
    state["transposed"] = base.t()  # same storage, strides (1, 6)
    state["offset_slice"] = base[1:4, 2:5]  # storage offset 8, strides (6, 1)
    state["every_other"] = base[::2, 1::3]  # offset 1, strides (12, 3)
    state["row"] = base[3]  # offset 18, contiguous
    state["expanded"] = torch.tensor([1.5, -2.5]).reshape(2, 1).expand(2, 3)  # stride 0
    half = (torch.arange(12, dtype=torch.float32) - 5.25).to(torch.float16).reshape(3, 4)
    state["half_t"] = half.t()
    state["bf16"] = (torch.arange(6, dtype=torch.float32) * 1.1).to(torch.bfloat16)
    state["long"] = torch.tensor([[3, -4], [5, 2 ** 23]], dtype=torch.int64).t()
    state["scalar"] = torch.tensor(2.75)
    state["empty"] = torch.zeros(0, 4)
    state["param"] = torch.nn.Parameter(torch.tensor([[0.25, -0.5]]))
    path = os.path.join(OUT, "strided.bin")
    torch.save(state, path)
    expected = {
        name: {"shape": list(t.shape), "values": t.detach().float().flatten().tolist()}
        for name, t in state.items()
    }
    with open(os.path.join(OUT, "strided.expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    # The same archive with deflated entries.
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(
        os.path.join(OUT, "deflated.bin"), "w", compression=zipfile.ZIP_DEFLATED
    ) as dst:
        for info in src.infolist():
            # A fixed timestamp keeps the output byte-stable across runs.
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))


def byte_symbols():
    """GPT-2's reversible byte → printable character table, in GPT-2's vocabulary order."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in printable] + [chars[b] for b in range(256) if b not in printable]


BPE_MERGES = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"]


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)
        f.write("\n")


def tokenizers():
    vocab = {symbol: i for i, symbol in enumerate(byte_symbols())}
    for merge in BPE_MERGES:
        vocab[merge.replace(" ", "")] = len(vocab)
    eos = len(vocab)
    byte_level = {"add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    write_json(os.path.join(TOKENIZERS, "tiny-bpe", "tokenizer.json"), {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{
            "id": eos, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": True, "special": True,
        }],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", **byte_level},
        "post_processor": {"type": "ByteLevel", **byte_level},
        "decoder": {"type": "ByteLevel", **byte_level},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
            "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
            "vocab": vocab, "merges": BPE_MERGES,
        },
    })
    gpt2_config = {"model_max_length": 8, "tokenizer_class": "GPT2Tokenizer"}
    write_json(os.path.join(TOKENIZERS, "tiny-bpe", "tokenizer_config.json"), gpt2_config)
    slow_vocab = dict(vocab)
    slow_vocab["<|endoftext|>"] = eos
    write_json(os.path.join(TOKENIZERS, "tiny-bpe-slow", "vocab.json"), slow_vocab)
    with open(os.path.join(TOKENIZERS, "tiny-bpe-slow", "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(BPE_MERGES) + "\n")
    write_json(os.path.join(TOKENIZERS, "tiny-bpe-slow", "tokenizer_config.json"), gpt2_config)

    words = ["[PAD]", "[UNK]", "[EOS]", "the", "movie", "was", "great", "terrible", ".", "!"]
    write_json(os.path.join(TOKENIZERS, "tiny-wordlevel", "tokenizer.json"), {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": w, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for i, w in enumerate(words[:3])
        ],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": {w: i for i, w in enumerate(words)},
                  "unk_token": "[UNK]"},
    })
    write_json(os.path.join(TOKENIZERS, "tiny-wordlevel", "tokenizer_config.json"), {
        "pad_token": "[PAD]", "unk_token": "[UNK]", "eos_token": "[EOS]",
        "model_max_length": 16, "clean_up_tokenization_spaces": True,
    })

    bert = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "##s", "great", "!",
            "good", "##ness", "un", "##believ", "##able"]
    os.makedirs(os.path.join(TOKENIZERS, "tiny-bert-vocab"), exist_ok=True)
    with open(os.path.join(TOKENIZERS, "tiny-bert-vocab", "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(bert) + "\n")
    write_json(os.path.join(TOKENIZERS, "tiny-bert-vocab", "tokenizer_config.json"), {
        "do_lower_case": True, "model_max_length": 12, "tokenizer_class": "DistilBertTokenizer",
    })


if __name__ == "__main__":
    which = sys.argv[1:] or ["io", "tokenizers"]
    if "io" in which:
        os.makedirs(OUT, exist_ok=True)
        halfs()
        strided()
    if "tokenizers" in which:
        tokenizers()
    for folder in (OUT, TOKENIZERS):
        for base, _, files in sorted(os.walk(folder)):
            for name in sorted(files):
                print(os.path.relpath(os.path.join(base, name), ROOT), os.path.getsize(os.path.join(base, name)))
