/** Reference CPU kernels for softmax and log-softmax over one axis, and their backward passes. */

import type { KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";

/** Splits a shape around `axis` into (outer, n, inner) loop counts. */
export function axisLoops(
  shape: readonly number[],
  axis: number,
): { outer: number; n: number; inner: number } {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, n: shape.length ? shape[axis] : 1, inner };
}

/** y = softmax(x) along `axis` (max-subtracted, so large logits do not overflow). */
export function softmaxKernel(x: KernelTensor, out: KernelTensor, axis: number): void {
  const X = data(x), Y = data(out);
  const { outer, n, inner } = axisLoops(x.shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const end = base + n * inner;
      let m = -Infinity;
      for (let p = base; p < end; p += inner) if (X[p] > m) m = X[p];
      let s = 0;
      for (let p = base; p < end; p += inner) {
        const e = Math.exp(X[p] - m);
        Y[p] = e;
        s += Y[p];
      }
      const r = 1 / s;
      for (let p = base; p < end; p += inner) Y[p] *= r;
    }
  }
}

/** y = log_softmax(x) along `axis`. */
export function logSoftmaxKernel(x: KernelTensor, out: KernelTensor, axis: number): void {
  const X = data(x), Y = data(out);
  const { outer, n, inner } = axisLoops(x.shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const end = base + n * inner;
      let m = -Infinity;
      for (let p = base; p < end; p += inner) if (X[p] > m) m = X[p];
      let s = 0;
      for (let p = base; p < end; p += inner) s += Math.exp(X[p] - m);
      const lse = m + Math.log(s);
      for (let p = base; p < end; p += inner) Y[p] = X[p] - lse;
    }
  }
}

/** dx = y ⊙ (dy − Σ dy·y) along `axis`, from the softmax output y. */
export function softmaxGradKernel(
  y: KernelTensor,
  dy: KernelTensor,
  out: KernelTensor,
  axis: number,
): void {
  const Y = data(y), D = data(dy), O = data(out);
  const { outer, n, inner } = axisLoops(y.shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const end = base + n * inner;
      let dot = 0;
      for (let p = base; p < end; p += inner) dot += D[p] * Y[p];
      for (let p = base; p < end; p += inner) O[p] = Y[p] * (D[p] - dot);
    }
  }
}

/** dx = dy − exp(y) · Σ dy along `axis`, from the log-softmax output y. */
export function logSoftmaxGradKernel(
  y: KernelTensor,
  dy: KernelTensor,
  out: KernelTensor,
  axis: number,
): void {
  const Y = data(y), D = data(dy), O = data(out);
  const { outer, n, inner } = axisLoops(y.shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const end = base + n * inner;
      let s = 0;
      for (let p = base; p < end; p += inner) s += D[p];
      for (let p = base; p < end; p += inner) O[p] = D[p] - Math.exp(Y[p]) * s;
    }
  }
}
