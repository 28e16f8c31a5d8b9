/**
 * Layout range kernels: the strided copy that makes a view contiguous, over runs of its last
 * axis (a range is a set of output rows), with the axes of the view merged where they are
 * contiguous relative to each other first so the inner loop is as long as it can be.
 *
 * @module
 */

import { registerRangeKernel } from "./range_registry.ts";

type Data = Float32Array | Float64Array;

/** Shape and strides with adjacent axes merged where one steps exactly over the other. */
export function mergeAxes(
  shape: readonly number[],
  strides: readonly number[],
): { shape: number[]; strides: number[] } {
  const sh: number[] = [], st: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = sh.length - 1;
    if (last >= 0 && st[last] === strides[i] * shape[i]) {
      sh[last] *= shape[i];
      st[last] = strides[i];
    } else {
      sh.push(shape[i]);
      st.push(strides[i]);
    }
  }
  if (sh.length === 0) return { shape: [1], strides: [1] };
  return { shape: sh, strides: st };
}

/**
 * args [X, offset, O, shape, strides]: rows [s, e) of the output (each `shape[last]` long) from
 * the strided source.
 */
registerRangeKernel("stridedCopyRows", (args, s, e) => {
  const [X, offset, O, shapeArr, stridesArr] = args as [Data, number, Data, number[], number[]];
  const rank = shapeArr.length, last = rank - 1;
  const lastN = shapeArr[last], lastS = stridesArr[last];
  const idx = new Array<number>(rank).fill(0);
  // Position of row s in the outer axes.
  let src = offset, rest = s;
  for (let d = last - 1; d >= 0; d--) {
    idx[d] = rest % shapeArr[d];
    rest = Math.floor(rest / shapeArr[d]);
    src += idx[d] * stridesArr[d];
  }
  for (let r = s; r < e; r++) {
    const o = r * lastN;
    if (lastS === 1) { for (let j = 0; j < lastN; j++) O[o + j] = X[src + j]; }
    else for (let j = 0; j < lastN; j++) O[o + j] = X[src + j * lastS];
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      src += stridesArr[d];
      if (idx[d] < shapeArr[d]) break;
      src -= stridesArr[d] * shapeArr[d];
      idx[d] = 0;
    }
  }
});
