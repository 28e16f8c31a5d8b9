/**
 * Row range kernels over f32 [rows, c] arrays: log-sum-exp and scaled softmax rows on
 * WebAssembly SIMD (a vector exp, sums in f64), the softmax gradients, and layer norm and RMS
 * norm forward and backward (the reference kernels' arithmetic, per row; the weight and bias
 * gradients per column, summed over rows in row order as the reference does).
 *
 * @module
 */

import { registerRangeKernel } from "./range_registry.ts";
import { align, heapF32, heapStart, type KernelExports, wasmKernels } from "./wasm_module.ts";

type F32 = Float32Array;
type F64 = Float64Array;

/** Floats of row data per pass through the module's memory. */
const CHUNK = 1 << 16;

interface Plan {
  heap: F32;
  rowsPerPass: number;
  x: number;
  out: number;
  /** Per-row f32: the row max, a shift, or a scale. */
  a: number;
  b: number;
  /** Per-row f64 sums. */
  sums: number;
}

function plan(wasm: KernelExports, c: number): Plan {
  const rowsPerPass = Math.max(1, Math.floor(CHUNK / c));
  const x = heapStart(wasm);
  const out = x + align(rowsPerPass * c * 4);
  const a = out + align(rowsPerPass * c * 4);
  const b = a + align(rowsPerPass * 4);
  const sums = b + align(rowsPerPass * 4);
  const heap = heapF32(wasm, sums + align(rowsPerPass * 8));
  return { heap, rowsPerPass, x, out, a, b, sums };
}

function module(name: string): KernelExports {
  const wasm = wasmKernels();
  if (!wasm) throw new Error(`cpu: range kernel '${name}' needs WebAssembly SIMD`);
  return wasm;
}

/** args [X, c, rowMax (f32), sumExp (f64)]: per row the max and Σ exp(x − max). */
registerRangeKernel("rowMaxSumExp", (args, s, e) => {
  const [X, c, rowMax, sumExp] = args as [F32, number, F32, F64];
  const wasm = module("rowMaxSumExp");
  const p = plan(wasm, c);
  for (let r0 = s; r0 < e; r0 += p.rowsPerPass) {
    const n = Math.min(p.rowsPerPass, e - r0);
    p.heap.set(X.subarray(r0 * c, (r0 + n) * c), p.x >> 2);
    wasm.rowMaxSumExp(p.x, p.a, p.sums, n, c);
    rowMax.set(p.heap.subarray(p.a >> 2, (p.a >> 2) + n), r0);
    sumExp.set(new Float64Array(wasm.memory.buffer, p.sums, n), r0);
  }
});

/** args [X, c, shift, g, O]: O[r, j] = g[r] · exp(X[r, j] − shift[r]). */
registerRangeKernel("expRowsScaled", (args, s, e) => {
  const [X, c, shift, g, O] = args as [F32, number, F32, F32, F32];
  const wasm = module("expRowsScaled");
  const p = plan(wasm, c);
  for (let r0 = s; r0 < e; r0 += p.rowsPerPass) {
    const n = Math.min(p.rowsPerPass, e - r0);
    p.heap.set(X.subarray(r0 * c, (r0 + n) * c), p.x >> 2);
    p.heap.set(shift.subarray(r0, r0 + n), p.a >> 2);
    p.heap.set(g.subarray(r0, r0 + n), p.b >> 2);
    wasm.expRowsScaled(p.x, p.a, p.b, p.out, n, c);
    O.set(p.heap.subarray(p.out >> 2, (p.out >> 2) + n * c), r0 * c);
  }
});

/** args [X, c, lse (f64), O]: O = X − lse per row. */
registerRangeKernel("subRowsF64", (args, s, e) => {
  const [X, c, lse, O] = args as [F32, number, F64, F32];
  for (let r = s; r < e; r++) {
    const l = lse[r], base = r * c;
    for (let j = 0; j < c; j++) O[base + j] = X[base + j] - l;
  }
});

/** args [Y, D, O, c]: softmax backward, O = Y ⊙ (D − Σ D·Y) per row. */
registerRangeKernel("softmaxGradRows", (args, s, e) => {
  const [Y, D, O, c] = args as [F32, F32, F32, number];
  for (let r = s; r < e; r++) {
    const base = r * c, end = base + c;
    let dot = 0;
    for (let p = base; p < end; p++) dot += D[p] * Y[p];
    for (let p = base; p < end; p++) O[p] = Y[p] * (D[p] - dot);
  }
});

/** args [Y, D, O, c]: log-softmax backward, O = D − exp(Y) Σ D per row. */
registerRangeKernel("logSoftmaxGradRows", (args, s, e) => {
  const [Y, D, O, c] = args as [F32, F32, F32, number];
  for (let r = s; r < e; r++) {
    const base = r * c, end = base + c;
    let sum = 0;
    for (let p = base; p < end; p++) sum += D[p];
    for (let p = base; p < end; p++) O[p] = D[p] - Math.exp(Y[p]) * sum;
  }
});

