/**
 * Kernels split across the helper threads give exactly what the same kernel gives on one
 * thread: every fast kernel that splits runs once split (shared storage, sizes well above the
 * grain) and once serially on plain arrays, and the results must be the same bits. A failure in
 * a helper surfaces on the main thread naming the kernel.
 */

import assert from "node:assert/strict";
import {
  attention,
  getBackend,
  type Kernel,
  type KernelTensor,
  tensor,
  tidy,
} from "../../core/mod.ts";
import {
  parallelFor,
  parallelReady,
  parallelStats,
  setParallelEnabled,
} from "../../core/backends/cpu/fast/parallel.ts";
import {
  fastAdamw,
  fastBinary,
  fastGelu,
  fastGeluGrad,
  fastGeluTanh,
  fastGeluTanhGrad,
} from "../../core/backends/cpu/fast/elementwise.ts";
import {
  fastLayerNorm,
  fastLayerNormGrad,
  fastRmsNorm,
  fastRmsNormGrad,
} from "../../core/backends/cpu/fast/layer_norm.ts";
import { fastStridedCopy } from "../../core/backends/cpu/fast/layout.ts";
import {
  fastLogSoftmax,
  fastLogSoftmaxGrad,
  fastSoftmax,
  fastSoftmaxGrad,
  fastTokenLogProbs,
  fastTokenLogProbsGrad,
} from "../../core/backends/cpu/fast/rows.ts";
import { registerRangeKernel } from "../../core/backends/cpu/fast/range_registry.ts";
import { fastSum } from "../../core/backends/cpu/fast/reduce.ts";
import { sumKernel } from "../../core/backends/cpu/kernels/reduce.ts";
import { Generator } from "../../core/random.ts";

const cpu = getBackend("cpu");
const threads = await parallelReady();

const strides = (shape: number[]) =>
  shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** A tensor on shared storage (as the backend allocates) or on a plain array. */
function kt(values: ArrayLike<number>, shape: number[], shared: boolean): KernelTensor {
  const handle = shared
    ? new Float32Array(new SharedArrayBuffer(values.length * 4))
    : new Float32Array(values.length);
  handle.set(values);
  return { handle, shape, strides: strides(shape), offset: 0, size: values.length };
}

/** Runs `kernel` split (shared storage) and serial (splitting off); the bits must match. */
function splitEqualsSerial(
  what: string,
  kernel: Kernel,
  inputs: [ArrayLike<number>, number[]][],
  outShapes: number[][],
  attrs: Record<string, unknown> = {},
  inPlace = false,
): void {
  const run = (split: boolean) => {
    const ins = inputs.map(([v, s]) => kt(v, s, true));
    const outs = outShapes.map((s) => kt(new Float32Array(size(s)), s, true));
    const before = parallelStats.split;
    const prev = setParallelEnabled(split);
    try {
      kernel(ins, outs, attrs, cpu);
    } finally {
      setParallelEnabled(prev);
    }
    split = parallelStats.split > before;
    const got = (inPlace ? ins : outs).map((t) => Float32Array.from(t.handle as Float32Array));
    return { got, split };
  };
  const a = run(true), b = run(false);
  if (threads > 1) assert.ok(a.split, `${what}: the shared run did not split`);
  assert.ok(!b.split, `${what}: the serial run split`);
  a.got.forEach((g, k) => {
    const w = b.got[k];
    for (let i = 0; i < w.length; i++) {
      if (!Object.is(g[i], w[i])) assert.fail(`${what} output ${k}[${i}]: ${g[i]} vs ${w[i]}`);
    }
  });
}

const gen = new Generator(11);
const normal = (n: number, std = 1) => gen.normal(n, 0, std);
const big = [96, 4096];

Deno.test(`parallel: helper threads are running (${threads} threads)`, () => {
  assert.ok(threads >= 1);
  if ((navigator.hardwareConcurrency ?? 1) > 1) assert.ok(threads > 1);
});

for (const op of ["add", "sub", "mul", "div"] as const) {
  Deno.test(`parallel: ${op} split = serial on every fast layout`, () => {
    const x = normal(size(big)), y = normal(size(big)), row = normal(4096);
    splitEqualsSerial(`${op} same`, fastBinary(op), [[x, big], [y, big]], [big]);
    splitEqualsSerial(`${op} scalar`, fastBinary(op), [[x, big], [[1.5], []]], [big]);
    splitEqualsSerial(`${op} bias row`, fastBinary(op), [[x, big], [row, [4096]]], [big]);
    splitEqualsSerial(`${op} block on the left`, fastBinary(op), [[row, [4096]], [x, big]], [big]);
  });
}

