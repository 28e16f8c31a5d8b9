/**
 * Parity cases: each builds the same random inputs on a given backend (from a fresh seeded
 * generator), runs ops forward and usually backward, and returns the tensors to compare between
 * the CPU and WebGPU backends. Shapes are small (lavapipe is slow) but chosen to cross the
 * kernels' internal boundaries: partial matmul tiles, rows wide enough for 256-thread
 * workgroups, non-contiguous reduction axes, attention longer than one key chunk, views with
 * offsets.
 */

import {
  abs,
  add,
  argmax,
  attention,
  clamp,
  concat,
  contiguous,
  crossEntropy,
  div,
  embedding,
  equal,
  exp,
  expand,
  gather,
  gelu,
  geluTanh,
  type Generator,
  greater,
  greaterEqual,
  layerNorm,
  less,
  lessEqual,
  linear,
  log,
  logSigmoid,
  logSoftmax,
  matmul,
  max,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  nn,
  optim,
  permute,
  pow,
  relu,
  reshape,
  rmsNorm,
  rsqrt,
  sampleTokens,
  sigmoid,
  sign,
  slice,
  softmax,
  sqrt,
  stack,
  sub,
  sum,
  tanh,
  type Tensor,
  tensor,
  tokenLogProbs,
  transpose,
  variance,
  where,
} from "../../core/mod.ts";

/** Named results of one case on one backend. */
export type Results = Record<string, Tensor>;

/** A parity case: `run` is called once per backend with an identically seeded generator. */
export interface ParityCase {
  /** Test name. */
  name: string;
  /** Builds inputs on `backend` from `g`, runs the ops, returns what to compare. */
  run: (backend: string, g: Generator) => Results;
  /** Compare exactly (token ids, argmax indices). */
  exact?: boolean;
}

type Fill = { kind: "normal"; std?: number } | { kind: "uniform"; lo: number; hi: number };

function input(
  g: Generator,
  backend: string,
  shape: number[],
  fill: Fill = { kind: "normal" },
  requiresGrad = true,
): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = fill.kind === "normal" ? g.normal(n, 0, fill.std ?? 1) : g.uniform(n, fill.lo, fill.hi);
  return tensor(v, shape, { backend, requiresGrad });
}

function ints(g: Generator, backend: string, shape: number[], limit: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => g.int(limit)), shape, { backend });
}

/** Backpropagates Σ y·seed with a random seed; returns each named input's gradient. */
function grads(g: Generator, y: Tensor, xs: Record<string, Tensor>): Results {
  const seed = tensor(g.normal(y.size), y.shape, { backend: y.backend.name });
  sum(mul(y, seed)).backward();
  const out: Results = {};
  for (const [name, x] of Object.entries(xs)) {
    if (!x.grad) throw new Error(`no gradient reached ${name}`);
    out[`d${name}`] = x.grad;
    x.grad = null; // detach so disposing the input leaves the gradient to the caller
  }
  return out;
}

function forwardBackward(
  name: string,
  make: (b: string, g: Generator) => [Tensor, Record<string, Tensor>],
): ParityCase {
  return {
    name,
    run: (b, g) => {
      const [y, xs] = make(b, g);
      return { y, ...grads(g, y, xs) };
    },
  };
}

/** Every parity case. */
export const parityCases: ParityCase[] = [];
const add_ = (c: ParityCase) => parityCases.push(c);

// ---- elementwise ---------------------------------------------------------------------------

const unaries: Record<string, [(x: Tensor) => Tensor, Fill]> = {
  neg: [neg, { kind: "normal", std: 3 }],
  exp: [exp, { kind: "normal", std: 3 }],
  log: [log, { kind: "uniform", lo: 0.01, hi: 5 }],
  sqrt: [sqrt, { kind: "uniform", lo: 0.01, hi: 5 }],
  rsqrt: [rsqrt, { kind: "uniform", lo: 0.01, hi: 5 }],
  tanh: [tanh, { kind: "normal", std: 3 }],
  sigmoid: [sigmoid, { kind: "normal", std: 6 }],
  logSigmoid: [logSigmoid, { kind: "normal", std: 6 }],
  relu: [relu, { kind: "normal", std: 3 }],
  gelu: [gelu, { kind: "normal", std: 3 }],
  geluTanh: [geluTanh, { kind: "normal", std: 3 }],
  abs: [abs, { kind: "normal", std: 3 }],
};
for (const [op, [f, fill]] of Object.entries(unaries)) {
  add_(forwardBackward(`${op} [37,70]`, (b, g) => {
    const x = input(g, b, [37, 70], fill);
    return [f(x), { x }];
  }));
}
add_({ name: "sign [37,70]", run: (b, g) => ({ y: sign(input(g, b, [37, 70])) }) });