/** args [X, W, B, Y, M, R, d, eps]: layer norm rows with their mean and 1/std. */
registerRangeKernel("layerNormRows", (args, s, e) => {
  const [X, W, B, Y, M, R, d, eps] = args as [F32, F32, F32, F32, F32, F32, number, number];
  for (let r = s; r < e; r++) {
    const base = r * d;
    let sum = 0;
    for (let j = 0; j < d; j++) sum += X[base + j];
    const mu = sum / d;
    let ss = 0;
    for (let j = 0; j < d; j++) {
      const c = X[base + j] - mu;
      ss += c * c;
    }
    const rs = 1 / Math.sqrt(ss / d + eps);
    M[r] = mu;
    R[r] = rs;
    for (let j = 0; j < d; j++) Y[base + j] = (X[base + j] - mu) * rs * W[j] + B[j];
  }
});

/** args [X, W, M, R, D, DX, d]: layer norm's input gradient per row. */
registerRangeKernel("layerNormGradRows", (args, s, e) => {
  const [X, W, M, R, D, DX, d] = args as [F32, F32, F32, F32, F32, F32, number];
  for (let r = s; r < e; r++) {
    const base = r * d, mu = M[r], rs = R[r];
    let sg = 0, sgx = 0;
    for (let j = 0; j < d; j++) {
      const xh = (X[base + j] - mu) * rs;
      const g = D[base + j] * W[j];
      sg += g;
      sgx += g * xh;
    }
    const mg = sg / d, mgx = sgx / d;
    for (let j = 0; j < d; j++) {
      const xh = (X[base + j] - mu) * rs;
      DX[base + j] = rs * (D[base + j] * W[j] - mg - xh * mgx);
    }
  }
});

/** args [X, M, R, D, DW, DB, d, rows]: Σ_rows dy·x̂ and Σ_rows dy for columns [s, e). */
registerRangeKernel("layerNormGradCols", (args, s, e) => {
  const [X, M, R, D, DW, DB, d, rows] = args as [F32, F32, F32, F32, F32, F32, number, number];
  const dw = new Float64Array(e - s), db = new Float64Array(e - s);
  for (let r = 0; r < rows; r++) {
    const base = r * d, mu = M[r], rs = R[r];
    for (let j = s; j < e; j++) {
      const dyj = D[base + j];
      dw[j - s] += dyj * ((X[base + j] - mu) * rs);
      db[j - s] += dyj;
    }
  }
  DW.set(dw, s);
  DB.set(db, s);
});

/** args [X, W, Y, R, d, eps]: RMS norm rows with their 1/rms. */
registerRangeKernel("rmsNormRows", (args, s, e) => {
  const [X, W, Y, R, d, eps] = args as [F32, F32, F32, F32, number, number];
  for (let r = s; r < e; r++) {
    const base = r * d;
    let ss = 0;
    for (let j = 0; j < d; j++) ss += X[base + j] * X[base + j];
    const rs = 1 / Math.sqrt(ss / d + eps);
    R[r] = rs;
    for (let j = 0; j < d; j++) Y[base + j] = X[base + j] * rs * W[j];
  }
});

/** args [X, W, R, D, DX, d]: RMS norm's input gradient per row. */
registerRangeKernel("rmsNormGradRows", (args, s, e) => {
  const [X, W, R, D, DX, d] = args as [F32, F32, F32, F32, F32, number];
  for (let r = s; r < e; r++) {
    const base = r * d, rs = R[r];
    let sgx = 0;
    for (let j = 0; j < d; j++) sgx += D[base + j] * W[j] * X[base + j];
    const k = rs * rs * sgx / d;
    for (let j = 0; j < d; j++) DX[base + j] = rs * (D[base + j] * W[j] - X[base + j] * k);
  }
});

/** args [X, R, D, DW, d, rows]: Σ_rows dy·x·rstd for columns [s, e). */
registerRangeKernel("rmsNormGradCols", (args, s, e) => {
  const [X, R, D, DW, d, rows] = args as [F32, F32, F32, F32, number, number];
  const dw = new Float64Array(e - s);
  for (let r = 0; r < rows; r++) {
    const base = r * d, rs = R[r];
    for (let j = s; j < e; j++) dw[j - s] += D[base + j] * X[base + j] * rs;
  }
  DW.set(dw, s);
});

/** args [X, O, red]: O[o] = Σ_r X[o·red + r] for rows o in [s, e) (f64 sums). */
registerRangeKernel("sumRows", (args, s, e) => {
  const [X, O, red] = args as [F32, F32, number];
  for (let o = s; o < e; o++) {
    let acc = 0;
    const base = o * red;
    for (let r = 0; r < red; r++) acc += X[base + r];
    O[o] = acc;
  }
});

/** args [X, O, red, inner]: O[i] = Σ_r X[r·inner + i] for columns i in [s, e) (f64 sums). */
registerRangeKernel("sumCols", (args, s, e) => {
  const [X, O, red, inner] = args as [F32, F32, number, number];
  const acc = new Float64Array(e - s);
  for (let r = 0; r < red; r++) {
    const base = r * inner;
    for (let i = s; i < e; i++) acc[i - s] += X[base + i];
  }
  O.set(acc, s);
});
