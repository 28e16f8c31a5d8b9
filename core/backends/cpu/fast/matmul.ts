/**
 * The f32 `cpu` backend's matmul: one kernel that routes each call by its work (batch·m·k·n) to
 * the TypeScript reference (tiny products, where any call overhead dominates), the WebAssembly
 * SIMD micro-kernel (small ones, one core, no setup) or onnxruntime's MLAS (everything larger,
 * multi-threaded). Transposed operands and shared or batched right operands are native on every
 * route, so no operand is ever copied into a transposed layout first.
 */

import type { Attrs, Backend, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";
import { matmulDims, matmulReference } from "../kernels/matmul.ts";
import { ortAvailable, ortMatmul, ortUnavailableReason } from "./ort_matmul.ts";
import { wasmMatmul } from "./wasm_matmul.ts";
import { wasmAvailable, wasmUnavailableReason } from "./wasm_module.ts";

/** Where a matmul runs. */
export type MatmulRoute = "ts" | "wasm" | "ort";

/**
 * Crossovers in batch·m·k·n, measured on the 2-core AMD EPYC this project is benchmarked on by
 * `deno run -A tools/measure_matmul_thresholds.ts` (see bench/RESULTS.md, "Core (CPU)"): below
 * `wasm` the TypeScript loop wins, below `ort` the WebAssembly kernel does. The WebAssembly kernel
 * beat the TypeScript loop at every size down to 1×1×1 (0.29 vs 0.39 µs), so the loop only runs
 * where WebAssembly is missing; onnxruntime (≈9 µs per call) overtakes it between 56³ (8.6 vs
 * 10.5 µs) and 64³ (11.9 vs 11.2 µs), a geometric crossover of 214,562.
 */
export const MATMUL_THRESHOLDS = { wasm: 1, ort: 214_562 };

let forcedRoute: MatmulRoute | null = null;
const warned = new Set<string>();

/**
 * Sends every f32 CPU matmul to `route` (null restores routing by size) and returns the previous
 * setting; tests and the threshold tool use it to exercise each route on any shape.
 */
export function forceMatmulRoute(route: MatmulRoute | null): MatmulRoute | null {
  const prev = forcedRoute;
  forcedRoute = route;
  return prev;
}

function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`tether: ${message}`);
}

/** The route a product of this much work takes, after falling back from unavailable ones. */
export function matmulRoute(work: number): MatmulRoute {
  let route: MatmulRoute = forcedRoute ??
    (work < MATMUL_THRESHOLDS.wasm ? "ts" : work < MATMUL_THRESHOLDS.ort ? "wasm" : "ort");
  if (route === "ort" && !ortAvailable()) {
    warnOnce(
      "ort",
      `matmul: onnxruntime-node is unavailable (${ortUnavailableReason()}); large f32 CPU ` +
        `matmuls use the single-core WebAssembly kernel instead, several times slower. ` +
        `Run with -A (or --allow-ffi --allow-read) for the fast route.`,
    );
    route = "wasm";
  }
  if (route === "wasm" && !wasmAvailable()) {
    warnOnce(
      "wasm",
      `matmul: the WebAssembly SIMD kernel did not load (${wasmUnavailableReason()}); f32 CPU ` +
        `matmuls use the TypeScript loop instead.`,
    );
    route = "ts";
  }
  return route;
}

/** The `matmul` kernel of the f32 `cpu` backend (same contract as the reference kernel). */
export function fastMatmul(
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attrs: Attrs,
  _backend: Backend,
): void {
  const [a, b] = inputs, [out] = outputs;
  const transA = !!attrs.transA, transB = !!attrs.transB;
  const O = data(out), A = data(a), B = data(b);
  if (out.size === 0) return;
  if (!(O instanceof Float32Array && A instanceof Float32Array && B instanceof Float32Array)) {
    matmulReference(a, b, out, transA, transB);
    return;
  }
  const { m, k, n } = matmulDims(a, b, transA, transB);
  if (k === 0) {
    O.fill(0);
    return;
  }
  const batch = out.size / (m * n);
  const bShared = b.size === k * n;
  if (a.size !== batch * m * k || (!bShared && b.size !== batch * k * n)) {
    // The frontend expands batch axes before the kernel; only a direct caller can get here.
    throw new Error(
      `matmul: operands [${a.shape}] and [${b.shape}] do not hold ${batch} batch(es) of ` +
        `${m}×${k} @ ${k}×${n} for output [${out.shape}]; expand a's batch axes first`,
    );
  }
  const route = matmulRoute(batch * m * k * n);
  if (route === "ts") {
    matmulReference(a, b, out, transA, transB);
  } else if (route === "wasm") {
    wasmMatmul(A, B, O, batch, m, k, n, transA, transB, bShared);
  } else {
    const aDims = transA ? [k, m] : [m, k], bDims = transB ? [n, k] : [k, n];
    ortMatmul(
      A,
      B,
      O,
      batch > 1 ? [batch, ...aDims] : aDims,
      batch > 1 && !bShared ? [batch, ...bDims] : bDims,
      batch > 1 ? [batch, m, n] : [m, n],
      transA,
      transB,
    );
  }
}
