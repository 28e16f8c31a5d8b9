/**
 * Index-driven kernels: torch.gather and its scatter-add gradient, embedding lookup and its
 * row-accumulating gradient. The gradients never race: scatter-add gives each output element one
 * thread that scans the index entries that may land on it, and the embedding gradient gives each
 * column one thread that walks the ids in order (the CPU reference's order). Out-of-range
 * indices are clamped (validating them would need a readback).
 */

import type { Kernel } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
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
const clampIndex = (limit: string) => `u32(clamp(floor(t), 0.0, f32(${limit} - 1u)))`;

// Params: 0 n, 1 x offset, 2 index offset, 3 rank, 4 limit, 5 axis stride, 6.. shape, steps.
const G_SHAPE = 6, G_STEP = G_SHAPE + MAX_RANK;

const gatherWgsl = () =>
  header(["X", "I"], ["O"]) + stridedOffset("walk", 3, G_SHAPE, G_STEP) + linearEntry(
    WG,
    `  if (gi >= pu(0u)) { return; }
  let t = I[pu(2u) + gi];
  O[gi] = X[pu(1u) + walk(gi) + ${clampIndex("pu(4u)")} * pu(5u)];`,
  );

/** out = x gathered along `attrs.axis` at `index` (torch.gather). */
export const gatherKernel: Kernel = ([x, index], [out], attrs, backend) => {
  const g = backend as WebGPUBackend;
  const axis = attrs.axis as number;
  checkRank("gather", x.shape);
  const xs = contiguousStrides(x.shape);
  const steps = xs.map((s, d) => (d === axis ? 0 : s));
  const p = new Params().u(out.size, x.offset, index.offset, index.shape.length, x.shape[axis])
    .u(xs[axis]).padded(index.shape, MAX_RANK, 1).padded(steps, MAX_RANK);
  g.dispatch("gather", gatherWgsl, [buf(x), buf(index)], [buf(out)], p, g.grid(out.size, WG));
};

// Params: 0 n, 1 index offset, 2 dy offset, 3 rank, 4 axis, 5 index extent along axis,
// 6 out extent along axis, 7.. out shape, index shape, index strides.
const S_OUT = 7, S_IDX = S_OUT + MAX_RANK, S_STR = S_IDX + MAX_RANK;

const scatterAddWgsl = () =>
  header(["I", "D"], ["O"]) + linearEntry(
    WG,
    `  if (gi >= pu(0u)) { return; }
  let rank = pu(3u);
  let axis = pu(4u);
  var rest = gi;
  var pos = 0u;
  var c = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let du = u32(d);
    let n = pu(${S_OUT}u + du);
    let od = rest % n;
    rest = rest / n;
    if (du == axis) { c = od; continue; }
    if (od >= pu(${S_IDX}u + du)) { O[gi] = 0.0; return; }
    pos += od * pu(${S_STR}u + du);
  }
  let step = pu(${S_STR}u + axis);
  let limit = pu(6u);
  var acc = 0.0;
  for (var k = 0u; k < pu(5u); k++) {
    let p = pos + k * step;
    let t = I[pu(1u) + p];
    if (${clampIndex("limit")} == c) { acc += D[pu(2u) + p]; }
  }
  O[gi] = acc;`,
  );

/** The gather gradient: out (shaped like x) accumulates dy at the gathered positions. */
export const scatterAddKernel: Kernel = ([index, dy], [out], attrs, backend) => {
  const g = backend as WebGPUBackend;
  const axis = attrs.axis as number;
  checkRank("scatterAdd", out.shape);
  const p = new Params().u(out.size, index.offset, dy.offset, out.shape.length, axis)
    .u(index.shape[axis], out.shape[axis]).padded(out.shape, MAX_RANK, 1)
    .padded(index.shape, MAX_RANK, 1).padded(contiguousStrides(index.shape), MAX_RANK);
  g.dispatch(
    "scatterAdd",
    scatterAddWgsl,
    [buf(index), buf(dy)],
    [buf(out)],
    p,
    g.grid(out.size, WG),
  );
};

// Params: 0 n, 1 d, 2 v, 3 weight offset, 4 ids offset.
const embeddingWgsl = () =>
  header(["W", "I"], ["O"]) + linearEntry(
    WG,
    `  if (gi >= pu(0u)) { return; }
  let d = pu(1u);
  let t = I[pu(4u) + gi / d];
  O[gi] = W[pu(3u) + ${clampIndex("pu(2u)")} * d + gi % d];`,
  );

/** out[r, :] = weight[ids[r], :]. */
export const embeddingKernel: Kernel = ([weight, ids], [out], _attrs, backend) => {
  const g = backend as WebGPUBackend;
  const [v, d] = weight.shape;
  g.dispatch(
    "embedding",
    embeddingWgsl,
    [buf(weight), buf(ids)],
    [buf(out)],
    new Params().u(out.size, d, v, weight.offset, ids.offset),
    g.grid(out.size, WG),
  );
};

// Params: 0 ids count, 1 d, 2 v, 3 ids offset, 4 dy offset.
const embeddingGradWgsl = () =>
  header(["I", "D"], ["O"]) + linearEntry(
    64,
    `  let d = pu(1u);
  if (gi >= d) { return; }
  for (var r = 0u; r < pu(0u); r++) {
    let t = I[pu(3u) + r];
    let row = ${clampIndex("pu(2u)")};
    O[row * d + gi] += D[pu(4u) + r * d + gi];
  }`,
  );

/** The embedding gradient: out[ids[r], :] += dy[r, :] into a zeroed [V, D]. */
export const embeddingGradKernel: Kernel = ([ids, dy], [out], _attrs, backend) => {
  const g = backend as WebGPUBackend;
  const [v, d] = out.shape;
  g.zero(buf(out));
  g.dispatch(
    "embeddingGrad",
    embeddingGradWgsl,
    [buf(ids), buf(dy)],
    [buf(out)],
    new Params().u(ids.size, d, v, ids.offset, dy.offset),
    g.grid(d, 64),
    true,
  );
};
