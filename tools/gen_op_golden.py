#!/usr/bin/env python3
"""Writes tests/fixtures/op_golden.json: PyTorch float64 outputs and input gradients for every
core op, on tiny seeded inputs, so the TypeScript op suite can compare each backend against them.

Run with a Python that has torch (1.13 here):  /usr/bin/python3 tools/gen_op_golden.py

Every case has a name "<op>/<variant>" whose <op> is the TypeScript API name; tests/core/
op_cases.ts holds the same names. Inputs are rounded to 4 decimals (so f32 and f64 backends start
from nearly the same numbers); float inputs marked `grad` get d(sum(out * seed))/d(input) with a
fixed random `seed` (the upstream gradient). Where an op has a kink (relu, abs, clamp, maximum,
max), inputs keep a margin from it, and cases placed exactly on the kink carry `noGradcheck`
with the reason, so finite differences skip them while the golden still pins PyTorch's choice.
"""

import json
import math
import pathlib
import zlib

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "op_golden.json"

# The score hidden attention keys receive: the lowest finite f32, as core/ops/attention.ts documents
# (MASKED_LOGIT, Hugging Face's choice). Finite, so a row with every key hidden is uniform, not NaN.
ATTENTION_MASK_VALUE = float(torch.finfo(torch.float32).min)

CASES = {}


# ---- seeded input builders ------------------------------------------------------------------

class Inputs:
    """Draws a case's inputs from a generator seeded by the case name (stable when cases move)."""

    def __init__(self, name):
        self.g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        self.specs = []

    def _add(self, name, values, grad):
        self.specs.append({"name": name, "values": values, "grad": grad})

    def randn(self, name, shape, scale=1.0, grad=True):
        v = torch.randn(shape, generator=self.g) * scale
        self._add(name, round4(v), grad)

    def uniform(self, name, shape, lo, hi, grad=True):
        v = lo + (hi - lo) * torch.rand(shape, generator=self.g)
        self._add(name, round4(v), grad)

    def away(self, name, shape, kinks, margin=0.05, scale=1.0, grad=True):
        """Normal draws pushed at least `margin` away from each kink point."""
        v = torch.randn(shape, generator=self.g) * scale
        for k in kinks:
            d = v - k
            close = d.abs() < margin
            v = torch.where(close, k + torch.where(d >= 0, 1.0, -1.0) * (margin + d.abs()), v)
        self._add(name, round4(v), grad)

    def distinct(self, name, shape, grad=True):
        """Values at least 0.05 apart (no ties for max/min/argmax)."""
        n = math.prod(shape)
        perm = torch.randperm(n, generator=self.g).double()
        jitter = torch.rand(n, generator=self.g) * 0.03
        v = (perm - n / 2) * 0.11 + jitter
        self._add(name, round4(v.reshape(shape)), grad)

    def near(self, name, other, gap=0.05, grad=True):
        """Another tensor differing from input `other` by at least `gap` everywhere (no ties)."""
        base = self.value(other)
        d = torch.randn(base.shape, generator=self.g)
        d = torch.where(d >= 0, 1.0, -1.0) * (gap + d.abs())
        self._add(name, round4(base + d), grad)

    def ints(self, name, shape, high, low=0):
        v = torch.randint(low, high, shape, generator=self.g).double()
        self._add(name, v, False)

    def const(self, name, values, grad=False):
        self._add(name, round4(torch.as_tensor(values, dtype=torch.float64)), grad)

    def value(self, name):
        return next(s["values"] for s in self.specs if s["name"] == name)


def round4(v):
    return torch.round(v * 1e4) / 1e4


def case(name, build, fn, params=None, no_gradcheck=None):
    """Registers a case: `build(Inputs)` draws the inputs, `fn(tensors, params)` is the reference."""
    assert name not in CASES, name
    inp = Inputs(name)
    build(inp)
    CASES[name] = (inp, fn, params or {}, no_gradcheck)


# ---- reference helpers (PyTorch spellings of our ops' semantics) ------------------------------

def dims(x, axis):
    if axis is None:
        return tuple(range(x.dim()))
    return tuple(axis) if isinstance(axis, list) else (axis,)


