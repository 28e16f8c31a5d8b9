/**
 * The WebAssembly SIMD matmul route: op(A) and op(B) are copied into the module's memory, packed
 * into panels and multiplied by a 6x8 register-blocked micro-kernel (core/backends/cpu/wasm/).
 * One core, no per-call setup beyond the copies: the route for matmuls too small to amortize
 * onnxruntime's call overhead, and for all sizes when onnxruntime cannot load.
 */

import { align, heapF32, heapStart, wasmKernels, wasmUnavailableReason } from "./wasm_module.ts";

const MR = 6, NR = 8;

/**
 * out[p] = op(A[p]) @ op(B[p]) for p < batch, where A[p] is m x k (k x m when transA) and B[p]
 * is k x n (n x k when transB); with `bShared` one B serves every batch.
 */
export function wasmMatmul(
  A: Float32Array,
  B: Float32Array,
  out: Float32Array,
  batch: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  bShared: boolean,
): void {
  const wasm = wasmKernels();
  if (!wasm) throw new Error(`matmul (wasm): the kernels did not load: ${wasmUnavailableReason()}`);
  const aLen = m * k, bLen = k * n, cLen = m * n;
  const aOff = heapStart(wasm);
  const bOff = aOff + align(aLen * 4);
  const apOff = bOff + align(bLen * 4);
  const bpOff = apOff + align(Math.ceil(m / MR) * MR * k * 4);
  const cOff = bpOff + align(Math.ceil(n / NR) * NR * k * 4);
  const scratch = cOff + align(cLen * 4);
  const end = scratch + MR * NR * 4;
  const heap = heapF32(wasm, end);
  for (let p = 0; p < batch; p++) {
    heap.set(A.subarray(p * aLen, (p + 1) * aLen), aOff >> 2);
    wasm.packA(aOff, apOff, m, k, transA ? 1 : 0);
    if (p === 0 || !bShared) {
      heap.set(B.subarray(p * bLen, (p + 1) * bLen), bOff >> 2);
      wasm.packB(bOff, bpOff, k, n, transB ? 1 : 0);
    }
    wasm.gemm(apOff, bpOff, cOff, m, k, n, scratch);
    out.set(heap.subarray(cOff >> 2, (cOff >> 2) + cLen), p * cLen);
  }
}
