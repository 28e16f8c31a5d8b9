/**
 * Row-wise log-sum-exp and scaled softmax on WebAssembly SIMD (a vector exp, sums in f64), and
 * the f32 `cpu` kernels built on them: softmax and logSoftmax over the last axis, cross-entropy
 * and token log-probabilities with their backward passes. Semantics (ignoreIndex, reductions,
 * index checks, the saved log-sum-exp) are the reference kernels'; any other layout or a missing
 * WebAssembly runtime falls through to the reference.
 */

import type { Kernel, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";
import {
  crossEntropyGradKernel,
  crossEntropyKernel,
  type Reduction,
  tokenLogProbsGradKernel,
  tokenLogProbsKernel,
} from "../kernels/cross_entropy.ts";
import {
  logSoftmaxGradKernel,
  logSoftmaxKernel,
  softmaxGradKernel,
  softmaxKernel,
} from "../kernels/softmax.ts";
import { parallelFor } from "./parallel.ts";
import "./range_rows.ts";
import { type KernelExports, wasmKernels } from "./wasm_module.ts";

type F32 = Float32Array;

/** Row elements worth handing one thread. */
const GRAIN = 1 << 16;

const grainRows = (c: number) => Math.max(1, Math.ceil(GRAIN / Math.max(c, 1)));

/** Shared f64 scratch of `n` values (helper threads write into it). */
const sharedF64 = (n: number) => new Float64Array(new SharedArrayBuffer(n * 8));
/** Shared f32 scratch of `n` values. */
const sharedF32 = (n: number) => new Float32Array(new SharedArrayBuffer(n * 4));

/** Per row of X ([rows, c]): the max (f32) and Σ exp(x − max) (f64). */
export function rowMaxSumExp(
  X: F32,
  rows: number,
  c: number,
  _wasm?: KernelExports,
): { rowMax: F32; sumExp: Float64Array } {
  const rowMax = sharedF32(rows), sumExp = sharedF64(rows);
  parallelFor("rowMaxSumExp", [X, c, rowMax, sumExp], rows, {
    grain: grainRows(c),
    writes: [2, 3],
  });
  return { rowMax, sumExp };
}

/** log Σ_j exp(X[r, j]) per row, in f64 (an f32 lse would lose digits x − lse keeps). */
export function logSumExpRows(X: F32, rows: number, c: number, wasm?: KernelExports): Float64Array {
  const { rowMax, sumExp } = rowMaxSumExp(X, rows, c, wasm);
  const lse = sharedF64(rows);
  for (let r = 0; r < rows; r++) lse[r] = rowMax[r] + Math.log(sumExp[r]);
  return lse;
}

/** out[r, j] = g[r] · exp(X[r, j] − shift[r]). */
export function expRowsScaled(
  X: F32,
  shift: F32,
  g: F32,
  out: F32,
  rows: number,
  c: number,
  _wasm?: KernelExports,
): void {
  parallelFor("expRowsScaled", [X, c, shift, g, out], rows, {
    grain: grainRows(c),
    writes: [4],
  });
}

/** The WebAssembly module when every array is f32 storage, else null (use the reference). */
function simd(...arrays: ArrayLike<number>[]): KernelExports | null {
  for (const a of arrays) if (!(a instanceof Float32Array)) return null;
  return wasmKernels();
}

const lastAxis = (t: KernelTensor, axis: number) => axis === t.shape.length - 1;

/** softmax over the last axis; other axes take the reference kernel. */
export const fastSoftmax: Kernel = ([x], [y], attrs) => {
  const axis = attrs.axis as number;
  const X = data(x), Y = data(y);
  const wasm = lastAxis(x, axis) ? simd(X, Y) : null;
  if (!wasm || X.length === 0) return softmaxKernel(x, y, axis);
  const c = x.shape[axis], rows = X.length / c;
  // exp(x − max) / Σ: the max is exact to subtract where it matters, unlike a rounded lse.
  const { rowMax, sumExp } = rowMaxSumExp(X as F32, rows, c, wasm);
  const scale = Float32Array.from(sumExp, (s) => 1 / s);
  expRowsScaled(X as F32, rowMax, scale, Y as F32, rows, c, wasm);
};

/** logSoftmax over the last axis; other axes take the reference kernel. */
export const fastLogSoftmax: Kernel = ([x], [y], attrs) => {
  const axis = attrs.axis as number;
  const X = data(x), Y = data(y);
  const wasm = lastAxis(x, axis) ? simd(X, Y) : null;
  if (!wasm || X.length === 0) return logSoftmaxKernel(x, y, axis);
  const c = x.shape[axis], rows = X.length / c;
  const lse = logSumExpRows(X as F32, rows, c, wasm);
  parallelFor("subRowsF64", [X, c, lse, Y], rows, { grain: grainRows(c), writes: [3] });
};

/** softmaxGrad over the last axis, split by rows; other axes take the reference kernel. */
export const fastSoftmaxGrad: Kernel = ([y, dy], [dx], attrs) => {
  const axis = attrs.axis as number;
  const Y = data(y), D = data(dy), O = data(dx);
  if (!lastAxis(y, axis) || !(Y instanceof Float32Array && D instanceof Float32Array)) {
    return softmaxGradKernel(y, dy, dx, axis);
  }
  const c = y.shape[axis], rows = c ? O.length / c : 0;
  parallelFor("softmaxGradRows", [Y, D, O, c], rows, { grain: grainRows(c), writes: [2] });
};

/** logSoftmaxGrad over the last axis, split by rows; other axes take the reference kernel. */
export const fastLogSoftmaxGrad: Kernel = ([y, dy], [dx], attrs) => {
  const axis = attrs.axis as number;
  const Y = data(y), D = data(dy), O = data(dx);
  if (!lastAxis(y, axis) || !(Y instanceof Float32Array && D instanceof Float32Array)) {
    return logSoftmaxGradKernel(y, dy, dx, axis);
  }
  const c = y.shape[axis], rows = c ? O.length / c : 0;
  parallelFor("logSoftmaxGradRows", [Y, D, O, c], rows, { grain: grainRows(c), writes: [2] });
};

function badIndex(op: string, what: string, t: number, row: number, c: number): Error {
  return new Error(`${op}: ${what} ${t} in row ${row} is not an integer in [0, ${c})`);
}

const classes = (t: KernelTensor) => t.shape[t.shape.length - 1];

/** crossEntropy: per-row lse on SIMD, the loss reduced in f64 as the reference does. */
export const fastCrossEntropy: Kernel = ([logits, targets], [loss, lse], attrs) => {
  const ignoreIndex = attrs.ignoreIndex as number, reduction = attrs.reduction as Reduction;
  const X = data(logits), T = data(targets), L = data(loss), S = data(lse);
  const wasm = simd(X, S);
  const c = classes(logits), rows = T.length;
  if (!wasm || rows === 0 || c === 0) {
    return crossEntropyKernel(logits, targets, loss, lse, ignoreIndex, reduction);
  }
  const l = logSumExpRows(X as F32, rows, c, wasm);
  S.set(l);
  let total = 0, count = 0;
  for (let r = 0; r < rows; r++) {
    const t = T[r];
    if (t === ignoreIndex) continue;
    if (!(t >= 0 && t < c && Number.isInteger(t))) {
      throw badIndex("crossEntropy", "target", t, r, c);
    }
    const v = l[r] - X[r * c + t];
    if (reduction === "none") L[r] = v;
    else total += v;
    count++;
  }
  if (reduction === "sum") L[0] = total;
  else if (reduction === "mean") L[0] = total / count;
};

/** crossEntropyGrad: g_r · (softmax − onehot) with the softmax rebuilt on SIMD from the lse. */
export const fastCrossEntropyGrad: Kernel = ([logits, targets, lse, dy], [dx], attrs) => {
  const ignoreIndex = attrs.ignoreIndex as number, reduction = attrs.reduction as Reduction;
  const X = data(logits), T = data(targets), S = data(lse), D = data(dy), O = data(dx);
  const wasm = simd(X, S, O);
  const c = classes(logits), rows = T.length;
  if (!wasm || rows === 0 || c === 0) {
    return crossEntropyGradKernel(logits, targets, lse, dy, dx, ignoreIndex, reduction);
  }
  let shared = reduction === "none" ? 0 : D[0];
  if (reduction === "mean") {
    let count = 0;
    for (let r = 0; r < rows; r++) if (T[r] !== ignoreIndex) count++;
    shared /= count;
  }
  const g = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    if (T[r] !== ignoreIndex) g[r] = reduction === "none" ? D[r] : shared;
  }
  expRowsScaled(X as F32, S as F32, g, O as F32, rows, c, wasm);
  for (let r = 0; r < rows; r++) {
    const t = T[r];
    // Ignored rows get exact zeros, even where a logit is infinite (0 · ∞ would be NaN).
    if (t === ignoreIndex) O.fill(0, r * c, (r + 1) * c);
    else O[r * c + t] -= g[r];
  }
};