def reduce_like_ours(op, x, p):
    d = dims(x, p.get("axis"))
    keep = p.get("keepDims", False)
    if op == "sum":
        return x.sum(dim=d, keepdim=keep)
    if op == "mean":
        return x.mean(dim=d, keepdim=keep)
    if op == "max":
        return torch.amax(x, dim=d, keepdim=keep)
    if op == "min":
        return torch.amin(x, dim=d, keepdim=keep)
    if op == "variance":
        return torch.var(x, dim=d, unbiased=p.get("correction", 1) == 1, keepdim=keep)
    raise ValueError(op)


def slice_like_ours(x, begin, size):
    idx = []
    for i, (b, s) in enumerate(zip(begin, size)):
        b = b + x.shape[i] if b < 0 else b
        s = x.shape[i] - b if s == -1 else s
        idx.append(slice(b, b + s))
    return x[tuple(idx)]


def sum_to(x, shape):
    lead = x.dim() - len(shape)
    if lead:
        x = x.sum(dim=tuple(range(lead)))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and x.shape[i] != 1)
    return x.sum(dim=axes, keepdim=True) if axes else x


def masked_mean(v, m, axis=None):
    if axis is None:
        return (v * m).sum() / m.sum()
    return (v * m).sum(dim=axis) / m.sum(dim=axis)


def masked_var(v, m, unbiased=True):
    centered = v - masked_mean(v, m)
    var = masked_mean(centered ** 2, m)
    if unbiased:
        n = m.sum()
        var = var * (n / (n - 1))
    return var


def masked_whiten(v, m, shift_mean=True):
    mu, var = masked_mean(v, m), masked_var(v, m)
    out = (v - mu) * torch.rsqrt(var + 1e-8)
    return out if shift_mean else out + mu


def attention_ref(q, k, v, mask=None, causal=False, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-1, -2)) * scale
    tq, tk = scores.shape[-2], scores.shape[-1]
    if causal:
        # Query i sees key j when j <= i + (tk - tq): the last query sees every key (a KV cache).
        future = torch.ones(tq, tk).triu(1 + tk - tq).bool()
        scores = scores.masked_fill(future, ATTENTION_MASK_VALUE)
    if mask is not None:
        scores = scores.masked_fill(mask[:, None, None, :] == 0, ATTENTION_MASK_VALUE)
    return torch.softmax(scores, dim=-1) @ v


def op_t(x, trans):
    return x.transpose(-1, -2) if trans else x


# ---- elementwise binary ---------------------------------------------------------------------

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}

# Shapes of (a, b) for tensor-tensor cases.
BINARY_SHAPES = {
    "same": ([2, 3, 4], [2, 3, 4]),
    "row": ([2, 3, 4], [4]),
    "both": ([2, 1, 4], [3, 1]),
    "scalarTensor": ([2, 3], []),
    "leftBroadcast": ([3, 1], [2, 3, 4]),
}

for op, f in BINARY.items():
    for variant, (sa, sb) in BINARY_SHAPES.items():
        def build(i, sa=sa, sb=sb, op=op):
            i.randn("a", sa)
            if op == "div":
                i.away("b", sb, [0.0], margin=0.5)
            else:
                i.randn("b", sb)
        case(f"{op}/{variant}", build, lambda x, p, f=f: f(x[0], x[1]))
    case(f"{op}/numberRight", lambda i: i.away("a", [2, 3], [0.0], margin=0.5),
         lambda x, p, f=f: f(x[0], torch.tensor(p["c"])), {"c": 0.3})
    case(f"{op}/numberLeft", lambda i: i.away("a", [2, 3], [0.0], margin=0.5),
         lambda x, p, f=f: f(torch.tensor(p["c"]), x[0]), {"c": -1.7})

case("pow/same", lambda i: (i.uniform("a", [2, 3, 4], 0.2, 2.0), i.randn("b", [2, 3, 4])),
     lambda x, p: torch.pow(x[0], x[1]))
case("pow/broadcast", lambda i: (i.uniform("a", [2, 3, 4], 0.2, 2.0), i.uniform("b", [4], -2, 3)),
     lambda x, p: torch.pow(x[0], x[1]))
case("pow/numberExponent", lambda i: i.uniform("a", [2, 3], 0.2, 2.0),
     lambda x, p: torch.pow(x[0], p["c"]), {"c": 3})
case("pow/sqrtExponent", lambda i: i.uniform("a", [2, 3], 0.2, 2.0),
     lambda x, p: torch.pow(x[0], p["c"]), {"c": 0.5})
