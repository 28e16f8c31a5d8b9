/**
 * Times the three f32 CPU matmul routes (TypeScript, WebAssembly SIMD, onnxruntime) on square
 * products of growing size and prints where each route starts to win: the numbers behind
 * MATMUL_THRESHOLDS in core/backends/cpu/fast/matmul.ts. Each time is the best of several
 * rounds, which keeps the crossovers stable on a shared machine.
 *
 *     deno run -A tools/measure_matmul_thresholds.ts [--rounds 7]
 */

import { parseArgs } from "node:util";
import type { KernelTensor } from "../core/backend.ts";
import { getBackend } from "../core/backend.ts";
import "../core/mod.ts";
import {
  fastMatmul,
  forceMatmulRoute,
  MATMUL_THRESHOLDS,
  type MatmulRoute,
} from "../core/backends/cpu/fast/matmul.ts";
import { ortAvailable, ortUnavailableReason } from "../core/backends/cpu/fast/ort_matmul.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "7" } } });
const rounds = Number(values.rounds);
if (!ortAvailable()) {
  throw new Error(`measure: onnxruntime is unavailable: ${ortUnavailableReason()}`);
}

const SIZES = [
  1,
  2,
  3,
  4,
  5,
  6,
  8,
  10,
  12,
  16,
  20,
  24,
  32,
  40,
  48,
  56,
  64,
  72,
  80,
  96,
  112,
  128,
  160,
];
const ROUTES: MatmulRoute[] = ["ts", "wasm", "ort"];
const cpu = getBackend("cpu");

function kt(handle: Float32Array, shape: number[]): KernelTensor {
  const strides = shape.length === 2 ? [shape[1], 1] : [1];
  return { handle, shape, strides, offset: 0, size: handle.length };
}

/** Best seconds per call of `route` on an s×s×s product. */
function time(route: MatmulRoute, s: number): number {
  const a = kt(Float32Array.from({ length: s * s }, Math.random), [s, s]);
  const b = kt(Float32Array.from({ length: s * s }, Math.random), [s, s]);
  const out = kt(new Float32Array(s * s), [s, s]);
  forceMatmulRoute(route);
  const run = () => fastMatmul([a, b], [out], { transA: false, transB: false }, cpu);
  // Enough calls per round for ~2 ms of work at the slowest plausible speed (at most 500, which
  // keeps the per-call overhead of tiny products from stretching a round).
  const perCall = s * s * s * (route === "ts" ? 1e-9 : 1e-10);
  const calls = Math.min(500, Math.max(3, Math.ceil(2e-3 / perCall)));
  for (let i = 0; i < calls; i++) run();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) run();
    best = Math.min(best, (performance.now() - t0) / 1e3 / calls);
  }
  forceMatmulRoute(null);
  return best;
}

const rows: { s: number; work: number; t: Record<MatmulRoute, number>; best: MatmulRoute }[] = [];
console.log("   size      m·k·n   ts µs  wasm µs   ort µs  fastest  (GFLOP/s of the fastest)");
for (const s of SIZES) {
  const t = Object.fromEntries(ROUTES.map((r) => [r, time(r, s)])) as Record<MatmulRoute, number>;
  const best = ROUTES.reduce((x, y) => t[y] < t[x] ? y : x);
  const work = s * s * s;
  rows.push({ s, work, t, best });
  const us = (r: MatmulRoute) => (t[r] * 1e6).toFixed(2).padStart(8);
  console.log(
    `${String(s).padStart(7)} ${String(work).padStart(10)} ${us("ts")} ${us("wasm")} ${us("ort")}` +
      `  ${best.padEnd(7)}  ${(2 * work / t[best] / 1e9).toFixed(1)}`,
  );
}

/** Geometric middle between the last size `slow` wins and the first from which `fast` always does. */
function crossover(fast: MatmulRoute, slow: MatmulRoute): number {
  let first = rows.length;
  for (let i = rows.length - 1; i >= 0 && rows[i].t[fast] < rows[i].t[slow]; i--) first = i;
  if (first === 0) return rows[0].work;
  if (first === rows.length) return Infinity;
  return Math.round(Math.sqrt(rows[first - 1].work * rows[first].work));
}

console.log(`\ncrossover ts → wasm at m·k·n ≈ ${crossover("wasm", "ts")}`);
console.log(`crossover wasm → ort at m·k·n ≈ ${crossover("ort", "wasm")}`);
console.log(`current MATMUL_THRESHOLDS: ${JSON.stringify(MATMUL_THRESHOLDS)}`);