/** tokenLogProbs: x[label] − lse per row, the lse on SIMD. */
export const fastTokenLogProbs: Kernel = ([logits, labels], [out, lse]) => {
  const X = data(logits), T = data(labels), O = data(out), S = data(lse);
  const wasm = simd(X, S);
  const c = classes(logits), rows = T.length;
  if (!wasm || rows === 0 || c === 0) return tokenLogProbsKernel(logits, labels, out, lse);
  for (let r = 0; r < rows; r++) {
    const t = T[r];
    if (!(t >= 0 && t < c && Number.isInteger(t))) {
      throw badIndex("tokenLogProbs", "label", t, r, c);
    }
  }
  const l = logSumExpRows(X as F32, rows, c, wasm);
  S.set(l);
  for (let r = 0; r < rows; r++) O[r] = X[r * c + T[r]] - l[r];
};

/** tokenLogProbsGrad: dy_r · (onehot − softmax), the softmax rebuilt on SIMD. */
export const fastTokenLogProbsGrad: Kernel = ([logits, labels, lse, dy], [dx]) => {
  const X = data(logits), T = data(labels), S = data(lse), D = data(dy), O = data(dx);
  const wasm = simd(X, S, D, O);
  const c = classes(logits), rows = T.length;
  if (!wasm || rows === 0 || c === 0) {
    return tokenLogProbsGradKernel(logits, labels, lse, dy, dx);
  }
  const g = new Float32Array(rows);
  for (let r = 0; r < rows; r++) g[r] = -D[r];
  expRowsScaled(X as F32, S as F32, g, O as F32, rows, c, wasm);
  for (let r = 0; r < rows; r++) O[r * c + T[r]] += D[r];
};