case("pow/numberBase", lambda i: i.randn("b", [2, 3]),
     lambda x, p: torch.pow(torch.tensor(p["c"]), x[0]), {"c": 2.5})

for op, f in {"maximum": torch.maximum, "minimum": torch.minimum}.items():
    case(f"{op}/same", lambda i: (i.randn("a", [2, 3, 4]), i.near("b", "a")),
         lambda x, p, f=f: f(x[0], x[1]))
    case(f"{op}/broadcast", lambda i: (i.distinct("a", [2, 3, 4]), i.const("b", [0.055, -0.385, 0.165, 1.045], grad=True)),
         lambda x, p, f=f: f(x[0], x[1]))
    case(f"{op}/number", lambda i: i.away("a", [2, 3], [0.2]),
         lambda x, p, f=f: f(x[0], torch.tensor(p["c"])), {"c": 0.2})
    case(f"{op}/ties", lambda i: (i.const("a", [[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], grad=True),
                                  i.const("b", [[1.0, 2.0, 0.5], [-3.0, 0.0, 4.0]], grad=True)),
         lambda x, p, f=f: f(x[0], x[1]), no_gradcheck="ties split the gradient evenly (a kink)")

COMPARE = {
    "greater": torch.gt, "greaterEqual": torch.ge, "less": torch.lt,
    "lessEqual": torch.le, "equal": torch.eq,
}


def with_ties(i):
    i.randn("a", [2, 3, 4], grad=False)
    a = i.value("a")
    b = torch.where(torch.rand(a.shape, generator=i.g) < 0.3, a, round4(torch.randn(a.shape, generator=i.g)))
    i._add("b", b, False)


for op, f in COMPARE.items():
    case(f"{op}/ties", with_ties, lambda x, p, f=f: f(x[0], x[1]).double())
    case(f"{op}/broadcast", lambda i: (i.randn("a", [2, 3, 4], grad=False), i.randn("b", [3, 1], grad=False)),
         lambda x, p, f=f: f(x[0], x[1]).double())
    case(f"{op}/number", lambda i: i.const("a", [[0.5, -1.0, 0.25], [0.5, 2.0, 0.0]]),
         lambda x, p, f=f: f(x[0], torch.tensor(p["c"])).double(), {"c": 0.5})

# ---- elementwise unary ----------------------------------------------------------------------

UNARY = {
    "neg": (torch.neg, lambda i: i.randn("x", [2, 3, 4])),
    "exp": (torch.exp, lambda i: i.randn("x", [2, 3, 4], scale=2.0)),
    "log": (torch.log, lambda i: i.uniform("x", [2, 3, 4], 0.05, 5.0)),
    "sqrt": (torch.sqrt, lambda i: i.uniform("x", [2, 3, 4], 0.05, 5.0)),
    "rsqrt": (torch.rsqrt, lambda i: i.uniform("x", [2, 3, 4], 0.05, 5.0)),
    "tanh": (torch.tanh, lambda i: i.randn("x", [2, 3, 4], scale=2.0)),
    "sigmoid": (torch.sigmoid, lambda i: i.randn("x", [2, 3, 4], scale=3.0)),
    "logSigmoid": (F.logsigmoid, lambda i: i.randn("x", [2, 3, 4], scale=3.0)),
    "relu": (torch.relu, lambda i: i.away("x", [2, 3, 4], [0.0])),
    "gelu": (F.gelu, lambda i: i.randn("x", [2, 3, 4], scale=2.0)),
    "geluTanh": (lambda x: F.gelu(x, approximate="tanh"), lambda i: i.randn("x", [2, 3, 4], scale=2.0)),
    "abs": (torch.abs, lambda i: i.away("x", [2, 3, 4], [0.0])),
    "square": (torch.square, lambda i: i.randn("x", [2, 3, 4])),
}
for op, (f, build) in UNARY.items():
    case(f"{op}/basic", build, lambda x, p, f=f: f(x[0]))

WIDE = [-40.0, -20.0, -8.5, -1.0, 0.0, 1.0, 8.5, 20.0, 40.0]
for op, f in {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "logSigmoid": F.logsigmoid,
              "gelu": F.gelu, "geluTanh": lambda x: F.gelu(x, approximate="tanh")}.items():
    case(f"{op}/wide", lambda i: i.const("x", WIDE, grad=True), lambda x, p, f=f: f(x[0]))

case("sign/basic", lambda i: i.const("x", [[-2.5, 0.0, 0.75], [1e-4, -1e-4, 3.0]]),
     lambda x, p: torch.sign(x[0]))
case("relu/atZero", lambda i: i.const("x", [-1.0, 0.0, 2.0], grad=True), lambda x, p: torch.relu(x[0]),
     no_gradcheck="the gradient at 0 is a convention (0, as in PyTorch)")
case("abs/atZero", lambda i: i.const("x", [-1.0, 0.0, 2.0], grad=True), lambda x, p: torch.abs(x[0]),
     no_gradcheck="the gradient at 0 is a convention (0, as in PyTorch)")

case("clamp/both", lambda i: i.away("x", [2, 3, 4], [-0.5, 0.7]),
     lambda x, p: torch.clamp(x[0], p["min"], p["max"]), {"min": -0.5, "max": 0.7})
case("clamp/minOnly", lambda i: i.away("x", [2, 3, 4], [-0.5]),
     lambda x, p: torch.clamp(x[0], min=p["min"]), {"min": -0.5})
case("clamp/maxOnly", lambda i: i.away("x", [2, 3, 4], [0.7]),
     lambda x, p: torch.clamp(x[0], max=p["max"]), {"max": 0.7})
case("clamp/atBounds", lambda i: i.const("x", [-0.5, 0.7, 0.0, -2.0, 2.0], grad=True),
     lambda x, p: torch.clamp(x[0], p["min"], p["max"]), {"min": -0.5, "max": 0.7},
     no_gradcheck="at a bound the gradient is a convention (passes through, as in PyTorch)")


def where_build(sc, sa, sb):
    def build(i):
        i.ints("cond", sc, 2)
        i.randn("a", sa)
        i.randn("b", sb)
    return build


case("where/same", where_build([2, 3, 4], [2, 3, 4], [2, 3, 4]),
     lambda x, p: torch.where(x[0] != 0, x[1], x[2]))
case("where/broadcast", where_build([3, 1], [2, 3, 4], [4]),
     lambda x, p: torch.where(x[0] != 0, x[1], x[2]))
case("where/numberB", lambda i: (i.ints("cond", [2, 3], 2), i.randn("a", [2, 3])),
     lambda x, p: torch.where(x[0] != 0, x[1], torch.tensor(p["c"])), {"c": -0.25})

# ---- reductions -----------------------------------------------------------------------------

REDUCE_VARIANTS = {
    "all": {},
    "allKeep": {"keepDims": True},
    "axis1": {"axis": 1},
    "lastKeep": {"axis": -1, "keepDims": True},
    "axes02": {"axis": [0, 2]},
    "axes02Keep": {"axis": [0, 2], "keepDims": True},
}
for op in ["sum", "mean", "max", "min"]:
    for variant, p in REDUCE_VARIANTS.items():
        build = (lambda i: i.distinct("x", [2, 3, 4])) if op in ("max", "min") else (lambda i: i.randn("x", [2, 3, 4]))
        case(f"{op}/{variant}", build, lambda x, p, op=op: reduce_like_ours(op, x[0], p), p)
for op in ["max", "min"]:
    case(f"{op}/ties", lambda i: i.const("x", [[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 0.5]], grad=True),
         lambda x, p, op=op: reduce_like_ours(op, x[0], p), {"axis": -1},
         no_gradcheck="tied extremes share the gradient evenly (a kink)")

for variant, p in {
    "lastKeep": {"axis": -1, "keepDims": True},
    "all": {},
    "axes02": {"axis": [0, 2]},
    "population": {"axis": 1, "correction": 0},
}.items():
    case(f"variance/{variant}", lambda i: i.randn("x", [2, 3, 4]),
         lambda x, p: reduce_like_ours("variance", x[0], p), p)

case("argmax/axis1", lambda i: i.distinct("x", [2, 3, 4], grad=False),
     lambda x, p: torch.argmax(x[0], dim=p["axis"]).double(), {"axis": 1, "keepDims": False})
case("argmax/ties", lambda i: i.const("x", [[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 0.5]]),
     lambda x, p: torch.argmax(x[0], dim=p["axis"]).double(), {"axis": -1, "keepDims": False})
case("argmax/lastKeep", lambda i: i.distinct("x", [2, 3, 4], grad=False),
     lambda x, p: torch.argmax(x[0], dim=p["axis"], keepdim=True).double(), {"axis": -1, "keepDims": True})

# ---- matmul ---------------------------------------------------------------------------------


def mm_build(sa, sb):
    return lambda i: (i.randn("a", sa), i.randn("b", sb))


def mm_case(name, sa, sb, ta=False, tb=False):
    case(name, mm_build(sa, sb), lambda x, p: op_t(x[0], p["transA"]) @ op_t(x[1], p["transB"]),
         {"transA": ta, "transB": tb})


def t_shape(s, trans):
    return s[:-2] + [s[-1], s[-2]] if trans else s


for ta in (False, True):
    for tb in (False, True):
        tag = ("T" if ta else "N") + ("T" if tb else "N")
        mm_case(f"matmul/2d{tag}", t_shape([3, 4], ta), t_shape([4, 5], tb), ta, tb)
        mm_case(f"matmul/batched{tag}", t_shape([2, 3, 4], ta), t_shape([2, 4, 5], tb), ta, tb)
        mm_case(f"matmul/3dAt2d{tag}", t_shape([2, 3, 4], ta), t_shape([4, 5], tb), ta, tb)
mm_case("matmul/broadcastBatch", [2, 1, 3, 4], [3, 4, 5])
mm_case("matmul/2dAt3d", [3, 4], [2, 4, 5])
mm_case("matmul/vectorLike", [1, 4], [4, 1])

# ---- shape ops ------------------------------------------------------------------------------

X234 = lambda i: i.randn("x", [2, 3, 4])

case("reshape/basic", X234, lambda x, p: x[0].reshape(p["shape"]), {"shape": [4, -1]})
case("reshape/ofTranspose", X234, lambda x, p: x[0].transpose(0, 2).reshape(p["shape"]), {"shape": [-1, 2]})
case("permute/basic", X234, lambda x, p: x[0].permute(p["perm"]), {"perm": [2, 0, 1]})
case("permute/negative", X234, lambda x, p: x[0].permute([1, 2, 0]), {"perm": [-2, -1, 0]})
case("transpose/default", X234, lambda x, p: x[0].transpose(-2, -1))
case("transpose/axes02", X234, lambda x, p: x[0].transpose(0, 2), {"a": 0, "b": 2})
case("slice/basic", X234, lambda x, p: slice_like_ours(x[0], p["begin"], p["size"]),
     {"begin": [1, 0, 1], "size": [1, -1, 2]})
case("slice/negativeBegin", X234, lambda x, p: slice_like_ours(x[0], p["begin"], p["size"]),
     {"begin": [0, -2, -3], "size": [-1, 2, -1]})
case("slice/ofTransposedReshape", X234,
     lambda x, p: slice_like_ours(x[0].transpose(0, 2).reshape(4, 6), p["begin"], p["size"]),
     {"begin": [1, 2], "size": [2, 3]})
case("select/middle", X234, lambda x, p: x[0].select(p["axis"], p["index"]), {"axis": 1, "index": 2})
case("select/negative", X234, lambda x, p: x[0].select(p["axis"], p["index"]), {"axis": -1, "index": -1})
# The middle view gets no gradient: its slot of the input's gradient stays zero.
case("unbind/firstTimesLast", X234, lambda x, p: x[0].unbind(p["axis"])[0] * x[0].unbind(p["axis"])[2],
     {"axis": 1})
case("expand/basic", lambda i: i.randn("x", [3, 1]), lambda x, p: x[0].expand(p["shape"]), {"shape": [2, 3, 4]})
case("expand/middle", lambda i: i.randn("x", [2, 1, 4]), lambda x, p: x[0].expand(p["shape"]), {"shape": [2, 3, 4]})
case("sumTo/basic", X234, lambda x, p: sum_to(x[0], p["shape"]), {"shape": [3, 1]})
case("squeeze/all", lambda i: i.randn("x", [2, 1, 3, 1]), lambda x, p: x[0].squeeze())
case("squeeze/axes", lambda i: i.randn("x", [2, 1, 3, 1]), lambda x, p: x[0].squeeze(3), {"axes": [-1]})
case("unsqueeze/middle", X234, lambda x, p: x[0].unsqueeze(p["axis"]), {"axis": 1})
case("unsqueeze/last", X234, lambda x, p: x[0].unsqueeze(p["axis"]), {"axis": -1})
case("contiguous/ofPermute", X234, lambda x, p: x[0].permute(p["perm"]).contiguous(), {"perm": [1, 2, 0]})
case("concat/axis0", lambda i: (i.randn("a", [2, 3]), i.randn("b", [1, 3])),
     lambda x, p: torch.cat(x, p["axis"]), {"axis": 0})
case("concat/lastThree", lambda i: (i.randn("a", [2, 3, 1]), i.randn("b", [2, 3, 2]), i.randn("c", [2, 3, 3])),
     lambda x, p: torch.cat(x, p["axis"]), {"axis": -1})
case("stack/axis0", lambda i: (i.randn("a", [2, 3]), i.randn("b", [2, 3])),
     lambda x, p: torch.stack(x, p["axis"]), {"axis": 0})
case("stack/last", lambda i: (i.randn("a", [2, 3]), i.randn("b", [2, 3]), i.randn("c", [2, 3])),
     lambda x, p: torch.stack(x, p["axis"]), {"axis": -1})

# ---- fused NN ops ---------------------------------------------------------------------------

case("softmax/last", lambda i: i.randn("x", [2, 3, 5], scale=2.0), lambda x, p: torch.softmax(x[0], -1))
case("softmax/axis0", lambda i: i.randn("x", [3, 4], scale=2.0), lambda x, p: torch.softmax(x[0], p["axis"]), {"axis": 0})
case("softmax/large", lambda i: i.const("x", [[1000.0, 1001.0, 999.5], [-1000.0, -1002.0, -999.0]], grad=True),
     lambda x, p: torch.softmax(x[0], -1))
case("logSoftmax/last", lambda i: i.randn("x", [2, 3, 5], scale=2.0), lambda x, p: torch.log_softmax(x[0], -1))
case("logSoftmax/axis1", lambda i: i.randn("x", [2, 3, 4], scale=2.0),
     lambda x, p: torch.log_softmax(x[0], p["axis"]), {"axis": 1})
case("logSoftmax/large", lambda i: i.const("x", [[1000.0, 1001.0, 999.5], [-1000.0, -1002.0, -999.0]], grad=True),
     lambda x, p: torch.log_softmax(x[0], -1))


def ce_ref(x, p):
    logits, targets = x
    c = logits.shape[-1]
    loss = F.cross_entropy(logits.reshape(-1, c), targets.reshape(-1).long(),
                           ignore_index=p.get("ignoreIndex", -100), reduction=p.get("reduction", "mean"))
    return loss.reshape(targets.shape) if p.get("reduction") == "none" else loss


def ce_build(shape, c, ignored, ignore_value=-100):
    def build(i):
        i.randn("logits", shape + [c], scale=2.0)
        i.ints("targets", shape, c)
        t = i.value("targets").reshape(-1)
        for j in ignored:
            t[j] = ignore_value
    return build


case("crossEntropy/mean", ce_build([4], 5, []), ce_ref, {"reduction": "mean"})
case("crossEntropy/meanIgnored", ce_build([2, 3], 5, [1, 4]), ce_ref, {"reduction": "mean"})
case("crossEntropy/sumIgnored", ce_build([2, 3], 5, [0]), ce_ref, {"reduction": "sum"})
case("crossEntropy/noneIgnored", ce_build([2, 3], 5, [2, 5]), ce_ref, {"reduction": "none"})
case("crossEntropy/customIgnore", ce_build([6], 4, [3], ignore_value=-1), ce_ref,
     {"reduction": "mean", "ignoreIndex": -1})

case("layerNorm/basic", lambda i: (i.randn("x", [2, 3, 8], scale=2.0), i.randn("weight", [8]), i.randn("bias", [8])),
     lambda x, p: F.layer_norm(x[0], (x[0].shape[-1],), x[1], x[2], 1e-5))
case("layerNorm/eps", lambda i: (i.randn("x", [3, 6], scale=0.05), i.randn("weight", [6]), i.randn("bias", [6])),
     lambda x, p: F.layer_norm(x[0], (x[0].shape[-1],), x[1], x[2], p["eps"]), {"eps": 1e-3})

def rms_norm_ref(x, p):
    """x / sqrt(mean(x^2) + eps) * weight (T5LayerNorm / LlamaRMSNorm in float64)."""
    v, w = x
    return v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + p.get("eps", 1e-6)) * w


