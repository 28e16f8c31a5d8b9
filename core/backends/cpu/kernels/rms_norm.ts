/** Reference CPU kernels for RMS normalization over the last axis and its fused backward. */

import type { KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";

/** y = x · rstd · weight per row, rstd = 1/sqrt(mean(x²) + eps), kept for the backward. */
export function rmsNormKernel(
  x: KernelTensor,
  weight: KernelTensor,
  y: KernelTensor,
  rstd: KernelTensor,
  eps: number,
): void {
  const X = data(x), W = data(weight), Y = data(y), R = data(rstd);
  const d = weight.size, rows = R.length;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let ss = 0;
    for (let j = 0; j < d; j++) ss += X[base + j] * X[base + j];
    const rs = 1 / Math.sqrt(ss / d + eps);
    R[r] = rs;
    for (let j = 0; j < d; j++) Y[base + j] = X[base + j] * rs * W[j];
  }
}

/**
 * From dy: dx = rstd · (g − x · rstd² · mean(g · x)) with g = dy · weight;
 * dweight = Σ_rows dy · x · rstd.
 */
export function rmsNormGradKernel(
  x: KernelTensor,
  weight: KernelTensor,
  rstd: KernelTensor,
  dy: KernelTensor,
  dx: KernelTensor,
  dweight: KernelTensor,
): void {
  const X = data(x), W = data(weight), R = data(rstd), D = data(dy);
  const DX = data(dx), DW = data(dweight);
  const d = weight.size, rows = R.length;
  const dw = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const base = r * d, rs = R[r];
    let sgx = 0;
    for (let j = 0; j < d; j++) {
      const dyj = D[base + j];
      sgx += dyj * W[j] * X[base + j];
      dw[j] += dyj * X[base + j] * rs;
    }
    const k = rs * rs * sgx / d;
    for (let j = 0; j < d; j++) DX[base + j] = rs * (D[base + j] * W[j] - X[base + j] * k);
  }
  DW.set(dw);
}
