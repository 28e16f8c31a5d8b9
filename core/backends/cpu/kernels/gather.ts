/**
 * Reference CPU kernels that read or accumulate by integer index: torch.gather and its
 * scatter-add gradient, embedding row lookup and its row-accumulating gradient.
 */

import type { KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";

function rowMajorStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * Offset steps in a tensor of `xShape` for each axis of the index walk, with the `axis` step 0:
 * the gathered coordinate comes from the index value instead.
 */
function walkSteps(xShape: readonly number[], axis: number): number[] {
  return rowMajorStrides(xShape).map((s, d) => (d === axis ? 0 : s));
}

function badIndex(op: string, t: number, i: number, limit: number): Error {
  return new Error(`${op}: index ${t} at flat position ${i} is not an integer in [0, ${limit})`);
}

/** out[..., i, ...] = x[..., index[..., i, ...], ...] along `axis` (torch.gather). */
export function gatherKernel(
  x: KernelTensor,
  index: KernelTensor,
  out: KernelTensor,
  axis: number,
): void {
  const X = data(x), I = data(index), O = data(out);
  const limit = x.shape[axis], sa = rowMajorStrides(x.shape)[axis];
  const shape = index.shape, step = walkSteps(x.shape, axis);
  const last = shape.length - 1, lastN = shape[last], lastStep = step[last];
  const idx = new Array<number>(shape.length).fill(0);
  let base = 0;
  for (let i = 0; i < I.length; i += lastN) {
    for (let j = 0; j < lastN; j++) {
      const t = I[i + j];
      if (!(t >= 0 && t < limit && Number.isInteger(t))) throw badIndex("gather", t, i + j, limit);
      O[i + j] = X[base + j * lastStep + t * sa];
    }
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      base += step[d];
      if (idx[d] < shape[d]) break;
      base -= step[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** The gather gradient: out (shaped like x, zeroed) += dy at the gathered positions. */
export function scatterAddKernel(
  index: KernelTensor,
  dy: KernelTensor,
  out: KernelTensor,
  axis: number,
): void {
  const I = data(index), D = data(dy), O = data(out);
  const limit = out.shape[axis], sa = rowMajorStrides(out.shape)[axis];
  const shape = index.shape, step = walkSteps(out.shape, axis);
  const last = shape.length - 1, lastN = shape[last], lastStep = step[last];
  const idx = new Array<number>(shape.length).fill(0);
  let base = 0;
  for (let i = 0; i < I.length; i += lastN) {
    for (let j = 0; j < lastN; j++) {
      const t = I[i + j];
      if (!(t >= 0 && t < limit && Number.isInteger(t))) {
        throw badIndex("scatterAdd", t, i + j, limit);
      }
      O[base + j * lastStep + t * sa] += D[i + j];
    }
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      base += step[d];
      if (idx[d] < shape[d]) break;
      base -= step[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** out[r, :] = weight[ids[r], :] for every id. */
export function embeddingKernel(weight: KernelTensor, ids: KernelTensor, out: KernelTensor): void {
  const W = data(weight), I = data(ids), O = data(out);
  const [v, d] = weight.shape;
  for (let r = 0; r < I.length; r++) {
    const id = I[r];
    if (!(id >= 0 && id < v && Number.isInteger(id))) throw badIndex("embedding", id, r, v);
    O.set(W.subarray(id * d, id * d + d), r * d);
  }
}

/** The embedding gradient: out[ids[r], :] += dy[r, :] into a zeroed [V, D]. */
export function embeddingGradKernel(ids: KernelTensor, dy: KernelTensor, out: KernelTensor): void {
  const I = data(ids), D = data(dy), O = data(out);
  const [v, d] = out.shape;
  for (let r = 0; r < I.length; r++) {
    const id = I[r];
    if (!(id >= 0 && id < v && Number.isInteger(id))) throw badIndex("embeddingGrad", id, r, v);
    const o = id * d, s = r * d;
    for (let j = 0; j < d; j++) O[o + j] += D[s + j];
  }
}
