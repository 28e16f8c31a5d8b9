/**
 * CPU kernels for scaled dot-product attention over [B, H, T, D] with an optional causal mask and
 * key padding mask. The four GEMM-shaped products run through whatever `matmul` kernel the
 * backend has registered (so a fast matmul speeds attention up too); scaling, masking, softmax
 * and its backward are single fused passes over a scratch score block. Heads are processed in
 * chunks so the scratch stays bounded; the [Tq, Tk] probabilities are never kept: the forward
 * saves log Σ exp per query row and the backward recomputes them.
 *
 * Masked keys get probability 0. A query row with no visible key (a left-padding position under
 * a causal mask) attends uniformly to all keys, which is what the composed definition gives when
 * every logit of the row is replaced by the same large negative value.
 */

import {
  type Backend,
  type DataArray,
  findKernel,
  type Kernel,
  type KernelTensor,
} from "../../../backend.ts";
import { data } from "../backend.ts";

/** Attributes of the attention kernels. */
export interface AttentionAttrs {
  /** Key j is visible to query i only when j <= i + (Tk − Tq). */
  causal: boolean;
  /** Multiplies q·k. */
  scale: number;
}

/** Score elements per scratch block: bounds scratch memory for long sequences. */
let scratchScores = 1 << 22;

/**
 * Sets how many score elements one scratch block may hold (default 2^22) and returns the previous
 * value; tests lower it to exercise the chunked path on small inputs.
 */
export function setAttentionScratchLimit(scores: number): number {
  const prev = scratchScores;
  scratchScores = scores;
  return prev;
}

interface Plan {
  heads: number;
  h: number;
  tq: number;
  tk: number;
  d: number;
  dv: number;
  /** Heads per chunk. */
  group: number;
  matmul: Kernel;
}

function planOf(q: KernelTensor, k: KernelTensor, v: KernelTensor, backend: Backend): Plan {
  const [b, h, tq, d] = q.shape;
  const tk = k.shape[2], dv = v.shape[3];
  const matmul = findKernel("matmul", backend.name);
  if (!matmul) throw new Error(`attention: backend '${backend.name}' has no matmul kernel`);
  const group = Math.max(1, Math.min(b * h, Math.floor(scratchScores / Math.max(tq * tk, 1))));
  return { heads: b * h, h, tq, tk, d, dv, group, matmul };
}

/** A [n, rows, cols] window of a tensor or scratch array starting `at` elements in. */
function block(
  handle: DataArray,
  base: number,
  at: number,
  n: number,
  rows: number,
  cols: number,
): KernelTensor {
  return {
    handle,
    shape: [n, rows, cols],
    strides: [rows * cols, cols, 1],
    offset: base + at,
    size: n * rows * cols,
  };
}

function of(t: KernelTensor): DataArray {
  return t.handle as DataArray;
}

/** Runs the backend's matmul into `out` (zeroed first: kernels may assume fresh outputs). */
function mm(
  p: Plan,
  a: KernelTensor,
  b: KernelTensor,
  out: KernelTensor,
  transA: boolean,
  transB: boolean,
  backend: Backend,
): void {
  of(out).fill(0, out.offset, out.offset + out.size);
  p.matmul([a, b], [out], { transA, transB }, backend);
}

/** Copies [n, rows, cols] at `src` into `dst` as [n, cols, rows]. */
function transposeInto(
  src: DataArray,
  from: number,
  n: number,
  rows: number,
  cols: number,
  dst: DataArray,
): void {
  for (let g = 0; g < n; g++) {
    const s = from + g * rows * cols, o = g * rows * cols;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) dst[o + c * rows + r] = src[s + r * cols + c];
    }
  }
}

/** Exclusive end of the keys query row i may see (all keys without a causal mask). */
function visibleEnd(causal: boolean, i: number, tq: number, tk: number): number {
  return causal ? Math.min(tk, Math.max(0, i + tk - tq + 1)) : tk;
}

/**
 * Turns raw scores q·k of `n` heads starting at head `h0` into probabilities in place, applying
 * scale and masks; with `lseOut` it records log Σ exp per row (forward), otherwise it rebuilds
 * the probabilities from the saved `lseIn` (backward).
 */