case("rmsNorm/basic", lambda i: (i.randn("x", [2, 3, 8], scale=2.0), i.randn("weight", [8])),
     rms_norm_ref)
case("rmsNorm/eps", lambda i: (i.randn("x", [3, 6], scale=0.05), i.randn("weight", [6])),
     rms_norm_ref, {"eps": 1e-3})

case("gather/last", lambda i: (i.randn("x", [2, 3, 5]), i.ints("index", [2, 3, 4], 5)),
     lambda x, p: torch.gather(x[0], p["axis"], x[1].long()), {"axis": -1})
case("gather/axis0", lambda i: (i.randn("x", [3, 4]), i.ints("index", [5, 4], 3)),
     lambda x, p: torch.gather(x[0], p["axis"], x[1].long()), {"axis": 0})
case("gather/smallerIndex", lambda i: (i.randn("x", [3, 5]), i.ints("index", [2, 3], 5)),
     lambda x, p: torch.gather(x[0], p["axis"], x[1].long()), {"axis": 1})
case("embedding/repeats", lambda i: (i.randn("weight", [6, 4]), i.const("ids", [[1, 5, 1], [0, 1, 3]])),
     lambda x, p: F.embedding(x[1].long(), x[0]))
case("tokenLogProbs/basic", lambda i: (i.randn("logits", [2, 3, 6], scale=2.0), i.ints("labels", [2, 3], 6)),
     lambda x, p: torch.gather(torch.log_softmax(x[0], -1), -1, x[1].long().unsqueeze(-1)).squeeze(-1))