const SPECIAL = [
  0,
  -0,
  1,
  -1,
  Infinity,
  -Infinity,
  NaN,
  1e-30,
  -1e-30,
  1e30,
  -1e30,
  20,
  -20,
  80,
  -80,
  100,
  -100,
  0.5,
  -0.5,
  3,
  -3,
  1e-5,
  -1e-5,
  0.1,
];
add_({
  name: "unary ops on special values (±0, ±Inf, NaN, extremes)",
  run: (b) => {
    const x = tensor(SPECIAL, [SPECIAL.length], { backend: b });
    const out: Results = {};
    for (const [op, [f]] of Object.entries(unaries)) out[op] = f(x);
    out.sign = sign(x);
    return out;
  },
});

const arithmetic = { add, sub, mul, div, maximum, minimum } as const;
const comparisons = { greater, greaterEqual, less, lessEqual, equal } as const;
const layouts: Record<string, [number[], number[]]> = {
  same: [[33, 65], [33, 65]],
  suffix: [[4, 33, 65], [65]],
  general: [[4, 1, 65], [33, 1]],
  leftBroadcast: [[65], [3, 65]],
};
for (const [op, f] of Object.entries(arithmetic)) {
  for (const [layout, [sa, sb]] of Object.entries(layouts)) {
    add_(forwardBackward(`${op} ${layout}`, (b, g) => {
      const x = input(g, b, sa);
      const y = input(g, b, sb, { kind: "uniform", lo: 0.5, hi: 2 });
      return [f(x, y), { x, y }];
    }));
  }
  add_(forwardBackward(`${op} number`, (b, g) => {
    const x = input(g, b, [130]);
    return [add(f(x, 0.75), f(-1.5, x)), { x }];
  }));
}
for (const [op, f] of Object.entries(comparisons)) {
  add_({
    name: `${op} with ties, broadcast`,
    run: (b, g) => {
      const a = g.normal(33 * 65);
      const c = Float32Array.from(a, (v, i) => (i % 3 === 0 ? v : g.normal(1)[0]));
      const x = tensor(a, [33, 65], { backend: b });
      const y = tensor(c, [33, 65], { backend: b });
      const row = tensor(g.normal(65), [65], { backend: b });
      return { same: f(x, y), suffix: f(x, row), number: f(x, 0.25) };
    },
  });
}
add_(forwardBackward("pow positive base", (b, g) => {
  const x = input(g, b, [33, 65], { kind: "uniform", lo: 0.1, hi: 3 });
  const y = input(g, b, [65], { kind: "normal", std: 2 });
  return [pow(x, y), { x, y }];
}));
add_({
  name: "pow negative bases, integer and fractional exponents",
  run: (b, g) => {
    const base = g.normal(200, 0, 2);
    const expo = Float32Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? 0.5 : g.int(7) - 3));
    const x = tensor(base, [200], { backend: b });
    const e = tensor(expo, [200], { backend: b });
    return { y: pow(x, e), square: pow(x, 2), cube: pow(x, 3), zeroBase: pow(0, e) };
  },
});
add_(forwardBackward("where broadcast", (b, g) => {
  const c = tensor(g.uniform(4 * 33).map((v) => (v > 0.5 ? 1 : 0)), [4, 33, 1], { backend: b });
  const x = input(g, b, [4, 33, 65]);
  const y = input(g, b, [65]);
  return [where(c, x, y), { x, y }];
}));
add_(forwardBackward("where same shape", (b, g) => {
  const c = tensor(g.uniform(300).map((v) => (v > 0.5 ? 1 : 0)), [300], { backend: b });
  const x = input(g, b, [300]);
  const y = input(g, b, [300]);
  return [where(c, x, y), { x, y }];
}));
for (
  const [label, lo, hi] of [["both", -1, 0.5], ["min", -0.3, undefined], ["max", undefined, 1]]
) {
  add_(forwardBackward(`clamp ${label}`, (b, g) => {
    const x = input(g, b, [300]);
    return [clamp(x, lo as number | undefined, hi as number | undefined), { x }];
  }));
}

