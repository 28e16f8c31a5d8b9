/**
 * Range kernels of the CPU attention over the heads of one scratch block: raw scores q·k become
 * probabilities (forward: softmax with scale and masks, recording log Σ exp per query row;
 * backward: rebuilt from it), and the softmax backward dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale.
 * Rows run on WebAssembly SIMD when the module loaded and the scale is positive (hidden keys
 * are then −∞ before the exponential); otherwise in TypeScript, the reference arithmetic.
 *
 * Masked keys get probability 0; a query row with no visible key (left padding under a causal
 * mask) attends uniformly to every key and records lse = −∞, as the reference kernel does.
 *
 * @module
 */

import { registerRangeKernel } from "./range_registry.ts";
import { align, heapF32, heapStart, type KernelExports, wasmKernels } from "./wasm_module.ts";

type Data = Float32Array | Float64Array;

/** Exclusive end of the keys query row i may see (all keys without a causal mask). */
export function visibleEnd(causal: boolean, i: number, tq: number, tk: number): number {
  return causal ? Math.min(tk, Math.max(0, i + tk - tq + 1)) : tk;
}

/** Where a block of heads sits and how it is masked. */
interface Geometry {
  tq: number;
  tk: number;
  /** Heads per batch row (the mask is per batch row). */
  h: number;
  /** Global index of the block's first head. */
  h0: number;
  causal: boolean;
  scale: number;
}

function geometry(args: readonly unknown[], at: number): Geometry {
  const [tq, tk, h, h0, causal, scale] = args.slice(at) as [
    number,
    number,
    number,
    number,
    boolean,
    number,
  ];
  return { tq, tk, h, h0, causal, scale };
}

/** True when query row i of head `head` sees no key at all. */
function rowBlocked(M: Data | null, mo: number, end: number): boolean {
  if (end === 0) return true;
  if (M === null) return false;
  for (let j = 0; j < end; j++) if (M[mo + j] !== 0) return false;
  return true;
}

/** Writes −∞ over the hidden keys of one row (before the row is scaled by a positive scale). */
function hide(S: Data, row: number, M: Data | null, mo: number, end: number, tk: number): void {
  if (end < tk) S.fill(-Infinity, row + end, row + tk);
  if (M !== null) { for (let j = 0; j < end; j++) if (M[mo + j] === 0) S[row + j] = -Infinity; }
}

/** The reference arithmetic for one row (any scale, any storage precision). */
function referenceRow(
  S: Data,
  row: number,
  M: Data | null,
  mo: number,
  end: number,
  tk: number,
  scale: number,
  L: Data,
  lrow: number,
  forward: boolean,
): void {
  let best = -Infinity;
  for (let j = 0; j < end; j++) {
    if (M !== null && M[mo + j] === 0) continue;
    const v = S[row + j] * scale;
    S[row + j] = v;
    if (v > best) best = v;
  }
  if (best === -Infinity) {
    for (let j = 0; j < tk; j++) S[row + j] = 1 / tk;
    if (forward) L[lrow] = -Infinity;
    return;
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
    L[lrow] = best + Math.log(sum);
  } else {
    const l = L[lrow];
    for (let j = 0; j < end; j++) {
      S[row + j] = M !== null && M[mo + j] === 0 ? 0 : Math.exp(S[row + j] - l);
    }
  }
}

/** Rows of one head through the module: scale, (re)normalize, back into S. */
function simdHead(
  wasm: KernelExports,
  S: Float32Array,
  base: number,
  rows: number,
  tk: number,
  L: Float32Array,
  lBase: number,
  scale: number,
  forward: boolean,
): void {
  const x = heapStart(wasm), l = x + align(rows * tk * 4);
  const heap = heapF32(wasm, l + align(rows * 4));
  heap.set(S.subarray(base, base + rows * tk), x >> 2);
  if (forward) wasm.softmaxRowsInPlace(x, l, rows, tk, scale);
  else {
    heap.set(L.subarray(lBase, lBase + rows), l >> 2);
    wasm.expRowsShifted(x, l, rows, tk, scale);
  }
  S.set(heap.subarray(x >> 2, (x >> 2) + rows * tk), base);
  if (forward) L.set(heap.subarray(l >> 2, (l >> 2) + rows), lBase);
}

/**
 * args [S, M, L, forward, tq, tk, h, h0, causal, scale]: heads [s, e) of the block S
 * ([n, tq, tk], raw q·k in, probabilities out); M the [B, Tk] key mask or null; L the [heads,
 * tq] log Σ exp (written forward, read backward).
 */
registerRangeKernel("attentionProbs", (args, s, e) => {
  const [S, M, L, forward] = args as [Data, Data | null, Data, boolean];
  const g = geometry(args, 4);
  const { tq, tk, h, h0, causal, scale } = g;
  const wasm = S instanceof Float32Array && L instanceof Float32Array && scale > 0
    ? wasmKernels()
    : null;
  for (let head = s; head < e; head++) {
    const global = h0 + head, mo = Math.floor(global / h) * tk;
    const base = head * tq * tk, lBase = global * tq;
    if (!wasm) {
      for (let i = 0; i < tq; i++) {
        const end = visibleEnd(causal, i, tq, tk);
        referenceRow(S, base + i * tk, M, mo, end, tk, scale, L, lBase + i, forward);
      }
      continue;
    }
    const blocked: number[] = [];
    for (let i = 0; i < tq; i++) {
      const end = visibleEnd(causal, i, tq, tk);
      if (rowBlocked(M, mo, end)) {
        blocked.push(i);
        // Any finite row keeps the module's arithmetic finite; it is overwritten below.
        S.fill(0, base + i * tk, base + (i + 1) * tk);
      } else hide(S, base + i * tk, M, mo, end, tk);
    }
    simdHead(wasm, S as Float32Array, base, tq, tk, L as Float32Array, lBase, scale, forward);
    for (const i of blocked) {
      S.fill(1 / tk, base + i * tk, base + (i + 1) * tk);
      if (forward) L[lBase + i] = -Infinity;
    }
  }
});

/**
 * args [S, DP, L, tq, tk, h0, scale]: heads [s, e): DP = S ⊙ (DP − rowsum(S ⊙ DP)) · scale, and
 * 0 on rows that saw no key (uniform by construction, not through the scores).
 */
registerRangeKernel("attentionGradScores", (args, s, e) => {
  const [S, DP, L, tq, tk, h0, scale] = args as [Data, Data, Data, number, number, number, number];
  for (let head = s; head < e; head++) {
    for (let i = 0; i < tq; i++) {
      const row = head * tq * tk + i * tk;
      if (L[(h0 + head) * tq + i] === -Infinity) {
        DP.fill(0, row, row + tk);
        continue;
      }
      let dot = 0;
      for (let j = 0; j < tk; j++) dot += S[row + j] * DP[row + j];
      for (let j = 0; j < tk; j++) DP[row + j] = S[row + j] * (DP[row + j] - dot) * scale;
    }
  }
});