case("linear/weightOutIn", lambda i: (i.randn("x", [2, 3, 4]), i.randn("weight", [5, 4]), i.randn("bias", [5])),
     lambda x, p: F.linear(x[0], x[1], x[2]))
case("linear/conv1dInOut", lambda i: (i.randn("x", [3, 4]), i.randn("weight", [4, 5]), i.randn("bias", [5])),
     lambda x, p: x[0] @ x[1] + x[2], {"transB": False})

def lm_head_ref(x, p):
    """log softmax(scale * h W^T)[label], 0 where the label is ignoreIndex."""
    h, w, labels = x
    logits = (h @ w.t()) * p.get("scale", 1.0)
    ignore = p.get("ignoreIndex")
    keep = torch.ones_like(labels) if ignore is None else (labels != ignore).double()
    safe = (labels * keep).long()
    lp = torch.gather(torch.log_softmax(logits, -1), -1, safe.unsqueeze(-1)).squeeze(-1)
    return lp * keep


def lm_head_build(hidden_shape, vocab, ignored):
    def build(i):
        i.randn("hidden", hidden_shape)
        i.randn("weight", [vocab, hidden_shape[-1]])
        i.ints("labels", hidden_shape[:-1], vocab)
        t = i.value("labels").reshape(-1)
        for j in ignored:
            t[j] = -100
    return build