Deno.test("parallel: the GELUs and their gradients split = serial", () => {
  const x = normal(size(big), 3), dy = normal(size(big));
  splitEqualsSerial("gelu", fastGelu, [[x, big]], [big]);
  splitEqualsSerial("geluTanh", fastGeluTanh, [[x, big]], [big]);
  splitEqualsSerial("geluGrad", fastGeluGrad, [[x, big], [dy, big]], [big]);
  splitEqualsSerial("geluTanhGrad", fastGeluTanhGrad, [[x, big], [dy, big]], [big]);
});

Deno.test("parallel: row kernels split = serial", () => {
  const x = normal(size(big), 4), dy = normal(size(big));
  const axis = { axis: 1 };
  splitEqualsSerial("softmax", fastSoftmax, [[x, big]], [big], axis);
  splitEqualsSerial("logSoftmax", fastLogSoftmax, [[x, big]], [big], axis);
  splitEqualsSerial("softmaxGrad", fastSoftmaxGrad, [[x, big], [dy, big]], [big], axis);
  splitEqualsSerial("logSoftmaxGrad", fastLogSoftmaxGrad, [[x, big], [dy, big]], [big], axis);
  const labels = Array.from({ length: 96 }, () => gen.int(4096));
  splitEqualsSerial("tokenLogProbs", fastTokenLogProbs, [[x, big], [labels, [96]]], [[96], [96]]);
  const lse = new Float32Array(96), g = normal(96);
  {
    const ins = [kt(x, big, true), kt(labels, [96], true)];
    const outs = [kt(new Float32Array(96), [96], true), kt(lse, [96], true)];
    fastTokenLogProbs(ins, outs, {}, cpu);
    lse.set(outs[1].handle as Float32Array);
  }
  splitEqualsSerial(
    "tokenLogProbsGrad",
    fastTokenLogProbsGrad,
    [[x, big], [labels, [96]], [lse, [96]], [g, [96]]],
    [big],
  );
});

Deno.test("parallel: layer norm and its gradient split = serial", () => {
  const shape = [512, 768];
  const x = normal(size(shape), 2), w = normal(768), b = normal(768), dy = normal(size(shape));
  splitEqualsSerial("layerNorm", fastLayerNorm, [[x, shape], [w, [768]], [b, [768]]], [
    shape,
    [512],
    [512],
  ], { eps: 1e-5 });
  const mean = new Float32Array(512), rstd = new Float32Array(512);
  for (let r = 0; r < 512; r++) {
    let s = 0;
    for (let j = 0; j < 768; j++) s += x[r * 768 + j];
    mean[r] = s / 768;
    rstd[r] = 0.5 + (r % 7) / 10;
  }
  splitEqualsSerial(
    "layerNormGrad",
    fastLayerNormGrad,
    [[x, shape], [w, [768]], [mean, [512]], [rstd, [512]], [dy, shape]],
    [shape, [768], [768]],
  );
});

Deno.test("parallel: RMS norm and its gradient split = serial", () => {
  const shape = [512, 576];
  const x = normal(size(shape), 3), w = normal(576), dy = normal(size(shape));
  splitEqualsSerial("rmsNorm", fastRmsNorm, [[x, shape], [w, [576]]], [shape, [512]], {
    eps: 1e-6,
  });
  const rstd = new Float32Array(512).map((_, r) => 0.5 + (r % 7) / 10);
  splitEqualsSerial(
    "rmsNormGrad",
    fastRmsNormGrad,
    [[x, shape], [w, [576]], [rstd, [512]], [dy, shape]],
    [shape, [576]],
  );
});

