/** Kernels that move elements: strided copy (making views contiguous), concat, slice gradient. */

import type { Kernel } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
import type { GpuBuffer } from "../pool.ts";
import {
  buf,
  checkRank,
  contiguousStrides,
  header,
  linearEntry,
  MAX_RANK,
  stridedOffset,
} from "./common.ts";

const WG = 256;

// 0 n, 1 offset, 2 rank, 3.. shape, strides.
const SHAPE_AT = 3, STRIDE_AT = SHAPE_AT + MAX_RANK;

const stridedCopyWgsl = () =>
  header(["X"], ["O"]) + stridedOffset("src", 2, SHAPE_AT, STRIDE_AT) + linearEntry(
    WG,
    `  if (gi >= pu(0u)) { return; }
  O[gi] = X[pu(1u) + src(gi)];`,
  );

/** Encodes a copy of the strided view (offset, shape, strides) of `src` into contiguous `dst`. */
export function stridedCopyInto(
  g: WebGPUBackend,
  src: GpuBuffer,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
  dst: GpuBuffer,
): void {
  checkRank("stridedCopy", shape);
  const n = shape.reduce((a, b) => a * b, 1);
  const p = new Params().u(n, offset, shape.length).padded(shape, MAX_RANK, 1)
    .padded(strides, MAX_RANK);
  g.dispatch("stridedCopy", stridedCopyWgsl, [src], [dst], p, g.grid(n, WG));
}

/** Copies a strided view into a contiguous output. */
export const stridedCopyKernel: Kernel = ([x], [out], _attrs, backend) => {
  stridedCopyInto(backend as WebGPUBackend, buf(x), x.offset, x.shape, x.strides, buf(out));
};

const concatWgsl = () =>
  header(["X"], ["O"]) + linearEntry(
    WG,
    `  if (gi >= pu(0u)) { return; }
  let row = pu(1u);
  let o = gi / row;
  let j = gi % row;
  O[o * pu(2u) + pu(3u) + j] = X[pu(4u) + gi];`,
  );

/** Concatenates inputs along `attrs.axis`: one copy dispatch per input. */
export const concatKernel: Kernel = (xs, [out], attrs, backend) => {
  const g = backend as WebGPUBackend;
  const axis = attrs.axis as number;
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= out.shape[i];
  const rowOut = out.size / Math.max(outer, 1);
  let col = 0;
  for (const x of xs) {
    const row = x.size / Math.max(outer, 1);
    if (x.size > 0) {
      g.dispatch(
        "concat",
        concatWgsl,
        [buf(x)],
        [buf(out)],
        new Params().u(x.size, row, rowOut, col, x.offset),
        g.grid(x.size, WG),
      );
    }
    col += row;
  }
};

// 0 n, 1 dy offset, 2 rank, 3 base, 4.. dy shape, out strides.
const SG_SHAPE = 4, SG_STRIDE = SG_SHAPE + MAX_RANK;

const sliceGradWgsl = () =>
  header(["D"], ["O"]) + stridedOffset("dst", 2, SG_SHAPE, SG_STRIDE) + linearEntry(
    WG,
    `  if (gi >= pu(0u)) { return; }
  O[pu(3u) + dst(gi)] = D[pu(1u) + gi];`,
  );

/** Writes `dy` into a zero tensor of the sliced input's shape at `attrs.begin`. */
export const sliceGradKernel: Kernel = ([dy], [out], attrs, backend) => {
  const g = backend as WebGPUBackend;
  checkRank("sliceGrad", out.shape);
  const begin = attrs.begin as number[];
  const strides = contiguousStrides(out.shape);
  let base = 0;
  for (let i = 0; i < begin.length; i++) base += begin[i] * strides[i];
  g.zero(buf(out));
  const p = new Params().u(dy.size, dy.offset, dy.shape.length, base)
    .padded(dy.shape, MAX_RANK, 1).padded(strides, MAX_RANK);
  g.dispatch("sliceGrad", sliceGradWgsl, [buf(dy)], [buf(out)], p, g.grid(dy.size, WG), true);
};
