/**
 * The f32 `cpu` backend's row kernels (softmax, logSoftmax, cross-entropy and token log-probs
 * with their gradients, on a WebAssembly SIMD exp) against the reference kernels run on the same
 * f32 inputs in f64 storage: row lengths that are not whole vectors, rows spanning several passes
 * through the module's memory, ignored targets, every reduction, extreme and infinite logits.
 */

import assert from "node:assert/strict";
import { getBackend, type KernelTensor } from "../../core/mod.ts";
import {
  fastCrossEntropy,
  fastCrossEntropyGrad,
  fastLogSoftmax,
  fastSoftmax,
  fastTokenLogProbs,
  fastTokenLogProbsGrad,
} from "../../core/backends/cpu/fast/rows.ts";
import {
  crossEntropyGradKernel,
  crossEntropyKernel,
  type Reduction,
  tokenLogProbsGradKernel,
  tokenLogProbsKernel,
} from "../../core/backends/cpu/kernels/cross_entropy.ts";
import { logSoftmaxKernel, softmaxKernel } from "../../core/backends/cpu/kernels/softmax.ts";
import { Generator } from "../../core/random.ts";

const cpu = getBackend("cpu");
/** exp on f32 is good to a few ulp and the sums run in f64: far inside this. */
const RTOL = 1e-5, ATOL = 1e-12;

type Arr = Float32Array | Float64Array;

function kt(handle: Arr, shape: number[]): KernelTensor {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
  return { handle, shape, strides, offset: 0, size: handle.length };
}

/** The same values as f32 storage and as f64 storage (the reference's exact twin). */
function pair(values: Float32Array, shape: number[]): [KernelTensor, KernelTensor] {
  return [kt(Float32Array.from(values), shape), kt(Float64Array.from(values), shape)];
}

const zeros = (n: number, shape: number[]): [KernelTensor, KernelTensor] =>
  pair(new Float32Array(n), shape);

/**
 * |got − want| <= RTOL·|want| + atol(i). Gradients pass atol = f32 resolution of the row's scale
 * g: at the target, g·p − g cancels to far below g, and f32 cannot do better than ~1e-7·g there.
 */
function assertClose(
  got: KernelTensor,
  want: KernelTensor,
  what: string,
  atol: (i: number) => number = () => ATOL,
): void {
  const G = got.handle as Arr, W = want.handle as Arr;
  assert.equal(G.length, W.length, `${what}: length`);
  for (let i = 0; i < W.length; i++) {
    if (Object.is(G[i], W[i]) || (Number.isNaN(G[i]) && Number.isNaN(W[i]))) continue;
    const err = Math.abs(G[i] - W[i]);
    if (!(err <= atol(i) + RTOL * Math.abs(W[i]))) {
      assert.fail(`${what}[${i}]: ${G[i]}, reference ${W[i]} (error ${err})`);
    }
  }
}

/** Logits with a few extreme rows: huge spreads, a -Infinity entry, a constant row, a NaN. */
function logits(gen: Generator, rows: number, c: number): Float32Array {
  const x = gen.normal(rows * c, 0, 3);
  if (rows > 3) {
    for (let j = 0; j < c; j++) x[c + j] = (j % 3) * 1e4 - 5e3;
    x[2 * c + 1] = -Infinity;
    x.fill(7, 3 * c, 4 * c);
    if (rows > 4) x[4 * c + Math.min(2, c - 1)] = Number.NaN;
  }
  return x;
}

const SHAPES: [number, number][] = [[40, 4099], [37, 7], [5, 1], [300, 64]];

Deno.test("fast softmax and logSoftmax over the last axis match the reference", () => {
  const gen = new Generator(1);
  for (const [rows, c] of SHAPES) {
    const shape = [rows, c], x = logits(gen, rows, c);
    for (
      const [name, fast, ref] of [["softmax", fastSoftmax, softmaxKernel], [
        "logSoftmax",
        fastLogSoftmax,
        logSoftmaxKernel,
      ]] as const
    ) {
      const [x32, x64] = pair(x, shape);
      const [y32, y64] = zeros(x.length, shape);
      fast([x32], [y32], { axis: 1 }, cpu);
      ref(x64, y64, 1);
      assertClose(y32, y64, `${name} ${rows}×${c}`);
    }
  }
});

Deno.test("fast softmax hands other axes to the reference", () => {
  const x = new Generator(2).normal(3 * 5 * 4);
  const [x32, x64] = pair(x, [3, 5, 4]);
  const [y32, y64] = zeros(x.length, [3, 5, 4]);
  fastSoftmax([x32], [y32], { axis: 1 }, cpu);
  softmaxKernel(x64, y64, 1);
  assertClose(y32, y64, "softmax axis 1");
});