case("lmHeadLogProbs/basic", lm_head_build([2, 3, 4], 7, []), lm_head_ref)
case("lmHeadLogProbs/scaleIgnoreChunked", lm_head_build([5, 4], 6, [1, 3]), lm_head_ref,
     {"scale": 1 / 0.7, "ignoreIndex": -100, "chunkRows": 2})
case("lmHeadCrossEntropy/meanIgnoredChunked", lm_head_build([2, 3, 4], 5, [2]),
     lambda x, p: F.cross_entropy((x[0] @ x[1].t()).reshape(-1, x[1].shape[0]), x[2].reshape(-1).long(),
                                  ignore_index=-100),
     {"chunkRows": 4})

def qkv(i, b=2, h=2, t=4, d=3, tk=None):
    i.randn("q", [b, h, t, d])
    i.randn("k", [b, h, tk or t, d])
    i.randn("v", [b, h, tk or t, d])


case("attention/plain", qkv, lambda x, p: attention_ref(*x))
case("attention/causal", qkv, lambda x, p: attention_ref(*x, causal=True), {"causal": True})
case("attention/padMask", lambda i: (qkv(i), i.const("mask", [[1, 1, 1, 0], [0, 1, 1, 1]])),
     lambda x, p: attention_ref(x[0], x[1], x[2], mask=x[3]))
