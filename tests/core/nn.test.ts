import assert from "node:assert/strict";
import { Generator, memory, sum, type Tensor, tensor, tidy } from "../../core/mod.ts";
import {
  Conv1D,
  Dropout,
  Embedding,
  GELU,
  LayerNorm,
  Linear,
  Module,
  ReLU,
  Sequential,
} from "../../core/nn/mod.ts";

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])),
      `[${i}]: got ${actual[i]}, expected ${expected[i]}`,
    );
  }
}

const arr = (t: Tensor) => Array.from(t.toArraySync());

/** A GPT-2-shaped skeleton: enough nesting to exercise Hugging Face's dotted names. */
class Attention extends Module {
  cAttn: Conv1D;
  cProj: Conv1D;
  constructor(d: number, g: Generator) {
    super();
    this.cAttn = this.registerModule("c_attn", new Conv1D(d, 3 * d, { generator: g }));
    this.cProj = this.registerModule("c_proj", new Conv1D(d, d, { generator: g }));
  }
}
class Block extends Module {
  constructor(d: number, g: Generator) {
    super();
    this.registerModule("ln_1", new LayerNorm(d));
    this.registerModule("attn", new Attention(d, g));
  }
}
class Body extends Module {
  wte: Embedding;
  constructor(d: number, g: Generator) {
    super();
    this.wte = this.registerModule("wte", new Embedding(11, d, { generator: g }));
    const h = this.registerModule("h", new Module());
    for (let i = 0; i < 2; i++) h.registerModule(String(i), new Block(d, g));
    this.registerModule("ln_f", new LayerNorm(d));
  }
}
class TinyLM extends Module {
  transformer: Body;
  lmHead: Linear;
  constructor(d: number, seed: number) {
    super();
    const g = new Generator(seed);
    this.transformer = this.registerModule("transformer", new Body(d, g));
    this.lmHead = this.registerModule("lm_head", new Linear(d, 11, { bias: false, generator: g }));
  }
}

Deno.test("parameters carry Hugging Face dotted names in torch's order", () => {
  const m = new TinyLM(4, 0);
  const names = m.namedParameters().map(([n]) => n);
  assert.deepEqual(names, [
    "transformer.wte.weight",
    "transformer.h.0.ln_1.weight",
    "transformer.h.0.ln_1.bias",
    "transformer.h.0.attn.c_attn.weight",
    "transformer.h.0.attn.c_attn.bias",
    "transformer.h.0.attn.c_proj.weight",
    "transformer.h.0.attn.c_proj.bias",
    "transformer.h.1.ln_1.weight",
    "transformer.h.1.ln_1.bias",
    "transformer.h.1.attn.c_attn.weight",
    "transformer.h.1.attn.c_attn.bias",
    "transformer.h.1.attn.c_proj.weight",
    "transformer.h.1.attn.c_proj.bias",
    "transformer.ln_f.weight",
    "transformer.ln_f.bias",
    "lm_head.weight",
  ]);
  for (const [n, t] of m.namedParameters()) {
    assert.equal(t.name, n, "each tensor knows its full name");
    assert.ok(t.requiresGrad && t.kept, `${n} is a kept trainable leaf`);
  }
  const [, attn] = m.namedModules().find(([n]) => n === "transformer.h.1.attn")!;
  assert.deepEqual((attn as Attention).cAttn.weight.shape, [4, 12], "Conv1D stores [in, out]");
  m.dispose();
});

Deno.test("Linear draws torch's default init U(±1/√in) from a seeded generator", () => {
  const a = new Linear(64, 32, { generator: new Generator(7) });
  const b = new Linear(64, 32, { generator: new Generator(7) });
  const c = new Linear(64, 32, { generator: new Generator(8) });
  const bound = 1 / Math.sqrt(64);
  for (const t of [a.weight, a.bias!]) {
    const v = arr(t);
    assert.ok(v.every((x) => Math.abs(x) <= bound), "inside the bound");
    assert.ok(Math.max(...v) > 0.8 * bound && Math.min(...v) < -0.8 * bound, "fills the range");
  }
  assert.deepEqual(a.weight.shape, [32, 64]);
  assert.deepEqual(arr(a.weight), arr(b.weight), "same seed, same weights");
  assert.notDeepEqual(arr(a.weight), arr(c.weight), "another seed, other weights");
  for (const m of [a, b, c]) m.dispose();
});

