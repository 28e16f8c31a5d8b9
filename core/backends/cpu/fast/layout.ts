/**
 * The f32 `cpu` backend's strided copy (what makes a permuted or sliced view contiguous): axes
 * merged where the view allows, then output rows split across threads.
 */

import type { Attrs, Backend, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";
import { stridedCopyKernel } from "../kernels/layout.ts";
import { parallelFor } from "./parallel.ts";
import { mergeAxes } from "./range_layout.ts";

const GRAIN = 1 << 16;

/** stridedCopy for f32 storage. */
export function fastStridedCopy(
  [x]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  _attrs: Attrs,
  _backend: Backend,
): void {
  const X = x.handle, O = data(out);
  if (!(X instanceof Float32Array && O instanceof Float32Array) || out.size === 0) {
    return stridedCopyKernel(x, out);
  }
  const { shape, strides } = mergeAxes(x.shape, x.strides);
  const lastN = shape[shape.length - 1];
  parallelFor("stridedCopyRows", [X, x.offset, O, shape, strides], out.size / lastN, {
    grain: Math.max(1, Math.ceil(GRAIN / lastN)),
    writes: [2],
  });
}