case("attention/causalPadScale", lambda i: (qkv(i), i.const("mask", [[1, 1, 0, 0], [1, 1, 1, 1]])),
     lambda x, p: attention_ref(x[0], x[1], x[2], mask=x[3], causal=True, scale=p["scale"]),
     {"causal": True, "scale": 0.3})
# Left padding + causal: the first queries of row 0 see only hidden keys, so their weights are
# uniform over all keys (the finite mask value), as in Hugging Face models.
case("attention/leftPadCausal", lambda i: (qkv(i), i.const("mask", [[0, 0, 1, 1], [1, 1, 1, 1]])),
     lambda x, p: attention_ref(x[0], x[1], x[2], mask=x[3], causal=True), {"causal": True})
case("attention/causalKvCache", lambda i: qkv(i, t=2, tk=5),
     lambda x, p: attention_ref(*x, causal=True), {"causal": True})

MASK = [[0, 1, 1, 1, 0], [1, 1, 1, 0, 0], [0, 0, 1, 1, 1]]
case("maskedMean/all", lambda i: (i.randn("values", [3, 5]), i.const("mask", MASK)),
     lambda x, p: masked_mean(x[0], x[1]))
case("maskedMean/axis1", lambda i: (i.randn("values", [3, 5]), i.const("mask", MASK)),
     lambda x, p: masked_mean(x[0], x[1], p["axis"]), {"axis": 1})
