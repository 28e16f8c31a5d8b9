/**
 * Reference CPU kernel of `sampleTokens`: one token per row of logits, drawn with temperature,
 * top-k and top-p (nucleus) filtering in Hugging Face's order, from a uniform draw per row.
 *
 * Exact rules, shared with the WebGPU kernel (ties are kept together on both filters):
 * 1. z = logits / temperature.
 * 2. top-k (0 < k < V): keep z_j >= the k-th largest z.
 * 3. e_j = exp(z_j − max z) for kept tokens, 0 otherwise; Z = Σ e.
 * 4. top-p (p < 1): keep token j when the mass of kept tokens with e strictly greater than e_j is
 *    below p·Z (the smallest set of most likely tokens reaching p; the most likely always stays).
 * 5. With w the surviving e, pick the smallest j (vocabulary order) whose running sum of w
 *    exceeds u·Σ w, u being the row's uniform draw in [0, 1).
 */

import type { KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";

/** Filtering settings (temperature > 0; topK 0 and topP 1 disable their filter). */
export interface SampleAttrs {
  /** Divides the logits. */
  temperature: number;
  /** Keep the k most likely tokens (ties at the k-th kept too); 0 disables. */
  topK: number;
  /** Keep the most likely tokens whose mass reaches p; 1 disables. */
  topP: number;
}

/** out[r] = token id drawn from row r of logits with uniform draw u[r]. */
export function sampleTokensKernel(
  logits: KernelTensor,
  uniforms: KernelTensor,
  out: KernelTensor,
  attrs: SampleAttrs,
): void {
  const X = data(logits), U = data(uniforms), O = data(out);
  const v = logits.shape[logits.shape.length - 1];
  const rows = U.length;
  const z = new Float64Array(v), w = new Float64Array(v);
  for (let r = 0; r < rows; r++) {
    const base = r * v;
    let best = -Infinity;
    for (let j = 0; j < v; j++) {
      z[j] = X[base + j] / attrs.temperature;
      if (z[j] > best) best = z[j];
    }
    let kth = -Infinity;
    if (attrs.topK > 0 && attrs.topK < v) {
      kth = Float64Array.from(z).sort((a, b) => b - a)[attrs.topK - 1];
    }
    let total = 0;
    for (let j = 0; j < v; j++) {
      w[j] = z[j] >= kth ? Math.exp(z[j] - best) : 0;
      total += w[j];
    }
    if (attrs.topP < 1) {
      // Mass strictly above each distinct value, from the largest value down.
      const sorted = Float64Array.from(w).sort((a, b) => b - a);
      let above = 0, cut = Infinity;
      for (let i = 0; i < v;) {
        const value = sorted[i];
        if (above >= attrs.topP * total) {
          cut = value;
          break;
        }
        let tied = 0;
        while (i < v && sorted[i] === value) tied += sorted[i++];
        above += tied;
      }
      if (cut !== Infinity) {
        total = 0;
        for (let j = 0; j < v; j++) {
          if (w[j] <= cut) w[j] = 0;
          total += w[j];
        }
      }
    }
    const target = U[r] * total;
    let acc = 0, pick = -1, last = 0;
    for (let j = 0; j < v; j++) {
      if (w[j] === 0) continue;
      last = j;
      acc += w[j];
      if (acc > target) {
        pick = j;
        break;
      }
    }
    O[r] = pick >= 0 ? pick : last;
  }
}
