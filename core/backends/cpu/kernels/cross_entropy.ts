/**
 * Reference CPU kernels for the losses read off a log-softmax without materializing it:
 * cross-entropy (with ignoreIndex and reduction) and per-token log-probabilities, plus their
 * backward passes. Each forward saves log Σ exp per row so the backward can rebuild softmax.
 */

import type { DataArray, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";

/** How a cross-entropy loss combines its per-row values. */
export type Reduction = "mean" | "sum" | "none";

/** log Σ_j exp(X[base + j]) over a row of length c, computed stably. */
function rowLogSumExp(X: DataArray, base: number, c: number): number {
  let m = -Infinity;
  for (let j = 0; j < c; j++) if (X[base + j] > m) m = X[base + j];
  let s = 0;
  for (let j = 0; j < c; j++) s += Math.exp(X[base + j] - m);
  return m + Math.log(s);
}

function badIndex(op: string, what: string, t: number, row: number, c: number): Error {
  return new Error(`${op}: ${what} ${t} in row ${row} is not an integer in [0, ${c})`);
}

/**
 * Per-row loss lse − x[target] (0 for ignored rows), reduced into `loss`; `lse` receives the
 * row log-sum-exp for the backward. Mean divides by the number of non-ignored rows.
 */
export function crossEntropyKernel(
  logits: KernelTensor,
  targets: KernelTensor,
  loss: KernelTensor,
  lse: KernelTensor,
  ignoreIndex: number,
  reduction: Reduction,
): void {
  const X = data(logits), T = data(targets), L = data(loss), S = data(lse);
  const c = logits.shape[logits.shape.length - 1];
  const rows = T.length;
  let total = 0, count = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * c;
    const l = rowLogSumExp(X, base, c);
    S[r] = l;
    const t = T[r];
    if (t === ignoreIndex) continue;
    if (!(t >= 0 && t < c && Number.isInteger(t))) {
      throw badIndex("crossEntropy", "target", t, r, c);
    }
    const v = l - X[base + t];
    if (reduction === "none") L[r] = v;
    else total += v;
    count++;
  }
  if (reduction === "sum") L[0] = total;
  else if (reduction === "mean") L[0] = total / count;
}

/**
 * d loss / d logits = g_r · (softmax − onehot(target)) per row, with g_r = dy (per row for
 * "none", shared otherwise, divided by the non-ignored count for "mean") and 0 for ignored rows.
 */
export function crossEntropyGradKernel(
  logits: KernelTensor,
  targets: KernelTensor,
  lse: KernelTensor,
  dy: KernelTensor,
  dx: KernelTensor,
  ignoreIndex: number,
  reduction: Reduction,
): void {
  const X = data(logits), T = data(targets), S = data(lse), D = data(dy), O = data(dx);
  const c = logits.shape[logits.shape.length - 1];
  const rows = T.length;
  let shared = reduction === "none" ? 0 : D[0];
  if (reduction === "mean") {
    let count = 0;
    for (let r = 0; r < rows; r++) if (T[r] !== ignoreIndex) count++;
    shared /= count;
  }
  for (let r = 0; r < rows; r++) {
    const t = T[r];
    if (t === ignoreIndex) continue;
    const g = reduction === "none" ? D[r] : shared;
    const base = r * c, l = S[r];
    for (let j = 0; j < c; j++) O[base + j] = g * Math.exp(X[base + j] - l);
    O[base + t] -= g;
  }
}

/** out[r] = log_softmax(logits[r])[labels[r]]; `lse` receives the row log-sum-exp. */
export function tokenLogProbsKernel(
  logits: KernelTensor,
  labels: KernelTensor,
  out: KernelTensor,
  lse: KernelTensor,
): void {
  const X = data(logits), T = data(labels), O = data(out), S = data(lse);
  const c = logits.shape[logits.shape.length - 1];
  for (let r = 0; r < T.length; r++) {
    const base = r * c, t = T[r];
    if (!(t >= 0 && t < c && Number.isInteger(t))) {
      throw badIndex("tokenLogProbs", "label", t, r, c);
    }
    const l = rowLogSumExp(X, base, c);
    S[r] = l;
    O[r] = X[base + t] - l;
  }
}

/** d out / d logits = dy_r · (onehot(label) − softmax) per row. */
export function tokenLogProbsGradKernel(
  logits: KernelTensor,
  labels: KernelTensor,
  lse: KernelTensor,
  dy: KernelTensor,
  dx: KernelTensor,
): void {
  const X = data(logits), T = data(labels), S = data(lse), D = data(dy), O = data(dx);
  const c = logits.shape[logits.shape.length - 1];
  for (let r = 0; r < T.length; r++) {
    const base = r * c, l = S[r], g = D[r];
    for (let j = 0; j < c; j++) O[base + j] = -g * Math.exp(X[base + j] - l);
    O[base + T[r]] += g;
  }
}
