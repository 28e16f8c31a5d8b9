// A worker for fast_cpu.test.ts: runs onnxruntime matmuls while sibling workers do the same and
// reports whether every product was exact (small integers keep the f32 products exact). It
// imports only the route itself, which keeps the worker's own type check short.
import { ortMatmul } from "../../core/backends/cpu/fast/ort_matmul.ts";

const m = 64, k = 96, n = 80;
const A = Float32Array.from({ length: m * k }, (_, i) => (i % 7) - 3);
const B = Float32Array.from({ length: k * n }, (_, i) => (i % 5) - 2);
const expected = new Float64Array(m * n);
for (let i = 0; i < m; i++) {
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let q = 0; q < k; q++) s += A[i * k + q] * B[q * n + j];
    expected[i * n + j] = s;
  }
}
let exact = true;
for (let round = 0; round < 50; round++) {
  const out = new Float32Array(m * n);
  ortMatmul(A, B, out, [m, k], [k, n], [m, n], false, false);
  if (!out.every((x, i) => x === expected[i])) exact = false;
}
(self as unknown as { postMessage(message: string): void }).postMessage(
  exact ? "exact" : "wrong",
);
