/**
 * Layer norm and RMS norm on the f32 `cpu` backend: the reference arithmetic, with the forward and the input
 * gradient split across threads by rows and the weight and bias gradients by columns (each
 * column still summed over the rows in order, so a split run gives the serial run's bits).
 */

import type { Attrs, Backend, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";
import { layerNormGradKernel, layerNormKernel } from "../kernels/layer_norm.ts";
import { rmsNormGradKernel, rmsNormKernel } from "../kernels/rms_norm.ts";
import { parallelFor } from "./parallel.ts";
import "./range_rows.ts";

const GRAIN = 1 << 15;

const f32 = (...xs: ArrayLike<number>[]) => xs.every((x) => x instanceof Float32Array);

/** layerNorm: y, mean and 1/std per row. */
export function fastLayerNorm(
  [x, weight, bias]: readonly KernelTensor[],
  [y, mean, rstd]: readonly KernelTensor[],
  attrs: Attrs,
  _backend: Backend,
): void {
  const X = data(x), W = data(weight), B = data(bias), Y = data(y), M = data(mean), R = data(rstd);
  const eps = attrs.eps as number;
  if (!f32(X, W, B, Y, M, R)) return layerNormKernel(x, weight, bias, y, mean, rstd, eps);
  const d = weight.size, rows = M.length;
  parallelFor("layerNormRows", [X, W, B, Y, M, R, d, eps], rows, {
    grain: Math.max(1, Math.ceil(GRAIN / Math.max(d, 1))),
    writes: [3, 4, 5],
  });
}

/** layerNormGrad: dx by rows, dweight and dbias by columns. */
export function fastLayerNormGrad(
  [x, weight, mean, rstd, dy]: readonly KernelTensor[],
  [dx, dweight, dbias]: readonly KernelTensor[],
  _attrs: Attrs,
  _backend: Backend,
): void {
  const X = data(x), W = data(weight), M = data(mean), R = data(rstd), D = data(dy);
  const DX = data(dx), DW = data(dweight), DB = data(dbias);
  if (!f32(X, W, M, R, D, DX, DW, DB)) {
    return layerNormGradKernel(x, weight, mean, rstd, dy, dx, dweight, dbias);
  }
  const d = weight.size, rows = M.length;
  parallelFor("layerNormGradRows", [X, W, M, R, D, DX, d], rows, {
    grain: Math.max(1, Math.ceil(GRAIN / Math.max(d, 1))),
    writes: [5],
  });
  parallelFor("layerNormGradCols", [X, M, R, D, DW, DB, d, rows], d, {
    grain: Math.max(1, Math.ceil(GRAIN / Math.max(rows, 1))),
    writes: [4, 5],
  });
}

/** rmsNorm: y and 1/rms per row. */
export function fastRmsNorm(
  [x, weight]: readonly KernelTensor[],
  [y, rstd]: readonly KernelTensor[],
  attrs: Attrs,
  _backend: Backend,
): void {
  const X = data(x), W = data(weight), Y = data(y), R = data(rstd);
  const eps = attrs.eps as number;
  if (!f32(X, W, Y, R)) return rmsNormKernel(x, weight, y, rstd, eps);
  const d = weight.size, rows = R.length;
  parallelFor("rmsNormRows", [X, W, Y, R, d, eps], rows, {
    grain: Math.max(1, Math.ceil(GRAIN / Math.max(d, 1))),
    writes: [2, 3],
  });
}

/** rmsNormGrad: dx by rows, dweight by columns. */
export function fastRmsNormGrad(
  [x, weight, rstd, dy]: readonly KernelTensor[],
  [dx, dweight]: readonly KernelTensor[],
  _attrs: Attrs,
  _backend: Backend,
): void {
  const X = data(x), W = data(weight), R = data(rstd), D = data(dy);
  const DX = data(dx), DW = data(dweight);
  if (!f32(X, W, R, D, DX, DW)) return rmsNormGradKernel(x, weight, rstd, dy, dx, dweight);
  const d = weight.size, rows = R.length;
  parallelFor("rmsNormGradRows", [X, W, R, D, DX, d], rows, {
    grain: Math.max(1, Math.ceil(GRAIN / Math.max(d, 1))),
    writes: [4],
  });
  parallelFor("rmsNormGradCols", [X, R, D, DW, d, rows], d, {
    grain: Math.max(1, Math.ceil(GRAIN / Math.max(rows, 1))),
    writes: [3],
  });
}
