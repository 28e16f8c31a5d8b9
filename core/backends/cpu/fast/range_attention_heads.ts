/**
 * Attention one head at a time inside the WebAssembly module, heads split across threads: per
 * head the scores q·kᵀ, the masked softmax and p·v (forward), or the recomputed probabilities and
 * the five products of the backward, all on the module's packed 6×8 micro-kernel without
 * leaving its memory. Batched small products through onnxruntime ran at a few GFLOP/s here
 * (192 heads of 136×64 in a GPT-2 minibatch); one head's working set stays in cache.
 *
 * Semantics are those of the reference kernel (kernels/attention.ts): hidden keys get
 * probability 0, a query row that sees no key attends uniformly and records lse = −∞ (and passes
 * no gradient to q and k), `scale` multiplies q·k.
 *
 * @module
 */

import { registerRangeKernel } from "./range_registry.ts";
import { align, heapF32, heapStart, type KernelExports, wasmKernels } from "./wasm_module.ts";
import { visibleEnd } from "./range_attention.ts";

type F32 = Float32Array;

const MR = 6, NR = 8;

/**
 * Up to this many query rows (a decode step has one) skip gemm's packing: q·kᵀ and p·v run
 * unpacked on the same arithmetic (scoresRows, weightedRows), 4× faster at one row.
 */
const FEW_ROWS = 4;

/** Byte offsets of one head's buffers in the module's memory. */
interface Layout {
  q: number;
  k: number;
  v: number;
  dy: number;
  s: number;
  dp: number;
  lse: number;
  o: number;
  dq: number;
  dk: number;
  dv: number;
  packA: number;
  packB: number;
  tile: number;
  heap: F32;
}

function layout(wasm: KernelExports, tq: number, tk: number, d: number, dv: number): Layout {
  let at = heapStart(wasm);
  const take = (floats: number) => {
    const p = at;
    at += align(floats * 4);
    return p;
  };
  const q = take(tq * d), k = take(tk * d), v = take(tk * dv), dy = take(tq * dv);
  const s = take(tq * tk), dp = take(tq * tk), lse = take(tq);
  const o = take(tq * dv), dq = take(tq * d), dk = take(tk * d), dvOut = take(tk * dv);
  const maxM = Math.max(tq, tk), maxK = Math.max(tq, tk, d, dv), maxN = Math.max(tq, tk, d, dv);
  const packA = take(Math.ceil(maxM / MR) * MR * maxK);
  const packB = take(Math.ceil(maxN / NR) * NR * maxK);
  const tile = take(MR * NR);
  const heap = heapF32(wasm, at);
  return { q, k, v, dy, s, dp, lse, o, dq, dk, dv: dvOut, packA, packB, tile, heap };
}

/** c = op(a) · op(b) with op(a) m×kk and op(b) kk×n, all in the module's memory. */
function gemm(
  w: KernelExports,
  L: Layout,
  a: number,
  transA: boolean,
  b: number,
  transB: boolean,
  c: number,
  m: number,
  kk: number,
  n: number,
): void {
  w.packA(a, L.packA, m, kk, transA ? 1 : 0);
  w.packB(b, L.packB, kk, n, transB ? 1 : 0);
  w.gemm(L.packA, L.packB, c, m, kk, n, L.tile);
}

/** Shape and masking of one call, shared by every head. */
interface Geometry {
  tq: number;
  tk: number;
  d: number;
  dv: number;
  h: number;
  causal: boolean;
  scale: number;
  M: F32 | null;
}

/**
 * Writes −∞ over the scores of hidden keys and lists the rows that see no key (they are set to
 * 0 here, to be overwritten once the module is done).
 */
function hideKeys(L: Layout, g: Geometry, head: number): number[] {
  const { tq, tk, M, causal } = g;
  const S = L.heap, base = L.s >> 2, mo = Math.floor(head / g.h) * tk;
  const blocked: number[] = [];
  for (let i = 0; i < tq; i++) {
    const row = base + i * tk, end = visibleEnd(causal, i, tq, tk);
    let visible = end > 0;
    if (visible && M !== null) {
      visible = false;
      for (let j = 0; j < end; j++) {
        if (M[mo + j] !== 0) {
          visible = true;
          break;
        }
      }
    }
    if (!visible) {
      blocked.push(i);
      S.fill(0, row, row + tk);
      continue;
    }
    if (end < tk) S.fill(-Infinity, row + end, row + tk);
    if (M !== null) { for (let j = 0; j < end; j++) if (M[mo + j] === 0) S[row + j] = -Infinity; }
  }
  return blocked;
}

function geometry(args: readonly unknown[], at: number): Geometry {
  const [tq, tk, d, dv, h, causal, scale, M] = args.slice(at) as [
    number,
    number,
    number,
    number,
    number,
    boolean,
    number,
    F32 | null,
  ];
  return { tq, tk, d, dv, h, causal, scale, M };
}

