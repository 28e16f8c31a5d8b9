/**
 * The f32 `cpu` backend's fast elementwise kernels against the reference ones: the binary loops
 * must give the reference's bits on every layout they take (and on the ones they hand back), and
 * the WebAssembly geluTanh and its gradient must match the f64 formula.
 */

import assert from "node:assert/strict";
import { getBackend, type KernelTensor } from "../../core/mod.ts";
import {
  FAST_BINARY_OPS,
  fastBinary,
  fastGelu,
  fastGeluGrad,
  fastGeluTanh,
  fastGeluTanhGrad,
} from "../../core/backends/cpu/fast/elementwise.ts";
import { erf } from "../../core/backends/cpu/kernels/erf.ts";
import {
  binaryBroadcast,
  binaryFns,
  unaryFns,
  unaryGradFns,
} from "../../core/backends/cpu/kernels/elementwise.ts";
import { Generator } from "../../core/random.ts";

const cpu = getBackend("cpu");

function kt(values: Float32Array, shape: number[], offset = 0): KernelTensor {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
  const handle = new Float32Array(values.length + offset + 2).fill(Number.NaN);
  handle.set(values, offset);
  return { handle, shape, strides, offset, size: values.length };
}

const view = (t: KernelTensor) => (t.handle as Float32Array).subarray(t.offset, t.offset + t.size);
const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** [a shape, b shape, out shape]: every fast layout, then two the reference must take. */
const LAYOUTS: [number[], number[], number[]][] = [
  [[4, 5, 6], [4, 5, 6], [4, 5, 6]],
  [[4, 5, 6], [], [4, 5, 6]],
  [[1], [4, 5, 6], [4, 5, 6]],
  [[4, 5, 6], [6], [4, 5, 6]],
  [[4, 5, 6], [1, 5, 6], [4, 5, 6]],
  [[5, 6], [4, 5, 6], [4, 5, 6]],
  [[4, 5, 1], [4, 5, 6], [4, 5, 6]],
  [[4, 1, 6], [1, 5, 1], [4, 5, 6]],
];

for (const op of FAST_BINARY_OPS) {
  Deno.test(`fast ${op} gives the reference kernel's bits on every layout`, () => {
    const gen = new Generator(op.length);
    const kernel = fastBinary(op);
    for (const [sa, sb, so] of LAYOUTS) {
      const a = kt(gen.normal(sizeOf(sa)), sa, 3), b = kt(gen.normal(sizeOf(sb)), sb, 1);
      const out = kt(new Float32Array(sizeOf(so)), so, 2);
      const ref = kt(new Float32Array(sizeOf(so)), so);
      kernel([a, b], [out], {}, cpu);
      binaryBroadcast(a, b, ref, binaryFns[op]);
      const got = view(out), want = view(ref);
      for (let i = 0; i < want.length; i++) {
        if (!Object.is(got[i], want[i])) {
          assert.fail(`${op} ${JSON.stringify([sa, sb])}[${i}]: ${got[i]} vs ${want[i]}`);
        }
      }
      assert.ok(Number.isNaN((out.handle as Float32Array)[1]), `${op}: wrote before the output`);
    }
  });
}

function geluInputs(gen: Generator): Float32Array {
  // Odd length (not a whole vector), spread wide enough to reach both flat tails, crossing the
  // chunk size the host copies through the module's memory.
  const n = (1 << 14) + 4099;
  const x = gen.normal(n, 0, 3);
  x.set([0, -0, 1e-30, -1e-30, 12, -12, 30, -30, 88, -88, 1e4, -1e4], 0);
  return x;
}

// f32 inputs are exact in f64, so the formula in f64 is the truth. Measured worst relative errors
// of the f32 kernels: 1.6e-6 (geluTanh) and 2.0e-6 (gradient, relative to its terms).
const GELU_RTOL = 1e-5, GELU_GRAD_RTOL = 1e-5, ATOL = 1e-12;

Deno.test("fast geluTanh matches the f64 formula", () => {
  const xs = geluInputs(new Generator(1));
  const x = kt(xs, [xs.length], 2), out = kt(new Float32Array(xs.length), [xs.length], 1);
  fastGeluTanh([x], [out], {}, cpu);
  const got = view(out);
  for (let i = 0; i < xs.length; i++) {
    const want = unaryFns.geluTanh(xs[i]);
    const err = Math.abs(got[i] - want);
    if (!(err <= GELU_RTOL * Math.abs(want) + ATOL)) {
      assert.fail(`geluTanh(${xs[i]}) = ${got[i]}, f64 formula ${want}`);
    }
  }
});

/** |s| + |2 x s (1 − s) u'| for s = σ(2u): the two terms of geluTanh's derivative. */
function derivativeTerms(x: number): number {
  const k = Math.sqrt(2 / Math.PI);
  const s = 1 / (1 + Math.exp(-2 * k * (x + 0.044715 * x ** 3)));
  return Math.abs(s) + Math.abs(2 * x * s * (1 - s) * k * (1 + 3 * 0.044715 * x * x));
}

