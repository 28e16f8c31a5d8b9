/** Reference CPU kernels for elementwise ops: binary with broadcasting, unary, and their grads. */

import type { DataArray, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";
import { erf } from "./erf.ts";

/** Binary scalar functions, by op name. */
export const binaryFns: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => Math.pow(a, b),
  maximum: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
  minimum: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
  greater: (a, b) => (a > b ? 1 : 0),
  greaterEqual: (a, b) => (a >= b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  lessEqual: (a, b) => (a <= b ? 1 : 0),
  equal: (a, b) => (a === b ? 1 : 0),
};

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Unary scalar functions, by op name. */
export const unaryFns: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  tanh: Math.tanh,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  logSigmoid: (x) => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x))),
  relu: (x) => (x > 0 ? x : 0),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))),
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
};

/** d/dx of the unary functions whose derivative needs its own kernel. */
export const unaryGradFns: Record<string, (x: number) => number> = {
  geluGrad: (x) => {
    const cdf = 0.5 * (1 + erf(x / Math.SQRT2));
    const pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    return cdf + x * pdf;
  },
  geluTanhGrad: (x) => {
    const inner = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
    const t = Math.tanh(inner);
    const dInner = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dInner;
  },
};

/** Strides of `shape` aligned to `outShape` (zero where broadcast). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = rank - shape.length + i;
    strides[o] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** out[i] = f(a[...], b[...]) with NumPy broadcasting. */
export function binaryBroadcast(
  a: KernelTensor,
  b: KernelTensor,
  out: KernelTensor,
  f: (x: number, y: number) => number,
): void {
  const A = data(a), B = data(b), O = data(out);
  const n = O.length;
  if (A.length === n && B.length === n) {
    for (let i = 0; i < n; i++) O[i] = f(A[i], B[i]);
    return;
  }
  if (B.length === 1 && A.length === n) {
    const y = B[0];
    for (let i = 0; i < n; i++) O[i] = f(A[i], y);
    return;
  }
  if (A.length === 1 && B.length === n) {
    const x = A[0];
    for (let i = 0; i < n; i++) O[i] = f(x, B[i]);
    return;
  }
  // Trailing-block broadcast (bias add, row scaling) is the hot general case.
  if (A.length === n && n % B.length === 0 && isSuffix(b.shape, out.shape)) {
    const m = B.length;
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) O[i + j] = f(A[i + j], B[j]);
    return;
  }
  const shape = out.shape;
  const rank = shape.length;
  const sa = broadcastStrides(a.shape, shape), sb = broadcastStrides(b.shape, shape);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0, ib = 0;
  for (let i = 0; i < n; i++) {
    O[i] = f(A[ia], B[ib]);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < shape[d]) break;
      ia -= sa[d] * shape[d];
      ib -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
}

function isSuffix(small: readonly number[], big: readonly number[]): boolean {
  const trimmed = [...small];
  while (trimmed.length && trimmed[0] === 1) trimmed.shift();
  for (let i = 0; i < trimmed.length; i++) {
    if (trimmed[trimmed.length - 1 - i] !== big[big.length - 1 - i]) return false;
  }
  return true;
}

/** out = f(x) elementwise. */
export function unaryMap(x: KernelTensor, out: KernelTensor, f: (v: number) => number): void {
  const X = data(x), O = data(out);
  for (let i = 0; i < O.length; i++) O[i] = f(X[i]);
}

/** out = where(cond != 0, a, b) with broadcasting of all three to out's shape. */
export function whereKernel(
  cond: KernelTensor,
  a: KernelTensor,
  b: KernelTensor,
  out: KernelTensor,
): void {
  const shape = out.shape;
  const rank = shape.length;
  const C = data(cond), A = data(a), B = data(b), O = data(out);
  const sc = broadcastStrides(cond.shape, shape);
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const idx = new Array<number>(rank).fill(0);
  let ic = 0, ia = 0, ib = 0;
  for (let i = 0; i < O.length; i++) {
    O[i] = C[ic] !== 0 ? A[ia] : B[ib];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ic += sc[d];
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < shape[d]) break;
      ic -= sc[d] * shape[d];
      ia -= sa[d] * shape[d];
      ib -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** Clamps into [min, max]; NaN bounds mean unbounded on that side. */
export function clampKernel(x: KernelTensor, out: KernelTensor, min: number, max: number): void {
  const X = data(x), O = data(out);
  const lo = Number.isNaN(min) ? -Infinity : min, hi = Number.isNaN(max) ? Infinity : max;
  for (let i = 0; i < O.length; i++) {
    const v = X[i];
    O[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/** dx = dy where lo <= x <= hi, else 0 (PyTorch's clamp gradient). */
export function clampGradKernel(
  x: KernelTensor,
  dy: KernelTensor,
  out: KernelTensor,
  min: number,
  max: number,
): void {
  const X = data(x), D = data(dy), O: DataArray = data(out);
  const lo = Number.isNaN(min) ? -Infinity : min, hi = Number.isNaN(max) ? Infinity : max;
  for (let i = 0; i < O.length; i++) O[i] = X[i] >= lo && X[i] <= hi ? D[i] : 0;
}
