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
import { parallelFor } from "../fast/parallel.ts";
import "../fast/range_attention.ts";

/** Score elements worth handing one thread (about 0.1 ms of the probability pass). */
const GRAIN_SCORES = 1 << 16;

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

/** Turns raw scores of `n` heads from head `h0` into probabilities in place (see range kernel). */
function probabilities(
  S: DataArray,
  n: number,
  h0: number,
  p: Plan,
  M: DataArray | null,
  attrs: AttentionAttrs,
  L: DataArray,
  forward: boolean,
): void {
  const { tq, tk, h } = p;
  parallelFor(
    "attentionProbs",
    [S, M, L, forward, tq, tk, h, h0, attrs.causal, attrs.scale],
    n,
    { grain: Math.max(1, Math.ceil(GRAIN_SCORES / (tq * tk))), writes: [0, 2] },
  );
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
  for (let h0 = 0; h0 < p.heads; h0 += group) {
    const n = Math.min(group, p.heads - h0);
    mm(
      p,
      block(of(q), q.offset, h0 * tq * d, n, tq, d),
      block(of(k), k.offset, h0 * tk * d, n, tk, d),
      block(S, 0, 0, n, tq, tk),
      false,
      true,
      backend,
    );
    probabilities(S, n, h0, p, M, attrs, L, true);
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
  const scale = attrs.scale;
  for (let h0 = 0; h0 < p.heads; h0 += group) {
    const n = Math.min(group, p.heads - h0);
    const qb = block(of(q), q.offset, h0 * tq * d, n, tq, d);
    const kb = block(of(k), k.offset, h0 * tk * d, n, tk, d);
    const vb = block(of(v), v.offset, h0 * tk * dv, n, tk, dv);
    const dyb = block(of(dy), dy.offset, h0 * tq * dv, n, tq, dv);
    const sb = block(S, 0, 0, n, tq, tk), dpb = block(DP, 0, 0, n, tq, tk);
    mm(p, qb, kb, sb, false, true, backend);
    probabilities(S, n, h0, p, M, attrs, L, false);
    mm(p, sb, dyb, block(of(dvOut), dvOut.offset, h0 * tk * dv, n, tk, dv), true, false, backend);
    mm(p, dyb, vb, dpb, false, true, backend);
    parallelFor("attentionGradScores", [S, DP, L, tq, tk, h0, scale], n, {
      grain: Math.max(1, Math.ceil(GRAIN_SCORES / (tq * tk))),
      writes: [1],
    });
    mm(p, dpb, kb, block(of(dq), dq.offset, h0 * tq * d, n, tq, d), false, false, backend);
    mm(p, dpb, qb, block(of(dk), dk.offset, h0 * tk * d, n, tk, d), true, false, backend);
  }
  backend.free(S);
  backend.free(DP);
}
