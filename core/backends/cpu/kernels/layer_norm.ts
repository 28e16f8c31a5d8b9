/** Reference CPU kernels for layer normalization over the last axis and its fused backward. */

import type { KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";

/**
 * y = (x − mean) · rstd · weight + bias per row, rstd = 1/sqrt(biased variance + eps);
 * `mean` and `rstd` receive the per-row statistics for the backward.
 */
export function layerNormKernel(
  x: KernelTensor,
  weight: KernelTensor,
  bias: KernelTensor,
  y: KernelTensor,
  mean: KernelTensor,
  rstd: KernelTensor,
  eps: number,
): void {
  const X = data(x), W = data(weight), B = data(bias), Y = data(y);
  const M = data(mean), R = data(rstd);
  const d = weight.size, rows = M.length;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += X[base + j];
    const mu = s / d;
    // Two passes: the centered sum of squares loses nothing to cancellation.
    let ss = 0;
    for (let j = 0; j < d; j++) {
      const c = X[base + j] - mu;
      ss += c * c;
    }
    const rs = 1 / Math.sqrt(ss / d + eps);
    M[r] = mu;
    R[r] = rs;
    for (let j = 0; j < d; j++) Y[base + j] = (X[base + j] - mu) * rs * W[j] + B[j];
  }
}

/**
 * From dy: dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)) with g = dy · weight and x̂ the normalized
 * input; dweight = Σ_rows dy · x̂; dbias = Σ_rows dy.
 */
export function layerNormGradKernel(
  x: KernelTensor,
  weight: KernelTensor,
  mean: KernelTensor,
  rstd: KernelTensor,
  dy: KernelTensor,
  dx: KernelTensor,
  dweight: KernelTensor,
  dbias: KernelTensor,
): void {
  const X = data(x), W = data(weight), M = data(mean), R = data(rstd), D = data(dy);
  const DX = data(dx), DW = data(dweight), DB = data(dbias);
  const d = weight.size, rows = M.length;
  const dw = new Float64Array(d), db = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const base = r * d, mu = M[r], rs = R[r];
    let sg = 0, sgx = 0;
    for (let j = 0; j < d; j++) {
      const dyj = D[base + j];
      const xh = (X[base + j] - mu) * rs;
      const g = dyj * W[j];
      sg += g;
      sgx += g * xh;
      dw[j] += dyj * xh;
      db[j] += dyj;
    }
    const mg = sg / d, mgx = sgx / d;
    for (let j = 0; j < d; j++) {
      const xh = (X[base + j] - mu) * rs;
      DX[base + j] = rs * (D[base + j] * W[j] - mg - xh * mgx);
    }
  }
  DW.set(dw);
  DB.set(db);
}