function targetsFor(gen: Generator, rows: number, c: number, ignore: number): Float32Array {
  return Float32Array.from({ length: rows }, (_, r) => (r % 5 === 4 ? ignore : gen.int(c)));
}

for (const reduction of ["mean", "sum", "none"] as Reduction[]) {
  Deno.test(`fast crossEntropy (${reduction}) and its gradient match the reference`, () => {
    const gen = new Generator(reduction.length);
    for (const [rows, c] of SHAPES) {
      const x = logits(gen, rows, c), t = targetsFor(gen, rows, c, -100);
      // Row 2 holds a -Infinity logit: never its target, so the loss stays finite.
      if (rows > 3 && c > 1) t[2] = 0;
      const [x32, x64] = pair(x, [rows, c]), [t32, t64] = pair(t, [rows]);
      const lossShape = reduction === "none" ? [rows] : [];
      const lossSize = reduction === "none" ? rows : 1;
      const [l32, l64] = zeros(lossSize, lossShape), [s32, s64] = zeros(rows, [rows]);
      const attrs = { ignoreIndex: -100, reduction };
      fastCrossEntropy([x32, t32], [l32, s32], attrs, cpu);
      crossEntropyKernel(x64, t64, l64, s64, -100, reduction);
      assertClose(l32, l64, `crossEntropy ${reduction} ${rows}×${c} loss`);
      assertClose(s32, s64, `crossEntropy ${reduction} ${rows}×${c} lse`);

      const dy = reduction === "none" ? gen.normal(rows) : Float32Array.of(0.75);
      const [d32, d64] = pair(dy, lossShape);
      const [g32, g64] = zeros(rows * c, [rows, c]);
      // Both backward kernels read the same saved lse: the f32 one the f32 forward stored.
      const saved = kt(Float64Array.from(s32.handle as Float32Array), [rows]);
      fastCrossEntropyGrad([x32, t32, s32, d32], [g32], attrs, cpu);
      crossEntropyGradKernel(x64, t64, saved, d64, g64, -100, reduction);
      const count = t.filter((v) => v !== -100).length;
      const g = (r: number) =>
        reduction === "none" ? dy[r] : reduction === "mean" ? dy[0] / count : dy[0];
      assertClose(
        g32,
        g64,
        `crossEntropyGrad ${reduction} ${rows}×${c}`,
        (i) => ATOL + 1e-7 * Math.abs(g(Math.floor(i / c))),
      );
    }
  });
}

Deno.test("fast crossEntropy refuses a bad target by name, like the reference", () => {
  const [x32] = pair(new Float32Array(12), [3, 4]), [t32] = pair(Float32Array.of(1, 4, 0), [3]);
  const [l32] = zeros(1, []), [s32] = zeros(3, [3]);
  assert.throws(
    () => fastCrossEntropy([x32, t32], [l32, s32], { ignoreIndex: -100, reduction: "mean" }, cpu),
    /crossEntropy: target 4 in row 1 is not an integer in \[0, 4\)/,
  );
});

Deno.test("fast tokenLogProbs and its gradient match the reference", () => {
  const gen = new Generator(9);
  for (const [rows, c] of SHAPES) {
    const x = logits(gen, rows, c), t = targetsFor(gen, rows, c, 0);
    if (rows > 3 && c > 1) t[2] = 0;
    const [x32, x64] = pair(x, [rows, c]), [t32, t64] = pair(t, [rows]);
    const [o32, o64] = zeros(rows, [rows]), [s32, s64] = zeros(rows, [rows]);
    fastTokenLogProbs([x32, t32], [o32, s32], {}, cpu);
    tokenLogProbsKernel(x64, t64, o64, s64);
    assertClose(o32, o64, `tokenLogProbs ${rows}×${c}`);
    assertClose(s32, s64, `tokenLogProbs lse ${rows}×${c}`);
    const dy = gen.normal(rows);
    const [d32, d64] = pair(dy, [rows]);
    const [g32, g64] = zeros(rows * c, [rows, c]);
    const saved = kt(Float64Array.from(s32.handle as Float32Array), [rows]);
    fastTokenLogProbsGrad([x32, t32, s32, d32], [g32], {}, cpu);
    tokenLogProbsGradKernel(x64, t64, saved, d64, g64);
    assertClose(
      g32,
      g64,
      `tokenLogProbsGrad ${rows}×${c}`,
      (i) => ATOL + 1e-7 * Math.abs(dy[Math.floor(i / c)]),
    );
  }
});
