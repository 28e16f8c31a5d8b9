/**
 * Layer normalization over the last axis and its backward. The forward and the input gradient
 * run a workgroup per row (two-pass mean and centered variance, as the CPU reference); the weight
 * and bias gradients run a thread per column summing over rows with Kahan compensation.
 */

import type { Kernel } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
import { buf, header, linearEntry, rowEntry, rowThreads, workgroupReductions } from "./common.ts";

// Params: 0 rows, 1 d, 2 x, 3 weight, 4 bias offsets, 5 eps.
const layerNormWgsl = (wg: number) =>
  header(["X", "W", "B"], ["Y", "M", "R"]) + workgroupReductions(wg) + rowEntry(
    wg,
    `  if (row >= pu(0u)) { return; }
  let d = pu(1u);
  let base = pu(2u) + row * d;
  var sp = 0.0;
  for (var j = lid; j < d; j += ${wg}u) { sp += X[base + j]; }
  let mu = wgSum(sp, lid) / f32(d);
  var qp = 0.0;
  for (var j = lid; j < d; j += ${wg}u) { let c = X[base + j] - mu; qp += c * c; }
  let rs = 1.0 / sqrt(wgSum(qp, lid) / f32(d) + pf(5u));
  for (var j = lid; j < d; j += ${wg}u) {
    Y[row * d + j] = (X[base + j] - mu) * rs * W[pu(3u) + j] + B[pu(4u) + j];
  }
  if (lid == 0u) {
    M[row] = mu;
    R[row] = rs;
  }`,
  );

/** Inputs (x, weight, bias); outputs (y, mean, rstd); `attrs.eps`. */
export const layerNormKernel: Kernel = ([x, w, b], [y, mean, rstd], attrs, backend) => {
  const g = backend as WebGPUBackend;
  const d = w.size;
  const rows = mean.size;
  const wg = rowThreads(d);
  g.dispatch(
    `layerNorm:${wg}`,
    () => layerNormWgsl(wg),
    [buf(x), buf(w), buf(b)],
    [buf(y), buf(mean), buf(rstd)],
    new Params().u(rows, d, x.offset, w.offset, b.offset).f(attrs.eps as number),
    g.grid(rows, 1),
  );
};

// Params: 0 rows, 1 d, 2 x, 3 weight, 4 mean, 5 rstd, 6 dy offsets.
const layerNormGradRowsWgsl = (wg: number) =>
  header(["X", "W", "M", "R", "D"], ["O"]) + workgroupReductions(wg) + rowEntry(
    wg,
    `  if (row >= pu(0u)) { return; }
  let d = pu(1u);
  let xb = pu(2u) + row * d;
  let db = pu(6u) + row * d;
  let mu = M[pu(4u) + row];
  let rs = R[pu(5u) + row];
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = lid; j < d; j += ${wg}u) {
    let gj = D[db + j] * W[pu(3u) + j];
    sg += gj;
    sgx += gj * (X[xb + j] - mu) * rs;
  }
  let mg = wgSum(sg, lid) / f32(d);
  let mgx = wgSum(sgx, lid) / f32(d);
  for (var j = lid; j < d; j += ${wg}u) {
    let xh = (X[xb + j] - mu) * rs;
    O[row * d + j] = rs * (D[db + j] * W[pu(3u) + j] - mg - xh * mgx);
  }`,
  );

const COL_WG = 64;

const layerNormGradColsWgsl = () =>
  header(["X", "M", "R", "D"], ["DW", "DB"]) + linearEntry(
    COL_WG,
    `  let d = pu(1u);
  if (gi >= d) { return; }
  var w = 0.0;
  var wc = 0.0;
  var b = 0.0;
  var bc = 0.0;
  for (var r = 0u; r < pu(0u); r++) {
    let dy = D[pu(6u) + r * d + gi];
    let xh = (X[pu(2u) + r * d + gi] - M[pu(4u) + r]) * R[pu(5u) + r];
    let yw = dy * xh - wc;
    let tw = w + yw;
    wc = (tw - w) - yw;
    w = tw;
    let yb = dy - bc;
    let tb = b + yb;
    bc = (tb - b) - yb;
    b = tb;
  }
  DW[gi] = w;
  DB[gi] = b;`,
  );

/** Inputs (x, weight, mean, rstd, dy); outputs (dx, dweight, dbias). */
export const layerNormGradKernel: Kernel = (
  [x, w, mean, rstd, dy],
  [dx, dw, db],
  _attrs,
  backend,
) => {
  const g = backend as WebGPUBackend;
  const d = w.size;
  const rows = mean.size;
  const wg = rowThreads(d);
  const p = new Params().u(rows, d, x.offset, w.offset, mean.offset, rstd.offset, dy.offset);
  g.dispatch(
    `layerNormGrad:rows:${wg}`,
    () => layerNormGradRowsWgsl(wg),
    [buf(x), buf(w), buf(mean), buf(rstd), buf(dy)],
    [buf(dx)],
    p,
    g.grid(rows, 1),
  );
  g.dispatch(
    "layerNormGrad:cols",
    layerNormGradColsWgsl,
    [buf(x), buf(mean), buf(rstd), buf(dy)],
    [buf(dw), buf(db)],
    p,
    g.grid(d, COL_WG),
  );
};
