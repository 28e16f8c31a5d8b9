/**
 * Reference CPU kernels for scaled dot-product attention over [B, H, T, D] with an optional
 * causal mask and key padding mask, fused: the [Tq, Tk] score matrix is built one query row at a
 * time and never stored. The forward saves log Σ exp per query row; the backward recomputes the
 * probabilities from it.
 *
 * Masked keys get probability 0. A query row with no allowed key (a left-padding position under
 * a causal mask) attends uniformly to all keys, which is what the composed definition gives when
 * every logit of the row is replaced by the same large negative value.
 */

import type { DataArray, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";

/** Attributes of the attention kernels. */
export interface AttentionAttrs {
  /** Key j is visible to query i only when j <= i + (Tk − Tq). */
  causal: boolean;
  /** Multiplies q·k. */
  scale: number;
}

interface Dims {
  b: number;
  h: number;
  tq: number;
  tk: number;
  d: number;
  dv: number;
}

function dimsOf(q: KernelTensor, k: KernelTensor, v: KernelTensor): Dims {
  const [b, h, tq, d] = q.shape;
  return { b, h, tq, tk: k.shape[2], d, dv: v.shape[3] };
}

/**
 * Writes into `s` the scaled scores of query row `qo` against every key of the head at `ko`,
 * −Infinity for keys the masks hide; returns the largest visible score (−Infinity if none).
 */
function scoreRow(
  Q: DataArray,
  K: DataArray,
  M: DataArray | null,
  s: Float64Array,
  qo: number,
  ko: number,
  mo: number,
  visibleEnd: number,
  tk: number,
  d: number,
  scale: number,
): number {
  let best = -Infinity;
  for (let j = 0; j < tk; j++) {
    if (j >= visibleEnd || (M !== null && M[mo + j] === 0)) {
      s[j] = -Infinity;
      continue;
    }
    const kj = ko + j * d;
    let dot = 0;
    for (let c = 0; c < d; c++) dot += Q[qo + c] * K[kj + c];
    const v = dot * scale;
    s[j] = v;
    if (v > best) best = v;
  }
  return best;
}

/** out = softmax(scale · q kᵀ, masked) v; `lse` receives log Σ exp of each query row. */
export function attentionKernel(
  q: KernelTensor,
  k: KernelTensor,
  v: KernelTensor,
  mask: KernelTensor | null,
  out: KernelTensor,
  lse: KernelTensor,
  attrs: AttentionAttrs,
): void {
  const Q = data(q), K = data(k), V = data(v), O = data(out), L = data(lse);
  const M = mask ? data(mask) : null;
  const { b, h, tq, tk, d, dv } = dimsOf(q, k, v);
  const s = new Float64Array(tk), acc = new Float64Array(dv);
  const shift = tk - tq;
  for (let bi = 0; bi < b; bi++) {
    const mo = bi * tk;
    for (let hi = 0; hi < h; hi++) {
      const head = bi * h + hi;
      const ko = head * tk * d, vo = head * tk * dv;
      for (let i = 0; i < tq; i++) {
        const row = head * tq + i;
        const end = attrs.causal ? Math.min(tk, i + shift + 1) : tk;
        const best = scoreRow(Q, K, M, s, row * d, ko, mo, end, tk, d, attrs.scale);
        acc.fill(0);
        if (best === -Infinity) {
          for (let j = 0; j < tk; j++) {
            for (let c = 0; c < dv; c++) acc[c] += V[vo + j * dv + c];
          }
          for (let c = 0; c < dv; c++) O[row * dv + c] = acc[c] / tk;
          L[row] = -Infinity;
          continue;
        }
        let sum = 0;
        for (let j = 0; j < tk; j++) {
          if (s[j] === -Infinity) continue;
          const p = Math.exp(s[j] - best);
          sum += p;
          const vj = vo + j * dv;
          for (let c = 0; c < dv; c++) acc[c] += p * V[vj + c];
        }
        const r = 1 / sum;
        for (let c = 0; c < dv; c++) O[row * dv + c] = acc[c] * r;
        L[row] = best + Math.log(sum);
      }
    }
  }
}

/**
 * From dy: dv_j = Σ_i p_ij dy_i; ds_ij = p_ij (dy_i·v_j − Σ_j' p_ij' dy_i·v_j');
 * dq_i = scale Σ_j ds_ij k_j; dk_j = scale Σ_i ds_ij q_i. Rows with no visible key spread dy
 * uniformly into dv and pass nothing to q and k.
 */
export function attentionGradKernel(
  q: KernelTensor,
  k: KernelTensor,
  v: KernelTensor,
  mask: KernelTensor | null,
  lse: KernelTensor,
  dy: KernelTensor,
  dq: KernelTensor,
  dk: KernelTensor,
  dvOut: KernelTensor,
  attrs: AttentionAttrs,
): void {
  const Q = data(q), K = data(k), V = data(v), L = data(lse), DY = data(dy);
  const DQ = data(dq), DK = data(dk), DV = data(dvOut);
  const M = mask ? data(mask) : null;
  const { b, h, tq, tk, d, dv } = dimsOf(q, k, v);
  const s = new Float64Array(tk), dp = new Float64Array(tk), dqRow = new Float64Array(d);
  const dkAcc = new Float64Array(tk * d), dvAcc = new Float64Array(tk * dv);
  const shift = tk - tq, scale = attrs.scale;
  for (let bi = 0; bi < b; bi++) {
    const mo = bi * tk;
    for (let hi = 0; hi < h; hi++) {
      const head = bi * h + hi;
      const ko = head * tk * d, vo = head * tk * dv;
      dkAcc.fill(0);
      dvAcc.fill(0);
      for (let i = 0; i < tq; i++) {
        const row = head * tq + i, qo = row * d, go = row * dv;
        const end = attrs.causal ? Math.min(tk, i + shift + 1) : tk;
        const best = scoreRow(Q, K, M, s, qo, ko, mo, end, tk, d, scale);
        if (best === -Infinity) {
          for (let j = 0; j < tk; j++) {
            for (let c = 0; c < dv; c++) dvAcc[j * dv + c] += DY[go + c] / tk;
          }
          continue;
        }
        const l = L[row];
        let dsum = 0;
        for (let j = 0; j < tk; j++) {
          if (s[j] === -Infinity) continue;
          const p = Math.exp(s[j] - l);
          s[j] = p;
          const vj = vo + j * dv, aj = j * dv;
          let g = 0;
          for (let c = 0; c < dv; c++) {
            const dyc = DY[go + c];
            g += dyc * V[vj + c];
            dvAcc[aj + c] += p * dyc;
          }
          dp[j] = g;
          dsum += p * g;
        }
        dqRow.fill(0);
        for (let j = 0; j < tk; j++) {
          if (s[j] === -Infinity) continue;
          const ds = s[j] * (dp[j] - dsum) * scale;
          const kj = ko + j * d, aj = j * d;
          for (let c = 0; c < d; c++) {
            dqRow[c] += ds * K[kj + c];
            dkAcc[aj + c] += ds * Q[qo + c];
          }
        }
        for (let c = 0; c < d; c++) DQ[qo + c] = dqRow[c];
      }
      DK.set(dkAcc, ko);
      DV.set(dvAcc, vo);
    }
  }
}