// ---- reductions ----------------------------------------------------------------------------

const reduceConfigs: [string, number[], number | number[] | undefined, boolean][] = [
  ["rows", [6, 300], 1, false],
  ["short rows", [40, 20], -1, true],
  ["columns", [300, 7], 0, false],
  ["middle axis", [5, 70, 9], 1, true],
  ["non-contiguous axes", [5, 7, 9], [0, 2], false],
  ["all", [37, 70], undefined, false],
];
for (const [label, shape, axis, keepDims] of reduceConfigs) {
  add_(forwardBackward(`sum ${label}`, (b, g) => {
    const x = input(g, b, shape);
    return [sum(x, { axis, keepDims }), { x }];
  }));
  add_(forwardBackward(`max ${label}`, (b, g) => {
    const x = input(g, b, shape);
    return [max(x, { axis, keepDims }), { x }];
  }));
}
add_(forwardBackward("mean and variance", (b, g) => {
  const x = input(g, b, [12, 90]);
  return [add(mean(x, { axis: 1 }), variance(x, { axis: 1 })), { x }];
}));
for (
  const [label, shape, axis] of [["long rows", [4, 700], 1], ["short rows", [30, 9], 1], [
    "columns",
    [700, 3],
    0,
  ]] as const
) {
  add_({
    name: `argmax ${label}`,
    exact: true,
    run: (b, g) => ({ i: argmax(input(g, b, [...shape], undefined, false), axis) }),
  });
}

// ---- layout --------------------------------------------------------------------------------

add_(forwardBackward("contiguous of a rank-4 permutation", (b, g) => {
  const x = input(g, b, [3, 4, 5, 6]);
  return [contiguous(permute(x, [2, 0, 3, 1])), { x }];
}));
add_(forwardBackward("reshape of a transpose, expand", (b, g) => {
  const x = input(g, b, [6, 10]);
  const e = expand(reshape(x, [1, 6, 10]), [3, 6, 10]);
  return [reshape(transpose(e, 1, 2), [30, 6]), { x }];
}));
add_(forwardBackward("slice views with offsets (sliceGrad)", (b, g) => {
  const x = input(g, b, [9, 40]);
  const s = slice(x, [2, 5], [4, 30]);
  const rows = slice(x, [3, 0], [4, -1]);
  return [add(exp(contiguous(s)), sum(mul(rows, 2), { axis: 1, keepDims: true })), { x }];
}));
add_(forwardBackward("concat and stack", (b, g) => {
  const x = input(g, b, [5, 3]);
  const y = input(g, b, [5, 8]);
  const z = input(g, b, [5, 1]);
  return [concat([x, y, z, sum(stack([x, x], 0), { axis: 0 })], 1), { x, y, z }];
}));

// ---- matmul --------------------------------------------------------------------------------

const matmulShapes: [string, number[], number[], boolean, boolean][] = [
  ["NN 70x45 @ 45x130", [70, 45], [45, 130], false, false],
  ["NT", [70, 45], [130, 45], false, true],
  ["TN", [45, 70], [45, 130], true, false],
  ["TT", [45, 70], [130, 45], true, true],
  ["batched", [3, 33, 20], [3, 20, 17], false, false],
  ["batched NT", [2, 3, 33, 20], [2, 3, 17, 20], false, true],
  ["3-D at shared 2-D", [3, 33, 20], [20, 17], false, false],
  ["3-D TN at shared 2-D", [3, 20, 33], [20, 17], true, false],
  ["broadcast batch", [2, 1, 9, 8], [3, 8, 5], false, false],
  ["single row", [1, 300], [300, 70], false, false],
  ["skinny: 4 rows at a transposed table (tied logits)", [4, 96], [300, 96], false, true],
  ["skinny: batched, A transposed", [2, 40, 3], [2, 40, 50], true, false],
  ["skinny: 8 folded rows at a shared matrix", [2, 4, 33], [33, 70], false, false],
  ["skinny: A and B transposed", [70, 5], [90, 70], true, true],
];
for (const [label, sa, sb, transA, transB] of matmulShapes) {
  add_(forwardBackward(`matmul ${label}`, (b, g) => {
    const x = input(g, b, sa);
    const y = input(g, b, sb);
    return [matmul(x, y, { transA, transB }), { x, y }];
  }));
}
add_(forwardBackward("matmul on views with offsets", (b, g) => {
  const x = input(g, b, [10, 24]);
  const w = input(g, b, [30, 18]);
  return [matmul(slice(x, [3, 0], [5, -1]), slice(w, [4, 0], [24, -1])), {
    x,
    w,
  }];
}));

