import { wasmMatmul } from "../core/backends/cpu/fast/wasm_matmul.ts";
const bt = 192, m = 136, k = 64, n = 136;
const A = Float32Array.from({ length: bt * m * k }, () => Math.random());
const B = Float32Array.from({ length: bt * k * n }, () => Math.random());
const O = new Float32Array(bt * m * n);
for (const tb of [false, true, false, true]) {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    wasmMatmul(A, B, O, bt, m, k, n, false, tb, false);
    best = Math.min(best, performance.now() - t0);
  }
  console.log(
    "transB",
    tb,
    best.toFixed(1),
    "ms",
    (2 * bt * m * n * k / best / 1e6).toFixed(1),
    "GFLOP/s",
  );
}