Deno.test("parallel: strided copies of permuted views split = serial", () => {
  // [B, T, H, D] read as [B, H, T, D] (splitting attention heads), and a transposed matrix.
  const src = normal(8 * 128 * 12 * 64);
  const view = (shared: boolean): KernelTensor => ({
    ...kt(src, [8, 128, 12, 64], shared),
    shape: [8, 12, 128, 64],
    strides: [128 * 12 * 64, 64, 12 * 64, 1],
  });
  const run = (split: boolean) => {
    const out = kt(new Float32Array(src.length), [8, 12, 128, 64], true);
    const prev = setParallelEnabled(split);
    fastStridedCopy([view(true)], [out], {}, cpu);
    setParallelEnabled(prev);
    return out.handle as Float32Array;
  };
  const a = run(true), b = run(false);
  assert.deepEqual(a, b);
  // Spot-check the permutation itself.
  assert.equal(a[((1 * 12 + 3) * 128 + 5) * 64 + 7], src[((1 * 128 + 5) * 12 + 3) * 64 + 7]);
});

Deno.test("parallel: row sums and column sums split = serial, and equal the reference", () => {
  const shape = [256, 1024], x = normal(size(shape));
  splitEqualsSerial("sum rows", fastSum, [[x, shape]], [[256]], { axes: [1] });
  splitEqualsSerial("sum columns", fastSum, [[x, shape]], [[1024]], { axes: [0] });
  const three = [16, 64, 128];
  splitEqualsSerial("sum trailing axes", fastSum, [[x.subarray(0, size(three)), three]], [[16]], {
    axes: [1, 2],
  });
  for (const axes of [[1], [0], [0, 1]]) {
    const outShape = shape.filter((_, i) => !axes.includes(i));
    const fast = kt(new Float32Array(size(outShape)), outShape, true);
    const ref = kt(new Float32Array(size(outShape)), outShape, false);
    fastSum([kt(x, shape, true)], [fast], { axes }, cpu);
    sumKernel(kt(x, shape, false), ref, axes);
    assert.deepEqual(fast.handle, ref.handle, `axes ${axes}`);
  }
});

Deno.test("parallel: Adam split = serial, in place", () => {
  const n = 300_000;
  const p = normal(n), g = normal(n), m = normal(n, 0.1), v = normal(n, 0.1).map(Math.abs);
  splitEqualsSerial("adamw", fastAdamw, [[p, [n]], [g, [n]], [m, [n]], [v, [n]]], [], {
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.01,
    step: 3,
    decoupled: true,
  }, true);
});

registerRangeKernel("testFailsPastHalf", (args, s, e) => {
  const [out] = args as [Float32Array];
  for (let i = s; i < e; i++) {
    if (i >= out.length / 2) throw new Error(`index ${i} is past half`);
    out[i] = 1;
  }
});

Deno.test("parallel: an error in a helper thread reaches the caller", () => {
  if (threads < 2) return;
  const out = new Float32Array(new SharedArrayBuffer(4 * 1000));
  // The helpers do not know this test's kernel: the error names it.
  assert.throws(
    () => parallelFor("testFailsPastHalf", [out], 1000, { grain: 10, writes: [0] }),
    /'testFailsPastHalf' failed in a helper thread: cpu \(parallel\): no range kernel/,
  );
});

Deno.test("parallel: attention forward and backward split = serial (masks, causal)", () => {
  const [b, h, t, d] = [4, 8, 128, 32];
  const q = normal(b * h * t * d), k = normal(b * h * t * d), v = normal(b * h * t * d);
  const dy = normal(b * h * t * d);
  const mask = Array.from({ length: b * t }, (_, i) => (i % t < t - 17 * (i / t | 0) ? 1 : 0));
  for (const causal of [false, true]) {
    const run = (split: boolean) => {
      const prev = setParallelEnabled(split);
      try {
        return tidy(() => {
          const [tq, tk, tv] = [q, k, v].map((x) =>
            tensor(x, [b, h, t, d], { requiresGrad: true })
          );
          const m = tensor(mask, [b, t]);
          const out = attention(tq, tk, tv, { causal, mask: m });
          out.backward(tensor(dy, [b, h, t, d]));
          return [out, tq.grad!, tk.grad!, tv.grad!].map((x) => x.toArraySync());
        });
      } finally {
        setParallelEnabled(prev);
      }
    };
    const before = parallelStats.split;
    const a = run(true);
    if (threads > 1) assert.ok(parallelStats.split > before, "attention did not split");
    const s = run(false);
    a.forEach((x, i) => assert.deepEqual(x, s[i], `causal ${causal}: output ${i}`));
  }
});