case("maskedVar/unbiased", lambda i: (i.randn("values", [3, 5]), i.const("mask", MASK)),
     lambda x, p: masked_var(x[0], x[1], True))
case("maskedVar/biased", lambda i: (i.randn("values", [3, 5]), i.const("mask", MASK)),
     lambda x, p: masked_var(x[0], x[1], False), {"unbiased": False})
case("maskedWhiten/shift", lambda i: (i.randn("values", [3, 5], scale=2.0), i.const("mask", MASK)),
     lambda x, p: masked_whiten(x[0], x[1], True))
case("maskedWhiten/keepMean", lambda i: (i.randn("values", [3, 5], scale=2.0), i.const("mask", MASK)),
     lambda x, p: masked_whiten(x[0], x[1], False), {"shiftMean": False})

# Sampling is random except where filtering leaves one token: top-k 1, or a top-p mass below the
# largest probability (Hugging Face always keeps the most likely token). Then it is the argmax.
for variant, p in {"topK1": {"topK": 1, "temperature": 0.7}, "topPTiny": {"topP": 1e-3}}.items():
    case(f"sampleTokens/{variant}", lambda i: i.distinct("logits", [2, 3, 7], grad=False),
         lambda x, p: torch.argmax(x[0], dim=-1).double(), {**p, "seed": 5})

case("dropout/p0Training", X234, lambda x, p: F.dropout(x[0], p["p"], training=True), {"p": 0.0, "training": True})
case("dropout/eval", X234, lambda x, p: F.dropout(x[0], p["p"], training=False), {"p": 0.5, "training": False})


# ---- run and write --------------------------------------------------------------------------

def fmt(v):
    """Shortest decimal that round-trips within ~1e-13 relative (keeps the file small)."""
    return [float(f"{x:.14g}") for x in v.detach().reshape(-1).tolist()]


def run_case(name, inp, fn, params, no_gradcheck):
    xs = [s["values"].clone().requires_grad_(s["grad"]) for s in inp.specs]
    out = fn(xs, params)
    assert torch.isfinite(out).all(), f"{name}: non-finite output"
    rec = {
        "params": params,
        "inputs": [{"name": s["name"], "shape": list(s["values"].shape), "values": fmt(s["values"]),
                    "grad": s["grad"]} for s in inp.specs],
        "output": {"shape": list(out.shape), "values": fmt(out)},
    }
    wrt = [x for x in xs if x.requires_grad]
    if wrt:
        assert out.requires_grad, f"{name}: output does not depend on the grad inputs"
        seed = round4(torch.randn(out.shape, generator=inp.g))
        grads = torch.autograd.grad(out, wrt, seed)
        it = iter(grads)
        rec["seed"] = {"shape": list(seed.shape), "values": fmt(seed)}
        rec["grads"] = [
            ({"shape": list(x.shape), "values": fmt(next(it))} if x.requires_grad else None) for x in xs
        ]
    if no_gradcheck:
        rec["noGradcheck"] = no_gradcheck
    return rec


def main():
    cases = {name: run_case(name, *spec) for name, spec in CASES.items()}
    doc = {
        "generator": "tools/gen_op_golden.py",
        "torch": torch.__version__,
        "dtype": "float64",
        "attentionMaskValue": ATTENTION_MASK_VALUE,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases, {OUT.stat().st_size} bytes to {OUT}")


if __name__ == "__main__":
    main()
