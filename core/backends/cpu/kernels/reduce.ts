/** Reference CPU reductions over a sorted list of axes: sum, max, argmax. */

import type { KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";

/**
 * Splits `shape` into (outer, reduced, inner) loops when the reduced axes are contiguous, which is
 * the case for every reduction our models do; other axis sets go through a transposed index walk.
 */
function plan(shape: readonly number[], axes: readonly number[]) {
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  let outer = 1, red = 1, inner = 1;
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) red *= shape[i];
    else if (axes.length && i < axes[0]) outer *= shape[i];
    else inner *= shape[i];
  }
  return { contiguous, outer, red, inner };
}

/** Maps every input element index to its output index (general axis sets). */
function outputIndexOf(shape: readonly number[], axes: readonly number[]): Int32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const map = new Int32Array(n);
  const outStrides: number[] = new Array(shape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (!axes.includes(i)) {
      outStrides[i] = s;
      s *= shape[i];
    }
  }
  const idx = new Array<number>(shape.length).fill(0);
  let o = 0;
  for (let i = 0; i < n; i++) {
    map[i] = o;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      o += outStrides[d];
      if (idx[d] < shape[d]) break;
      o -= outStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return map;
}

/** Sums over `axes` (accumulating in f64). */
export function sumKernel(x: KernelTensor, out: KernelTensor, axes: readonly number[]): void {
  const X = data(x), O = data(out);
  const { contiguous, outer, red, inner } = plan(x.shape, axes);
  if (contiguous) {
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        let acc = 0;
        const base = o * red;
        for (let r = 0; r < red; r++) acc += X[base + r];
        O[o] = acc;
      }
      return;
    }
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let r = 0; r < red; r++) {
        const base = (o * red + r) * inner;
        for (let i = 0; i < inner; i++) acc[i] += X[base + i];
      }
      O.set(acc, o * inner);
    }
    return;
  }
  const map = outputIndexOf(x.shape, axes);
  const acc = new Float64Array(O.length);
  for (let i = 0; i < X.length; i++) acc[map[i]] += X[i];
  O.set(acc);
}

/** Max over `axes`; NaN wins, as in PyTorch. */
export function maxKernel(x: KernelTensor, out: KernelTensor, axes: readonly number[]): void {
  const X = data(x), O = data(out);
  O.fill(-Infinity);
  const map = outputIndexOf(x.shape, axes);
  for (let i = 0; i < X.length; i++) {
    const v = X[i], o = map[i];
    if (v > O[o] || Number.isNaN(v)) O[o] = v;
  }
}

/** Index of the first maximum along one axis (as f32 values). */
export function argmaxKernel(x: KernelTensor, out: KernelTensor, axis: number): void {
  const X = data(x), O = data(out);
  const { outer, red, inner } = plan(x.shape, [axis]);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = -Infinity, bi = 0;
      for (let r = 0; r < red; r++) {
        const v = X[(o * red + r) * inner + i];
        if (v > best) {
          best = v;
          bi = r;
        }
      }
      O[o * inner + i] = bi;
    }
  }
}
