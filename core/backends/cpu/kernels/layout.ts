/** Reference CPU kernels that move elements: strided copy, concat, slice gradient. */

import type { DataArray, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";

/** Copies a strided view into a contiguous output. */
export function stridedCopyKernel(x: KernelTensor, out: KernelTensor): void {
  const X = x.handle as DataArray, O = data(out);
  const shape = x.shape, strides = x.strides, rank = shape.length;
  const n = out.size;
  if (rank === 0) {
    if (n) O[0] = X[x.offset];
    return;
  }
  const idx = new Array<number>(rank).fill(0);
  let src = x.offset;
  const last = rank - 1, lastN = shape[last], lastS = strides[last];
  for (let i = 0; i < n; i += lastN) {
    for (let j = 0; j < lastN; j++) O[i + j] = X[src + j * lastS];
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      src += strides[d];
      if (idx[d] < shape[d]) break;
      src -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** Concatenates inputs along `axis`. */
export function concatKernel(xs: readonly KernelTensor[], out: KernelTensor, axis: number): void {
  const O = data(out);
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= out.shape[i];
  const rowOut = out.size / Math.max(outer, 1);
  let col = 0;
  for (const x of xs) {
    const X = data(x);
    const row = x.size / Math.max(outer, 1);
    for (let o = 0; o < outer; o++) O.set(X.subarray(o * row, (o + 1) * row), o * rowOut + col);
    col += row;
  }
}

/** Writes `dy` into a zero tensor of the sliced input's shape at `begin` with unit steps. */
export function sliceGradKernel(dy: KernelTensor, out: KernelTensor, begin: readonly number[]) {
  const D = data(dy), O = data(out);
  const shape = out.shape, rank = shape.length;
  const strides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  let base = 0;
  for (let i = 0; i < rank; i++) base += begin[i] * strides[i];
  if (rank === 0) {
    O[0] = D[0];
    return;
  }
  const dshape = dy.shape, last = rank - 1, lastN = dshape[last];
  const idx = new Array<number>(rank).fill(0);
  let dst = base;
  for (let i = 0; i < dy.size; i += lastN) {
    for (let j = 0; j < lastN; j++) O[dst + j] = D[i + j];
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      dst += strides[d];
      if (idx[d] < dshape[d]) break;
      dst -= strides[d] * dshape[d];
      idx[d] = 0;
    }
  }
}