Deno.test("fast geluTanhGrad matches the f64 derivative", () => {
  const gen = new Generator(2);
  const xs = geluInputs(gen), dys = gen.normal(xs.length);
  const x = kt(xs, [xs.length], 2), dy = kt(dys, [xs.length], 5);
  const out = kt(new Float32Array(xs.length), [xs.length]);
  fastGeluTanhGrad([x, dy], [out], {}, cpu);
  const got = view(out);
  for (let i = 0; i < xs.length; i++) {
    const want = dys[i] * unaryGradFns.geluTanhGrad(xs[i]);
    // The derivative is a sum of two terms that cancel near x ≈ -0.75; f32 rounding is relative
    // to the terms, not to their sum.
    const scale = Math.abs(dys[i]) * derivativeTerms(xs[i]);
    const err = Math.abs(got[i] - want);
    if (!(err <= GELU_GRAD_RTOL * scale + ATOL)) {
      assert.fail(`geluTanhGrad(${xs[i]}) · ${dys[i]} = ${got[i]}, f64 ${want}`);
    }
  }
});

Deno.test("fast geluTanh keeps the reference's special values", () => {
  const xs = Float32Array.of(Infinity, -Infinity, Number.NaN, 0, -0, -1e4, 1e4, -3e38);
  const x = kt(xs, [xs.length]), out = kt(new Float32Array(xs.length), [xs.length]);
  fastGeluTanh([x], [out], {}, cpu);
  const got = view(out);
  for (let i = 0; i < xs.length; i++) {
    const want = Math.fround(unaryFns.geluTanh(xs[i]));
    assert.ok(Object.is(got[i], want), `geluTanh(${xs[i]}) = ${got[i]}, reference ${want}`);
  }
});

Deno.test("fast geluTanhGrad hands broadcast layouts to the reference", () => {
  const gen = new Generator(3);
  const x = kt(gen.normal(12), [3, 4]), dy = kt(gen.normal(4), [4]);
  const out = kt(new Float32Array(12), [3, 4]);
  fastGeluTanhGrad([x, dy], [out], {}, cpu);
  const X = view(x), D = view(dy), got = view(out);
  for (let i = 0; i < 12; i++) {
    const want = D[i % 4] * unaryGradFns.geluTanhGrad(X[i]);
    assert.ok(Math.abs(got[i] - want) <= 1e-6 * Math.abs(want) + 1e-12, `element ${i}`);
  }
});

/**
 * Φ(x) in f64 without cancellation: the reference's erf series where 1 + erf(x/√2) keeps its
 * digits, the continued fraction of erfc in the lower tail.
 */
function normalCdf(x: number): number {
  if (x >= -3) return 0.5 * (1 + erf(x / Math.SQRT2));
  const z = -x / Math.SQRT2;
  let f = z;
  for (let n = 80; n >= 1; n--) f = z + (n / 2) / f;
  return 0.5 * Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

// Measured worst relative errors of the f32 kernel: ~5e-7 where |x| < 6, ~5e-6 at x = -12
// (the f32 exponent −z² carries its rounding into the tail).
const EXACT_GELU_RTOL = 1e-5;

Deno.test("fast gelu (erf) matches x Φ(x) in f64, tails included", () => {
  const xs = geluInputs(new Generator(4));
  const x = kt(xs, [xs.length], 2), out = kt(new Float32Array(xs.length), [xs.length], 1);
  fastGelu([x], [out], {}, cpu);
  const got = view(out);
  for (let i = 0; i < xs.length; i++) {
    const want = xs[i] * normalCdf(xs[i]);
    if (!(Math.abs(got[i] - want) <= EXACT_GELU_RTOL * Math.abs(want) + ATOL)) {
      assert.fail(`gelu(${xs[i]}) = ${got[i]}, f64 ${want}`);
    }
  }
});

Deno.test("fast geluGrad matches Φ(x) + x φ(x) in f64", () => {
  const gen = new Generator(5);
  const xs = geluInputs(gen), dys = gen.normal(xs.length);
  const x = kt(xs, [xs.length], 2), dy = kt(dys, [xs.length], 5);
  const out = kt(new Float32Array(xs.length), [xs.length]);
  fastGeluGrad([x, dy], [out], {}, cpu);
  const got = view(out);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    const pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
    const want = dys[i] * (normalCdf(v) + v * pdf);
    // Relative to the two terms: they cancel near x ≈ −0.75.
    const scale = Math.abs(dys[i]) * (normalCdf(v) + Math.abs(v * pdf));
    if (!(Math.abs(got[i] - want) <= EXACT_GELU_RTOL * scale + ATOL)) {
      assert.fail(`geluGrad(${v}) · ${dys[i]} = ${got[i]}, f64 ${want}`);
    }
  }
});

Deno.test("fast gelu keeps the reference's special values", () => {
  const xs = Float32Array.of(Infinity, -Infinity, Number.NaN, 0, -0, -1e4, 1e4, -3e38);
  const x = kt(xs, [xs.length]), out = kt(new Float32Array(xs.length), [xs.length]);
  fastGelu([x], [out], {}, cpu);
  const got = view(out);
  for (let i = 0; i < xs.length; i++) {
    const want = Math.fround(unaryFns.gelu(xs[i]));
    assert.ok(Object.is(got[i], want), `gelu(${xs[i]}) = ${got[i]}, reference ${want}`);
  }
});