// ---- fused NN ops --------------------------------------------------------------------------

for (
  const [label, shape, axis] of [["rows of 70", [9, 70], -1], ["rows of 2500", [3, 2500], -1], [
    "axis 0",
    [50, 6],
    0,
  ]] as const
) {
  add_(forwardBackward(`softmax ${label}`, (b, g) => {
    const x = input(g, b, [...shape], { kind: "normal", std: 4 });
    return [softmax(x, axis), { x }];
  }));
  add_(forwardBackward(`logSoftmax ${label}`, (b, g) => {
    const x = input(g, b, [...shape], { kind: "normal", std: 4 });
    return [logSoftmax(x, axis), { x }];
  }));
}
for (const reduction of ["mean", "sum", "none"] as const) {
  add_(forwardBackward(`crossEntropy ${reduction} with ignored rows`, (b, g) => {
    const logits = input(g, b, [4, 6, 50], { kind: "normal", std: 3 });
    const t = Array.from({ length: 24 }, (_, i) => (i % 5 === 2 ? -100 : g.int(50)));
    const targets = tensor(t, [4, 6], { backend: b });
    return [crossEntropy(logits, targets, { reduction }), { logits }];
  }));
}
add_(forwardBackward("crossEntropy wide rows", (b, g) => {
  const logits = input(g, b, [5, 3000], { kind: "normal", std: 2 });
  return [crossEntropy(logits, ints(g, b, [5], 3000)), { logits }];
}));
add_(forwardBackward("tokenLogProbs", (b, g) => {
  const logits = input(g, b, [3, 7, 300], { kind: "normal", std: 3 });
  return [tokenLogProbs(logits, ints(g, b, [3, 7], 300)), { logits }];
}));
for (const [label, shape] of [["d=96", [12, 96]], ["d=300", [3, 4, 300]]] as const) {
  add_(forwardBackward(`layerNorm ${label}`, (b, g) => {
    const d = shape[shape.length - 1];
    const x = input(g, b, [...shape], { kind: "normal", std: 2 });
    const w = input(g, b, [d]);
    const bias = input(g, b, [d]);
    return [layerNorm(x, w, bias, 1e-5), { x, w, bias }];
  }));
}
// Fused on the CPU, composed of matmul and elementwise ops on WebGPU (no kernel there).
for (const [label, shape] of [["d=96", [12, 96]], ["d=300", [3, 4, 300]]] as const) {
  add_(forwardBackward(`rmsNorm ${label}`, (b, g) => {
    const d = shape[shape.length - 1];
    const x = input(g, b, [...shape], { kind: "normal", std: 2 });
    const w = input(g, b, [d]);
    return [rmsNorm(x, w, 1e-6), { x, w }];
  }));
}
for (const transB of [true, false]) {
  add_(forwardBackward(`linear transB=${transB}`, (b, g) => {
    const x = input(g, b, [3, 5, 40]);
    const w = input(g, b, transB ? [24, 40] : [40, 24]);
    const bias = input(g, b, [24]);
    return [linear(x, w, bias, { transB }), { x, w, bias }];
  }));
}
add_(forwardBackward("gather last axis (scatterAdd)", (b, g) => {
  const x = input(g, b, [5, 40]);
  return [gather(x, ints(g, b, [5, 7], 40), 1), { x }];
}));
add_(forwardBackward("gather axis 0 with a smaller index", (b, g) => {
  const x = input(g, b, [6, 9, 4]);
  return [gather(x, ints(g, b, [10, 7, 3], 6), 0), { x }];
}));
add_(forwardBackward("embedding with repeated ids", (b, g) => {
  const w = input(g, b, [50, 24]);
  const ids = tensor([3, 7, 3, 49, 0, 7, 7, 12, 3, 1, 0, 49], [3, 4], { backend: b });
  return [embedding(w, ids), { w }];
}));

