/** Reference CPU matmul: batched, either operand transposed, accumulating in f64. */

import type { KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";

/** Batch, rows, inner and columns of `a @ b` given the transpose flags. */
export function matmulDims(
  a: KernelTensor,
  b: KernelTensor,
  transA: boolean,
  transB: boolean,
): { batch: number; m: number; k: number; n: number } {
  const ra = a.shape.length, rb = b.shape.length;
  const m = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batch = a.size / (m * k);
  return { batch, m, k, n };
}

/** out[b] = op(a[b]) @ op(b[b]); `b` may be one matrix shared by every batch. */
export function matmulReference(
  a: KernelTensor,
  b: KernelTensor,
  out: KernelTensor,
  transA: boolean,
  transB: boolean,
): void {
  const A = data(a), B = data(b), O = data(out);
  const { batch, m, k, n } = matmulDims(a, b, transA, transB);
  const bShared = b.size === k * n;
  const row = new Float64Array(n);
  for (let p = 0; p < batch; p++) {
    const ao = p * m * k, bo = bShared ? 0 : p * k * n, oo = p * m * n;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let kk = 0; kk < k; kk++) {
        const av = transA ? A[ao + kk * m + i] : A[ao + i * k + kk];
        if (transB) { for (let j = 0; j < n; j++) row[j] += av * B[bo + j * k + kk]; }
        else {
          const br = bo + kk * n;
          for (let j = 0; j < n; j++) row[j] += av * B[br + j];
        }
      }
      O.set(row, oo + i * n);
    }
  }
}
