/**
 * The fused NN ops: hand-derivable values, PyTorch/TRL semantics (ignoreIndex, masks, errors),
 * f64 finite-difference gradient checks on cpu64, fused attention against its composed definition,
 * and no leaked tensors after forward + backward.
 */

import assert from "node:assert/strict";
import {
  add,
  attention,
  attentionComposed,
  crossEntropy,
  dropout,
  embedding,
  exp,
  gather,
  Generator,
  layerNorm,
  log,
  logSoftmax,
  maskedMean,
  maskedVar,
  maskedWhiten,
  mean,
  memory,
  mul,
  noGrad,
  rmsNorm,
  rsqrt,
  type Shape,
  sizeOf,
  softmax,
  sum,
  type Tensor,
  tensor,
  tidy,
  tokenLogProbs,
} from "../../core/mod.ts";
import { gradcheck, readF64 } from "./gradcheck.ts";
import { setAttentionScratchLimit } from "../../core/backends/cpu/kernels/attention.ts";

// ---- helpers --------------------------------------------------------------------------------

const B64 = "cpu64";

/** The exact f64 values of a cpu64 tensor (toArraySync would round them to f32). */
const f64 = readF64;

/** Deterministic values in roughly [-2, 2). */
function values(n: number, seed: number, scale = 2): Float64Array {
  const g = new Generator(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (g.next() * 2 - 1) * scale;
  return out;
}

function leaf(shape: Shape, seed: number, backend = B64): Tensor {
  return tensor(values(sizeOf(shape), seed), shape, { backend, requiresGrad: true });
}

function ids(list: number[], shape: Shape, backend = B64): Tensor {
  return tensor(list, shape, { backend });
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (tol ${tol})`);
    }
  }
}

/**
 * Checks the gradients of `fn` with respect to `inputs[wrt]` against f64 central differences
 * with the shared harness; the other inputs are passed along without differentiation.
 */
function gradCheck(
  what: string,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  wrt: number[],
): void {
  const spec = inputs.map((t, i) => ({
    values: f64(t),
    shape: t.shape,
    grad: wrt.includes(i),
    name: `${what} input ${i}`,
  }));
  gradcheck((xs) => fn(...xs), spec);
}

// ---- softmax / logSoftmax -------------------------------------------------------------------

Deno.test("softmax: hand values, rows sum to 1, huge logits stay finite", () => {
  tidy(() => {
    const y = softmax(tensor([[1, 2, 3], [1000, 1000, 1000]])).toArraySync();
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    assertClose(
      y,
      [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z, 1 / 3, 1 / 3, 1 / 3],
      1e-6,
      "y",
    );
    const r = softmax(tensor(values(4 * 7, 1, 8), [4, 7]), 1).toArraySync();
    for (let i = 0; i < 4; i++) {
      let s = 0;
      for (let j = 0; j < 7; j++) s += r[i * 7 + j];
      assert.ok(Math.abs(s - 1) < 1e-6, `row ${i} sums to ${s}`);
    }
  });
});

Deno.test("softmax / logSoftmax: any axis matches exp(x)/Σexp(x) built from primitives", () => {
  tidy(() => {
    const x = tensor(values(2 * 3 * 4, 2), [2, 3, 4], { backend: B64 });
    for (const axis of [0, 1, 2, -1]) {
      const e = exp(x);
      const ref = f64(mul(e, exp(mul(log(sum(e, { axis, keepDims: true })), -1))));
      assertClose(f64(softmax(x, axis)), ref, 1e-12, `softmax axis ${axis}`);
      assertClose(f64(logSoftmax(x, axis)), ref.map(Math.log), 1e-12, `logSoftmax axis ${axis}`);
    }
  });
});

Deno.test("softmax / logSoftmax: gradients (f64 finite differences)", () => {
  const x = leaf([2, 3, 5], 3);
  for (const axis of [-1, 1, 0]) {
    gradCheck(`softmax axis ${axis}`, (t) => softmax(t, axis), [x], [0]);
    gradCheck(`logSoftmax axis ${axis}`, (t) => logSoftmax(t, axis), [x], [0]);
  }
});

// ---- crossEntropy ---------------------------------------------------------------------------

Deno.test("crossEntropy: equals −log softmax at the target; ignored rows count for nothing", () => {
  tidy(() => {
    const logits = tensor([[1, 2, 3], [0, 0, 0], [5, -1, 2]], undefined, { backend: B64 });
    const lse0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const lse2 = Math.log(Math.exp(5) + Math.exp(-1) + Math.exp(2));
    const t = ids([2, -100, 1], [3]);
    const perRow = f64(crossEntropy(logits, t, { reduction: "none" }));
    assertClose(perRow, [lse0 - 3, 0, lse2 + 1], 1e-12, "none");
    assertClose(
      f64(crossEntropy(logits, t, { reduction: "sum" })),
      [lse0 - 3 + lse2 + 1],
      1e-12,
      "sum",
    );
    // Mean over the two non-ignored rows, not the three rows.
    assertClose(f64(crossEntropy(logits, t)), [(lse0 - 3 + lse2 + 1) / 2], 1e-12, "mean");
    const custom = f64(crossEntropy(logits, ids([2, 7, 7], [3]), { ignoreIndex: 7 }));
    assertClose(custom, [lse0 - 3], 1e-12, "custom ignoreIndex");
    assert.ok(Number.isNaN(f64(crossEntropy(logits, ids([-100, -100, -100], [3])))[0]));
    const lsm = f64(logSoftmax(logits));
    assertClose(
      f64(crossEntropy(logits, ids([0, 1, 2], [3]), { reduction: "none" })),
      [
        -lsm[0],
        -lsm[4],
        -lsm[8],
      ],
      1e-12,
      "vs logSoftmax",
    );
  });
});

Deno.test("crossEntropy: [B, T, C] logits with [B, T] targets keep the targets' shape", () => {
  tidy(() => {
    const logits = tensor(values(2 * 3 * 4, 5), [2, 3, 4]);
    const l = crossEntropy(logits, ids([0, 1, 2, 3, 0, 1], [2, 3], "cpu"), { reduction: "none" });
    assert.deepEqual(l.shape, [2, 3]);
    assert.deepEqual(crossEntropy(logits, ids([0, 1, 2, 3, 0, 1], [2, 3], "cpu")).shape, []);
  });
});

Deno.test("crossEntropy: bad targets and shapes raise errors naming op, value and position", () => {
  tidy(() => {
    const logits = tensor(values(2 * 3 * 4, 6), [2, 3, 4]);
    assert.throws(
      () => crossEntropy(logits, ids([0, 1, 2, 3, 4, 1], [2, 3], "cpu")),
      /crossEntropy: target 4 at position \[1,1\] is not an integer in \[0, 4\) and is not ignoreIndex -100/,
    );
    assert.throws(() => crossEntropy(logits, ids([0, -1, 0, 0, 0, 0], [2, 3], "cpu")), /target -1/);
    assert.throws(
      () => crossEntropy(logits, ids([0, 1.5, 0, 0, 0, 0], [2, 3], "cpu")),
      /target 1.5/,
    );
    assert.throws(
      () => crossEntropy(logits, ids([0, 1, 2], [3], "cpu")),
      /crossEntropy: logits \[2,3,4\] need targets of shape \[2,3\]/,
    );
  });
});

Deno.test("crossEntropy: gradients for mean, sum and none (with an ignored row)", () => {
  const logits = leaf([4, 5], 7);
  const t = ids([1, -100, 4, 0], [4]);
  for (const reduction of ["mean", "sum", "none"] as const) {
    gradCheck(`crossEntropy ${reduction}`, (x) => crossEntropy(x, t, { reduction }), [logits], [0]);
  }
  tidy(() => {
    crossEntropy(logits, t).backward();
    const g = f64(logits.grad!);
    for (let j = 0; j < 5; j++) assert.equal(g[5 + j], 0, "ignored row gets zero gradient");
    logits.zeroGrad();
  });
});

// ---- tokenLogProbs --------------------------------------------------------------------------

const trl = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/trl_masked.json", import.meta.url)),
) as Record<string, number[][] | number[][][] | number[] | number>;

Deno.test("tokenLogProbs: matches TRL's logprobs_from_logits and gather(logSoftmax)", () => {
  tidy(() => {
    const raw = trl.logits as number[][][];
    const logits = tensor(raw.flat(2), [3, 5, 7], { backend: B64 });
    const labels = tensor((trl.labels as number[][]).flat(), [3, 5], { backend: B64 });
    const lp = tokenLogProbs(logits, labels);
    assert.deepEqual(lp.shape, [3, 5]);
    assertClose(f64(lp), (trl.logprobs_from_logits as number[][]).flat(), 1e-12, "TRL golden");
    const viaGather = gather(
      logSoftmax(logits),
      tensor(f64(labels), [3, 5, 1], { backend: B64 }),
      2,
    );
    assertClose(f64(lp), f64(viaGather), 1e-12, "gather(logSoftmax)");
  });
});

Deno.test("tokenLogProbs: gradient and label errors", () => {
  const logits = leaf([2, 3, 6], 8);
  const labels = ids([0, 5, 2, 2, 1, 3], [2, 3]);
  gradCheck("tokenLogProbs", (x) => tokenLogProbs(x, labels), [logits], [0]);
  tidy(() => {
    assert.throws(
      () => tokenLogProbs(logits, ids([0, 5, 2, 2, 6, 3], [2, 3])),
      /tokenLogProbs: label 6 at position \[1,1\] is not an integer in \[0, 6\)/,
    );
  });
});

// ---- layerNorm ------------------------------------------------------------------------------

Deno.test("layerNorm: biased variance with eps inside the sqrt, then weight and bias", () => {
  tidy(() => {
    const x = tensor([[1, 2, 3, 4]], undefined, { backend: B64 });
    const w = tensor([1, 2, 1, 1], undefined, { backend: B64 });
    const b = tensor([0, 0, 0, 10], undefined, { backend: B64 });
    const eps = 1e-3;
    const r = 1 / Math.sqrt(1.25 + eps);
    assertClose(
      f64(layerNorm(x, w, b, eps)),
      [-1.5 * r, -0.5 * r * 2, 0.5 * r, 1.5 * r + 10],
      1e-12,
      "y",
    );
    assert.throws(
      () => layerNorm(x, b, tensor([0, 0, 0], undefined, { backend: B64 })),
      /layerNorm:.*\[4\]/,
    );
  });
});

Deno.test("layerNorm: gradients for x, weight and bias", () => {
  const x = leaf([3, 2, 6], 10);
  const w = leaf([6], 11);
  const b = leaf([6], 12);
  gradCheck("layerNorm", (a, c, d) => layerNorm(a, c, d, 1e-5), [x, w, b], [0, 1, 2]);
});

// ---- rmsNorm --------------------------------------------------------------------------------

Deno.test("rmsNorm: x over the root mean square with eps inside the sqrt, times weight", () => {
  tidy(() => {
    const x = tensor([[1, 2, 3, 4], [0, 0, 0, 2]], undefined, { backend: B64 });
    const w = tensor([1, 2, 1, -1], undefined, { backend: B64 });
    const eps = 1e-3;
    const r0 = 1 / Math.sqrt(7.5 + eps), r1 = 1 / Math.sqrt(1 + eps);
    assertClose(
      f64(rmsNorm(x, w, eps)),
      [r0, 4 * r0, 3 * r0, -4 * r0, 0, 0, 0, -2 * r1],
      1e-12,
      "y",
    );
    assert.throws(
      () => rmsNorm(x, tensor([1, 1, 1], undefined, { backend: B64 })),
      /rmsNorm:.*\[4\]/,
    );
  });
});

Deno.test("rmsNorm: gradients for x and weight", () => {
  const x = leaf([3, 2, 6], 14);
  const w = leaf([6], 15);
  gradCheck("rmsNorm", (a, c) => rmsNorm(a, c, 1e-6), [x, w], [0, 1]);
});

Deno.test("rmsNorm: the fused f32 kernels and the composition give the f64 kernels' values", () => {
  // cpu runs the fused kernels split across threads, cpu64 the reference; both must also agree
  // with the composition of elementwise ops that backends without the kernel run.
  const shape = [4, 7, 96];
  const run = (backend: string, composed: boolean) => {
    const x = leaf(shape, 16, backend), w = leaf([96], 17, backend);
    const dy = tensor(values(sizeOf(shape), 18), shape, { backend });
    tidy(() => {
      const y = composed
        ? mul(mul(x, rsqrt(add(mean(mul(x, x), { axis: -1, keepDims: true }), 1e-6))), w)
        : rmsNorm(x, w, 1e-6);
      sum(mul(y, dy)).backward();
      return y;
    });
    const y = tidy(() => rmsNorm(x, w, 1e-6));
    const read = (t: Tensor) => backend === B64 ? f64(t) : Float64Array.from(t.toArraySync());
    const out = [read(y), read(x.grad!), read(w.grad!)];
    for (const t of [x, w, dy, y]) t.dispose();
    return out;
  };
  const want = run(B64, false), composed = run(B64, true), fast = run("cpu", false);
  ["y", "dx", "dweight"].forEach((what, i) => {
    assertClose(composed[i], want[i], 1e-12, `composition ${what}`);
    assertClose(fast[i], want[i], 1e-5, `f32 ${what}`);
  });
});

// ---- dropout --------------------------------------------------------------------------------

Deno.test("dropout: identity when not training or p = 0, seeded masks, gradient = dy·mask", () => {
  const x = tensor(values(1000, 13), [10, 100], { backend: B64, requiresGrad: true });
  tidy(() => {
    assertClose(f64(dropout(x, 0.3, { training: false })), f64(x), 0, "eval");
    assertClose(f64(dropout(x, 0)), f64(x), 0, "p = 0");
    const a = f64(dropout(x, 0.25, { generator: new Generator(4) }));
    const b = f64(dropout(x, 0.25, { generator: new Generator(4) }));
    assertClose(a, b, 0, "same seed, same mask");
    const xv = f64(x);
    let dropped = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === 0) dropped++;
      else assert.ok(Math.abs(a[i] - xv[i] / 0.75) < 1e-6, `kept value ${i} scaled by 1/(1-p)`);
    }
    assert.ok(dropped > 200 && dropped < 300, `dropped ${dropped} of 1000 at p = 0.25`);
    assertClose(f64(dropout(x, 1)), new Float64Array(1000), 0, "p = 1");
    assert.throws(() => dropout(x, 1.5), /dropout: p must be in \[0, 1\], got 1.5/);
  });
  const before = memory();
  tidy(() => {
    const y = dropout(x, 0.5, { generator: new Generator(5) });
    sum(y).backward();
    const yv = f64(y), xv = f64(x), g = f64(x.grad!);
    for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i] - yv[i] / xv[i]) < 1e-6);
    x.zeroGrad();
  });
  assert.deepEqual(memory(), before, "the saved mask is freed");
});

// ---- gather / embedding ---------------------------------------------------------------------

Deno.test("gather: torch.gather semantics on both axes, smaller index shapes, errors", () => {
  tidy(() => {
    const t = tensor([[1, 2], [3, 4]], undefined, { backend: B64 });
    assertClose(f64(gather(t, ids([0, 0, 1, 0], [2, 2]), 1)), [1, 1, 4, 3], 0, "axis 1");
    assertClose(f64(gather(t, ids([1, 0], [1, 2]), 0)), [3, 2], 0, "axis 0");
    const x = tensor(Array.from({ length: 12 }, (_, i) => i), [3, 4], { backend: B64 });
    const g = gather(x, ids([3, 0, 2, 2, 1, 1], [3, 2]), 1);
    assert.deepEqual(g.shape, [3, 2]);
    assertClose(f64(g), [3, 0, 6, 6, 9, 9], 0, "[3,2] index of [3,4]");
    assert.throws(
      () => gather(t, ids([0, 2], [1, 2]), 1),
      /gather: index 2 at position \[0,1\] is not an integer in \[0, 2\)/,
    );
    assert.throws(() => gather(t, ids([0, 0, 0], [1, 3]), 0), /gather: index \[1,3\].*no larger/);
  });
});

Deno.test("gather: gradient scatter-adds repeated indices", () => {
  const x = leaf([3, 4], 14);
  const index = ids([3, 3, 2, 2, 0, 1, 1, 1, 0], [3, 3]);
  gradCheck("gather axis 1", (t) => gather(t, index, 1), [x], [0]);
  gradCheck("gather axis 0", (t) => gather(t, ids([2, 0, 2, 1, 2, 2, 0, 0], [2, 4]), 0), [x], [0]);
  const x3 = leaf([2, 3, 2], 15);
  const index3 = ids([2, 0, 1, 1, 0, 2, 2, 2], [2, 2, 2]);
  gradCheck("gather rank 3, middle axis", (t) => gather(t, index3, 1), [x3], [0]);
});

Deno.test("embedding: rows by id, [..., D] output, accumulating gradient, id errors", () => {
  tidy(() => {
    const w = tensor([[0, 1], [2, 3], [4, 5]], undefined, { backend: B64 });
    const e = embedding(w, ids([2, 0, 2, 1], [2, 2]));
    assert.deepEqual(e.shape, [2, 2, 2]);
    assertClose(f64(e), [4, 5, 0, 1, 4, 5, 2, 3], 0, "rows");
    assert.throws(() => embedding(w, ids([0, 3], [2])), /embedding: id 3 at position \[1\].*V = 3/);
  });
  const w = leaf([5, 3], 16);
  gradCheck("embedding", (t) => embedding(t, ids([4, 1, 4, 0, 4, 2], [2, 3])), [w], [0]);
});

// ---- attention ------------------------------------------------------------------------------

interface AttnCase {
  name: string;
  tq: number;
  tk: number;
  causal: boolean;
  mask?: number[];
}

const attnCases: AttnCase[] = [
  { name: "plain", tq: 3, tk: 3, causal: false },
  { name: "causal", tq: 4, tk: 4, causal: true },
  { name: "padding mask", tq: 3, tk: 3, causal: false, mask: [1, 1, 0, 0, 1, 1] },
  // Left padding under a causal mask: query 0 of batch 1 sees no key at all.
  { name: "causal + left padding", tq: 3, tk: 3, causal: true, mask: [1, 1, 1, 0, 1, 1] },
  {
    name: "KV cache (Tq < Tk), causal",
    tq: 2,
    tk: 4,
    causal: true,
    mask: [1, 1, 1, 1, 0, 1, 1, 1],
  },
];

function attnInputs(c: AttnCase, seed: number) {
  const q = leaf([2, 2, c.tq, 3], seed);
  const k = leaf([2, 2, c.tk, 3], seed + 1);
  const v = leaf([2, 2, c.tk, 4], seed + 2);
  const mask = c.mask ? ids(c.mask, [2, c.tk]) : undefined;
  return { q, k, v, mask };
}

Deno.test("attentionComposed: q = 0 averages v; default scale is 1/sqrt(D); no NaN", () => {
  tidy(() => {
    const q = tensor(new Float64Array(1 * 1 * 2 * 4), [1, 1, 2, 4], { backend: B64 });
    const k = tensor(values(12, 20), [1, 1, 3, 4], { backend: B64 });
    const v = tensor([[[[1, 2], [3, 4], [5, 9]]]], undefined, { backend: B64 });
    assertClose(f64(attentionComposed(q, k, v)), [3, 5, 3, 5], 1e-12, "uniform");
    assertClose(
      f64(attentionComposed(q, k, v, { causal: true, mask: ids([1, 1, 1], [1, 3]) })),
      [2, 3, 3, 5],
      1e-12,
      "causal, Tq < Tk: row 0 sees keys 0..1",
    );
    const qr = tensor(values(8, 21), [1, 1, 2, 4], { backend: B64 });
    assertClose(
      f64(attentionComposed(qr, k, v)),
      f64(attentionComposed(qr, k, v, { scale: 0.5 })),
      1e-12,
      "1/sqrt(4) = 0.5",
    );
    const allPad = attentionComposed(qr, k, v, { mask: ids([0, 0, 0], [1, 3]) });
    assertClose(f64(allPad), [3, 5, 3, 5], 1e-12, "all keys hidden: uniform, finite");
  });
});

Deno.test("attention (fused) equals attentionComposed within 1e-5 on cpu64: values and gradients", () => {
  // The second pass shrinks the scratch block so heads run in chunks of 3 (the last one partial).
  const defaultLimit = setAttentionScratchLimit(1 << 22);
  try {
    compareFusedWithComposed();
  } finally {
    setAttentionScratchLimit(defaultLimit);
  }
});

function compareFusedWithComposed(): void {
  for (const [n, c] of [...attnCases, ...attnCases].entries()) {
    if (n >= attnCases.length) setAttentionScratchLimit(3 * c.tq * c.tk);
    const { q, k, v, mask } = attnInputs(c, 30 + 3 * n);
    const opts = { causal: c.causal, mask };
    const results = [attention, attentionComposed].map((f) =>
      tidy(() => {
        const y = f(q, k, v, opts);
        const w = tensor(values(y.size, 7), y.shape, { backend: B64 });
        sum(mul(y, w)).backward();
        const out = [f64(y), f64(q.grad!), f64(k.grad!), f64(v.grad!)];
        for (const t of [q, k, v]) t.zeroGrad();
        return out;
      })
    );
    for (const [i, part] of ["values", "dq", "dk", "dv"].entries()) {
      for (const x of results[0][i]) assert.ok(Number.isFinite(x), `${c.name}: ${part} finite`);
      assertClose(results[0][i], results[1][i], 1e-5, `${c.name}: ${part}`);
    }
  }
}

Deno.test("attention (fused and composed): gradients by finite differences", () => {
  for (const [n, c] of attnCases.entries()) {
    const { q, k, v, mask } = attnInputs(c, 50 + 3 * n);
    for (const f of [attention, attentionComposed]) {
      gradCheck(`${f.name} ${c.name}`, (a, b, d) => f(a, b, d, { causal: c.causal, mask }), [
        q,
        k,
        v,
      ], [0, 1, 2]);
    }
  }
});

Deno.test("attention: shape errors name the op and the shapes", () => {
  tidy(() => {
    const q = tensor(new Float32Array(24), [1, 2, 3, 4]);
    const k = tensor(new Float32Array(24), [1, 2, 3, 4]);
    assert.throws(
      () => attention(q, k, tensor(new Float32Array(12), [1, 3, 4])),
      /attention: q, k and v must be \[B, H, T, D\]/,
    );
    assert.throws(
      () => attention(q, tensor(new Float32Array(18), [1, 2, 3, 3]), k),
      /attention: .* disagree/,
    );
    assert.throws(
      () => attention(q, k, k, { mask: tensor([1, 1], [1, 2]) }),
      /mask must be \[B, Tk\] = \[1,3\]/,
    );
  });
});

// ---- masked statistics (TRL) ----------------------------------------------------------------

Deno.test("maskedMean / maskedVar / maskedWhiten: TRL 0.7.4 golden values", () => {
  tidy(() => {
    const v = tensor((trl.values as number[][]).flat(), [3, 5], { backend: B64 });
    const m = tensor((trl.mask as number[][]).flat(), [3, 5], { backend: B64 });
    assertClose(f64(maskedMean(v, m)), [trl.masked_mean as number], 1e-12, "mean");
    assertClose(f64(maskedMean(v, m, 1)), trl.masked_mean_axis1 as number[], 1e-12, "mean axis 1");
    assertClose(f64(maskedVar(v, m)), [trl.masked_var_unbiased as number], 1e-12, "var unbiased");
    assertClose(
      f64(maskedVar(v, m, false)),
      [trl.masked_var_biased as number],
      1e-12,
      "var biased",
    );
    assertClose(
      f64(maskedWhiten(v, m)),
      (trl.masked_whiten_shift as number[][]).flat(),
      1e-10,
      "whiten",
    );
    assertClose(
      f64(maskedWhiten(v, m, false)),
      (trl.masked_whiten_noshift as number[][]).flat(),
      1e-10,
      "whiten, shiftMean false",
    );
    assert.throws(
      () => maskedVar(v, tensor(new Float64Array(15), [3, 5], { backend: B64 })),
      /maskedVar: the mask sums to zero/,
    );
    assert.throws(
      () => maskedMean(v, tensor([1, 1, 1], [3], { backend: B64 })),
      /maskedMean: mask \[3\] must have the shape of values \[3,5\]/,
    );
  });
});

Deno.test("maskedWhiten: gradient", () => {
  const v = leaf([2, 4], 60);
  const m = ids([1, 1, 0, 1, 0, 1, 1, 1], [2, 4]);
  gradCheck("maskedWhiten", (x) => maskedWhiten(x, m), [v], [0]);
  gradCheck("maskedMean axis", (x) => maskedMean(x, m, 1), [v], [0]);
});

// ---- memory ---------------------------------------------------------------------------------

Deno.test("fused ops free their saved tensors after backward, and at once without grad", () => {
  const l = (shape: Shape, seed: number, made: Tensor[]) => {
    const t = leaf(shape, seed);
    made.push(t);
    return t;
  };
  const i = (list: number[], shape: Shape, made: Tensor[]) => {
    const t = ids(list, shape);
    made.push(t);
    return t;
  };
  const runs: [string, (m: Tensor[]) => Tensor][] = [
    ["softmax", (m) => softmax(l([2, 3], 1, m))],
    ["logSoftmax", (m) => logSoftmax(l([2, 3], 1, m))],
    ["crossEntropy", (m) => crossEntropy(l([2, 3], 2, m), i([0, -100], [2], m))],
    ["tokenLogProbs", (m) => tokenLogProbs(l([2, 3], 3, m), i([0, 2], [2], m))],
    ["layerNorm", (m) => layerNorm(l([2, 3], 4, m), l([3], 5, m), l([3], 6, m))],
    ["dropout", (m) => dropout(l([2, 3], 7, m), 0.5, { generator: new Generator(1) })],
    ["gather", (m) => gather(l([2, 3], 8, m), i([2, 0], [2, 1], m), 1)],
    ["embedding", (m) => embedding(l([4, 3], 9, m), i([3, 1], [2], m))],
    ["attention", (m) => {
      const [q, k, v] = [10, 11, 12].map((s) => l([1, 2, 3, 2], s, m));
      return attention(q, k, v, { causal: true, mask: i([1, 0, 1], [1, 3], m) });
    }],
  ];
  for (const [name, run] of runs) {
    for (const withGrad of [true, false]) {
      const before = memory();
      const made: Tensor[] = [];
      const y = withGrad ? run(made) : noGrad(() => run(made));
      if (withGrad) {
        const loss = sum(y);
        loss.backward();
        loss.dispose();
      }
      y.dispose();
      for (const t of made) t.dispose();
      assert.deepEqual(memory(), before, `${name} (${withGrad ? "backward" : "no grad"})`);
    }
  }
});