Deno.test("Linear computes x·Wᵀ + b on any leading shape, and its gradients", () => {
  const lin = new Linear(3, 2);
  lin.loadStateDict({
    weight: tensor([[1, 2, 3], [-1, 0, 2]]),
    bias: tensor([0.5, -0.5]),
  });
  const x = tensor([[[1, 0, -1], [2, 1, 0]]]); // [1, 2, 3]
  tidy(() => {
    const y = lin.forward(x);
    assert.deepEqual(y.shape, [1, 2, 2]);
    close(arr(y), [1 - 3 + 0.5, -1 - 2 - 0.5, 2 + 2 + 0.5, -2 - 0.5]);
    sum(y).backward();
  });
  // d sum(y)/dW[o, i] = Σ_rows x[row, i]; d/db[o] = number of rows.
  close(arr(lin.weight.grad!), [3, 1, -1, 3, 1, -1]);
  close(arr(lin.bias!.grad!), [2, 2]);
  lin.zeroGrad();
  assert.equal(lin.weight.grad, null);
  const noBias = new Linear(3, 2, { bias: false });
  assert.equal(noBias.bias, null);
  assert.deepEqual(noBias.namedParameters().map(([n]) => n), ["weight"]);
  x.dispose();
  lin.dispose();
  noBias.dispose();
});

Deno.test("Conv1D with weight [in, out] equals Linear with the transposed weight", () => {
  const conv = new Conv1D(3, 2);
  conv.loadStateDict({ weight: tensor([[1, -1], [2, 0], [3, 2]]), bias: tensor([0.5, -0.5]) });
  const lin = new Linear(3, 2);
  lin.loadStateDict({ weight: tensor([[1, 2, 3], [-1, 0, 2]]), bias: tensor([0.5, -0.5]) });
  const x = tensor([[1, 0, -1], [2, 1, 0]]);
  tidy(() => close(arr(conv.forward(x)), arr(lin.forward(x))));
  x.dispose();
  conv.dispose();
  lin.dispose();
});

Deno.test("loadStateDict copies in place: same tensors, same storage, new values", () => {
  const src = new TinyLM(4, 1);
  const dst = new TinyLM(4, 2);
  const before = dst.namedParameters().map(([n, t]) => [n, t, t.storage] as const);
  const result = dst.loadStateDict(src.stateDict());
  assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] });
  for (const [n, t, storage] of before) {
    const [, now] = dst.namedParameters().find(([m]) => m === n)!;
    assert.equal(now, t, `${n} keeps its identity`);
    assert.equal(now.storage, storage, `${n} keeps its storage`);
    const [, s] = src.namedParameters().find(([m]) => m === n)!;
    assert.deepEqual(arr(now), arr(s), `${n} has the loaded values`);
  }
  src.dispose();
  dst.dispose();
});

Deno.test("loadStateDict names missing keys, unexpected keys and shape mismatches", () => {
  const m = new Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 1));
  const w0 = arr(m.layers[0].namedParameters()[0][1]);
  const good = new Map(
    [...m.stateDict()].map(([k, t]) => [k, tensor(arr(t), t.shape)] as [string, Tensor]),
  );
  const partial = new Map(good);
  partial.delete("2.bias");
  partial.set("0.weight", tensor(new Array(6).fill(9), [3, 2]));
  partial.set("extra.weight", tensor([1]));
  assert.throws(
    () => m.loadStateDict(partial),
    /loadStateDict \(Sequential\): missing keys: '2.bias'\. unexpected keys: 'extra.weight'/,
  );
  assert.deepEqual(arr(m.layers[0].namedParameters()[0][1]), w0, "a failed load changes nothing");
  const relaxed = m.loadStateDict(partial, { strict: false });
  assert.deepEqual(relaxed, { missingKeys: ["2.bias"], unexpectedKeys: ["extra.weight"] });
  assert.deepEqual(arr(m.layers[0].namedParameters()[0][1]), new Array(6).fill(9));
  const wrong = new Map(good);
  wrong.set("2.weight", tensor([1, 2, 3], [3, 1]));
  assert.throws(
    () => m.loadStateDict(wrong),
    /shape mismatches: '2\.weight': checkpoint \[3,1\], model \[1,3\]/,
  );
  for (const t of [...good.values(), ...partial.values(), ...wrong.values()]) t.dispose();
  m.dispose();
});