function module(): KernelExports {
  const w = wasmKernels();
  if (!w) throw new Error("cpu: the attention head kernels need WebAssembly SIMD");
  return w;
}

/**
 * args [Q, K, V, O, LSE, tq, tk, d, dv, h, causal, scale, M]: heads [s, e) of [heads, T, D]
 * arrays; O [heads, tq, dv] and LSE [heads, tq] are written. Needs scale > 0.
 */
registerRangeKernel("attentionHeadsForward", (args, s, e) => {
  const [Q, K, V, O, LSE] = args as F32[];
  const g = geometry(args, 5);
  const { tq, tk, d, dv } = g;
  const w = module();
  const L = layout(w, tq, tk, d, dv);
  const H = L.heap;
  const few = tq <= FEW_ROWS;
  for (let head = s; head < e; head++) {
    H.set(Q.subarray(head * tq * d, (head + 1) * tq * d), L.q >> 2);
    H.set(K.subarray(head * tk * d, (head + 1) * tk * d), L.k >> 2);
    H.set(V.subarray(head * tk * dv, (head + 1) * tk * dv), L.v >> 2);
    if (few) w.scoresRows(L.q, L.k, L.s, tq, tk, d);
    else gemm(w, L, L.q, false, L.k, true, L.s, tq, d, tk);
    const blocked = hideKeys(L, g, head);
    w.softmaxRowsInPlace(L.s, L.lse, tq, tk, g.scale);
    for (const i of blocked) {
      H.fill(1 / tk, (L.s >> 2) + i * tk, (L.s >> 2) + (i + 1) * tk);
      H[(L.lse >> 2) + i] = -Infinity;
    }
    if (few) w.weightedRows(L.s, L.v, L.o, tq, tk, dv);
    else gemm(w, L, L.s, false, L.v, false, L.o, tq, tk, dv);
    O.set(H.subarray(L.o >> 2, (L.o >> 2) + tq * dv), head * tq * dv);
    LSE.set(H.subarray(L.lse >> 2, (L.lse >> 2) + tq), head * tq);
  }
});

/**
 * args [Q, K, V, LSE, DY, DQ, DK, DV, tq, tk, d, dv, h, causal, scale, M]: the gradients of
 * heads [s, e). dV = Pᵀ dY; dP = dY Vᵀ; dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale; dQ = dS K;
 * dK = dSᵀ Q.
 */
registerRangeKernel("attentionHeadsBackward", (args, s, e) => {
  const [Q, K, V, LSE, DY, DQ, DK, DV] = args as F32[];
  const g = geometry(args, 8);
  const { tq, tk, d, dv, scale } = g;
  const w = module();
  const L = layout(w, tq, tk, d, dv);
  const H = L.heap;
  const sBase = L.s >> 2, dpBase = L.dp >> 2;
  for (let head = s; head < e; head++) {
    H.set(Q.subarray(head * tq * d, (head + 1) * tq * d), L.q >> 2);
    H.set(K.subarray(head * tk * d, (head + 1) * tk * d), L.k >> 2);
    H.set(V.subarray(head * tk * dv, (head + 1) * tk * dv), L.v >> 2);
    H.set(DY.subarray(head * tq * dv, (head + 1) * tq * dv), L.dy >> 2);
    H.set(LSE.subarray(head * tq, (head + 1) * tq), L.lse >> 2);
    gemm(w, L, L.q, false, L.k, true, L.s, tq, d, tk);
    const blocked = hideKeys(L, g, head);
    w.expRowsShifted(L.s, L.lse, tq, tk, scale);
    for (const i of blocked) H.fill(1 / tk, sBase + i * tk, sBase + (i + 1) * tk);
    gemm(w, L, L.s, true, L.dy, false, L.dv, tk, tq, dv);
    gemm(w, L, L.dy, false, L.v, true, L.dp, tq, dv, tk);
    let b = 0;
    for (let i = 0; i < tq; i++) {
      const row = i * tk;
      if (b < blocked.length && blocked[b] === i) {
        b++;
        H.fill(0, dpBase + row, dpBase + row + tk);
        continue;
      }
      let dot = 0;
      for (let j = 0; j < tk; j++) dot += H[sBase + row + j] * H[dpBase + row + j];
      for (let j = 0; j < tk; j++) {
        H[dpBase + row + j] = H[sBase + row + j] * (H[dpBase + row + j] - dot) * scale;
      }
    }
    gemm(w, L, L.dp, false, L.k, false, L.dq, tq, tk, d);
    gemm(w, L, L.dp, true, L.q, false, L.dk, tk, tq, d);
    DQ.set(H.subarray(L.dq >> 2, (L.dq >> 2) + tq * d), head * tq * d);
    DK.set(H.subarray(L.dk >> 2, (L.dk >> 2) + tk * d), head * tk * d);
    DV.set(H.subarray(L.dv >> 2, (L.dv >> 2) + tk * dv), head * tk * dv);
  }
});