function probabilities(
  S: DataArray,
  n: number,
  h0: number,
  p: Plan,
  M: DataArray | null,
  causal: boolean,
  scale: number,
  lse: DataArray,
  forward: boolean,
): void {
  const { tq, tk, h } = p;
  for (let g = 0; g < n; g++) {
    const head = h0 + g, mo = Math.floor(head / h) * tk;
    for (let i = 0; i < tq; i++) {
      const row = g * tq * tk + i * tk, lrow = head * tq + i;
      const end = visibleEnd(causal, i, tq, tk);
      let best = -Infinity;
      for (let j = 0; j < end; j++) {
        if (M !== null && M[mo + j] === 0) continue;
        const v = S[row + j] * scale;
        S[row + j] = v;
        if (v > best) best = v;
      }
      if (best === -Infinity) {
        for (let j = 0; j < tk; j++) S[row + j] = 1 / tk;
        if (forward) lse[lrow] = -Infinity;
        continue;
      }
      for (let j = end; j < tk; j++) S[row + j] = 0;
      if (forward) {
        let sum = 0;
        for (let j = 0; j < end; j++) {
          if (M !== null && M[mo + j] === 0) {
            S[row + j] = 0;
            continue;
          }
          const e = Math.exp(S[row + j] - best);
          S[row + j] = e;
          sum += e;
        }
        const r = 1 / sum;
        for (let j = 0; j < end; j++) S[row + j] *= r;
        lse[lrow] = best + Math.log(sum);
      } else {
        const l = lse[lrow];
        for (let j = 0; j < end; j++) {
          S[row + j] = M !== null && M[mo + j] === 0 ? 0 : Math.exp(S[row + j] - l);
        }
      }
    }
  }
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
  backend: Backend,
): void {
  const p = planOf(q, k, v, backend);
  const { tq, tk, d, dv, group } = p;
  const M = mask ? data(mask) : null, L = data(lse);
  const S = backend.alloc(group * tq * tk) as DataArray;
  const KT = backend.alloc(group * d * tk) as DataArray;
  for (let h0 = 0; h0 < p.heads; h0 += group) {
    const n = Math.min(group, p.heads - h0);
    // kᵀ is materialized so the product is a plain one on every matmul kernel.
    transposeInto(of(k), k.offset + h0 * tk * d, n, tk, d, KT);
    mm(
      p,
      block(of(q), q.offset, h0 * tq * d, n, tq, d),
      block(KT, 0, 0, n, d, tk),
      block(S, 0, 0, n, tq, tk),
      false,
      false,
      backend,
    );
    probabilities(S, n, h0, p, M, attrs.causal, attrs.scale, L, true);
    mm(
      p,
      block(S, 0, 0, n, tq, tk),
      block(of(v), v.offset, h0 * tk * dv, n, tk, dv),
      block(of(out), out.offset, h0 * tq * dv, n, tq, dv),
      false,
      false,
      backend,
    );
  }
  backend.free(S);
  backend.free(KT);
}

/**
 * From dy: dv = Pᵀ dy; dP = dy vᵀ; dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale; dq = dS k; dk = dSᵀ q.
 * Rows with no visible key spread dy uniformly into dv and pass nothing to q and k.
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
  backend: Backend,
): void {
  const p = planOf(q, k, v, backend);
  const { tq, tk, d, dv, group } = p;
  const M = mask ? data(mask) : null, L = data(lse);
  const S = backend.alloc(group * tq * tk) as DataArray;
  const DP = backend.alloc(group * tq * tk) as DataArray;
  const T = backend.alloc(group * Math.max(d, dv) * tk) as DataArray;
  const scale = attrs.scale;
  for (let h0 = 0; h0 < p.heads; h0 += group) {
    const n = Math.min(group, p.heads - h0);
    const qb = block(of(q), q.offset, h0 * tq * d, n, tq, d);
    const kb = block(of(k), k.offset, h0 * tk * d, n, tk, d);
    const dyb = block(of(dy), dy.offset, h0 * tq * dv, n, tq, dv);
    const sb = block(S, 0, 0, n, tq, tk), dpb = block(DP, 0, 0, n, tq, tk);
    transposeInto(of(k), kb.offset, n, tk, d, T);
    mm(p, qb, block(T, 0, 0, n, d, tk), sb, false, false, backend);
    probabilities(S, n, h0, p, M, attrs.causal, scale, L, false);
    mm(p, sb, dyb, block(of(dvOut), dvOut.offset, h0 * tk * dv, n, tk, dv), true, false, backend);
    transposeInto(of(v), v.offset + h0 * tk * dv, n, tk, dv, T);
    mm(p, dyb, block(T, 0, 0, n, dv, tk), dpb, false, false, backend);
    for (let g = 0; g < n; g++) {
      for (let i = 0; i < tq; i++) {
        const row = g * tq * tk + i * tk;
        let dot = 0;
        for (let j = 0; j < tk; j++) dot += S[row + j] * DP[row + j];
        // A row with no visible key was uniform by construction, not through the scores.
        const blocked = L[(h0 + g) * tq + i] === -Infinity;
        for (let j = 0; j < tk; j++) {
          DP[row + j] = blocked ? 0 : S[row + j] * (DP[row + j] - dot) * scale;
        }
      }
    }
    mm(p, dpb, kb, block(of(dq), dq.offset, h0 * tq * d, n, tq, d), false, false, backend);
    mm(p, dpb, qb, block(of(dk), dk.offset, h0 * tk * d, n, tk, d), true, false, backend);
  }
  backend.free(S);
  backend.free(DP);
  backend.free(T);
}