Deno.test("loadStateDict takes f64 checkpoint tensors into an f32 model", () => {
  const m = new Linear(2, 2);
  m.loadStateDict({
    weight: tensor([[0.25, 0.5], [1, 2]], undefined, { backend: "cpu64" }),
    bias: tensor([1, -1], undefined, { backend: "cpu64" }),
  });
  assert.equal(m.weight.backend.name, "cpu");
  assert.deepEqual(arr(m.weight), [0.25, 0.5, 1, 2]);
  m.dispose();
});

Deno.test("a tied weight is one parameter under two state-dict names", () => {
  const tied = new Module();
  const emb = tied.registerModule("wte", new Embedding(5, 3));
  const head = tied.registerModule("lm_head", new Module());
  head.registerParameter("weight", emb.weight);
  assert.deepEqual(tied.namedParameters().map(([n]) => n), ["wte.weight"]);
  assert.deepEqual([...tied.stateDict().keys()], ["wte.weight", "lm_head.weight"]);
  assert.equal(emb.weight.name, "wte.weight", "the first owner names it");
  assert.equal(tied.numParameters(), 15);
  tied.dispose();
});

Deno.test("train() and eval() reach every descendant; Dropout follows them", () => {
  const drop = new Dropout(0.5, new Generator(3));
  const net = new Sequential(new Linear(4, 4), new GELU("tanh"), drop);
  const x = tensor(new Array(400).fill(1), [100, 4]);
  net.eval();
  assert.ok(net.namedModules().every(([, m]) => !m.training));
  tidy(() => assert.deepEqual(arr(drop.forward(x)), arr(x), "eval: identity"));
  net.train();
  assert.ok(drop.training);
  tidy(() => {
    const y = arr(drop.forward(x));
    const zeros = y.filter((v) => v === 0).length;
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 2) < 1e-6), "kept units scaled by 1/(1-p)");
    assert.ok(zeros > 150 && zeros < 250, `about half dropped, got ${zeros}/400`);
  });
  assert.throws(() => new Dropout(1), /Dropout: p must be in \[0, 1\), got 1/);
  x.dispose();
  net.dispose();
});

Deno.test("Embedding draws N(0, 1) rows and looks them up", () => {
  const e = new Embedding(200, 50, { generator: new Generator(5) });
  const v = arr(e.weight);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(std - 1) < 0.03, `mean ${mean}, std ${std}`);
  const ids = tensor([[3, 0], [199, 3]]);
  tidy(() => {
    const y = e.forward(ids);
    assert.deepEqual(y.shape, [2, 2, 50]);
    const rows = arr(y);
    assert.deepEqual(rows.slice(0, 50), v.slice(150, 200));
    assert.deepEqual(rows.slice(100, 150), v.slice(199 * 50, 200 * 50));
  });
  ids.dispose();
  e.dispose();
});

Deno.test("LayerNorm starts as weight 1, bias 0 and normalizes the last axis", () => {
  const ln = new LayerNorm(4, { eps: 0 });
  assert.deepEqual(arr(ln.weight), [1, 1, 1, 1]);
  assert.deepEqual(arr(ln.bias), [0, 0, 0, 0]);
  const x = tensor([[1, 2, 3, 4], [2, 2, 2, 6]]);
  tidy(() => {
    const y = arr(ln.forward(x));
    const s = Math.sqrt(1.25);
    close(y.slice(0, 4), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
    close(y.slice(4), [-1 / Math.sqrt(3), -1 / Math.sqrt(3), -1 / Math.sqrt(3), Math.sqrt(3)]);
  });
  x.dispose();
  ln.dispose();
});

Deno.test("registration errors name the problem", () => {
  const m = new Module();
  m.registerModule("fc", new Linear(2, 2));
  assert.throws(() => m.registerModule("fc", new Linear(2, 2)), /'fc' is already registered/);
  assert.throws(
    () => m.registerParameter("a.b", tensor([1])),
    /must be non-empty and contain no '\.'/,
  );
  const derived = tidy(() => sum(tensor([1, 2], undefined, { requiresGrad: true })));
  assert.throws(
    () => m.registerParameter("w", derived),
    /produced by op 'sum'; parameters must be leaves/,
  );
  derived.dispose();
  m.dispose();
});

Deno.test("dispose() frees every weight", () => {
  const before = memory();
  const m = new TinyLM(8, 4);
  assert.ok(memory().tensors > before.tensors);
  m.dispose();
  assert.deepEqual(memory(), before);
});