interface AttentionShape {
  b: number;
  h: number;
  tq: number;
  tk: number;
  d: number;
  causal: boolean;
  mask?: number[];
}
const attentionShapes: Record<string, AttentionShape> = {
  "plain": { b: 2, h: 2, tq: 9, tk: 9, d: 16, causal: false },
  "causal, left padding, one batch fully padded": {
    b: 3,
    h: 2,
    tq: 7,
    tk: 7,
    d: 8,
    causal: true,
    mask: [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  },
  "causal KV cache (Tq < Tk) with padding": {
    b: 2,
    h: 2,
    tq: 3,
    tk: 10,
    d: 8,
    causal: true,
    mask: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1],
  },
  "causal, keys beyond one chunk": { b: 1, h: 1, tq: 600, tk: 600, d: 4, causal: true },
  "head size 80": { b: 1, h: 2, tq: 5, tk: 6, d: 80, causal: false },
};
for (const [label, s] of Object.entries(attentionShapes)) {
  add_(forwardBackward(`attention ${label}`, (b, g) => {
    const q = input(g, b, [s.b, s.h, s.tq, s.d]);
    const k = input(g, b, [s.b, s.h, s.tk, s.d]);
    const v = input(g, b, [s.b, s.h, s.tk, s.d]);
    const mask = s.mask ? tensor(s.mask, [s.b, s.tk], { backend: b }) : undefined;
    return [attention(q, k, v, { causal: s.causal, mask }), { q, k, v }];
  }));
}

// ---- in-place updates ----------------------------------------------------------------------

function optimizerCase(
  name: string,
  make: (ps: Tensor[]) => optim.SGD | optim.AdamW | optim.Adam | optim.RMSprop,
) {
  add_({
    name,
    run: (b, g) => {
      const ps = [input(g, b, [37, 11]), input(g, b, [300])];
      const opt = make(ps);
      for (let step = 0; step < 2; step++) {
        for (const p of ps) {
          p.grad?.dispose();
          p.grad = input(g, b, [...p.shape], undefined, false);
        }
        opt.step();
      }
      const out: Results = {};
      ps.forEach((p, i) => {
        out[`p${i}`] = p;
        for (const [k, t] of Object.entries(opt.stateOf(p)?.buffers ?? {})) out[`p${i} ${k}`] = t;
        p.grad?.dispose();
        p.grad = null;
      });
      return out;
    },
  });
}
optimizerCase("adamw", (ps) => new optim.AdamW(ps, { lr: 0.01, weightDecay: 0.1 }));
optimizerCase(
  "adam with L2 weight decay",
  (ps) => new optim.Adam(ps, { lr: 0.01, weightDecay: 0.1 }),
);
optimizerCase("sgd", (ps) => new optim.SGD(ps, { lr: 0.1 }));
optimizerCase(
  "sgd nesterov momentum",
  (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
);
optimizerCase(
  "sgd dampened momentum",
  (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.8, dampening: 0.3 }),
);
optimizerCase("rmsprop", (ps) => new optim.RMSprop(ps, { lr: 0.01 }));
optimizerCase(
  "rmsprop centered with momentum and L2 weight decay",
  (ps) => new optim.RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.1 }),
);
optimizerCase(
  "rmsprop with momentum",
  (ps) => new optim.RMSprop(ps, { lr: 0.01, alpha: 0.9, momentum: 0.5 }),
);
add_({
  name: "assign into a view's storage",
  run: (b, g) => {
    const dst = input(g, b, [8, 30], undefined, false);
    nn.assign(slice(dst, [2, 0], [3, -1]), input(g, b, [3, 30], undefined, false));
    return { dst };
  },
});

// ---- sampling ------------------------------------------------------------------------------

const sampleOptions = {
  "plain": {},
  "temperature 0.7": { temperature: 0.7 },
  "top-k 20": { topK: 20 },
  "top-p 0.8": { topP: 0.8 },
  "top-k 50, top-p 0.9, temperature 1.3": { topK: 50, topP: 0.9, temperature: 1.3 },
  "greedy": { temperature: 0 },
};
for (const [label, o] of Object.entries(sampleOptions)) {
  add_({
    name: `sampleTokens ${label}`,
    exact: true,
    run: (b, g) => {
      const logits = input(g, b, [16, 3000], { kind: "normal", std: 2 }, false);
      return { tokens: sampleTokens(logits, { ...o, generator: g }) };
    },
  });
}
