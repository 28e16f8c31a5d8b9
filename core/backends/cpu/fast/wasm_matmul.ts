/**
 * The WebAssembly SIMD matmul route: op(A) and op(B) are copied into the module's memory, packed
 * into panels and multiplied by a 6x8 register-blocked micro-kernel (core/backends/cpu/wasm/).
 * One core, no per-call setup beyond the copies: the route for matmuls too small to amortize
 * onnxruntime's call overhead, and for all sizes when onnxruntime cannot load.
 */

import { kernelsWasmBase64 } from "../wasm/build/kernels_wasm.ts";
import { decodeBase64 } from "./base64.ts";

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  packA(a: number, dst: number, m: number, k: number, transA: number): void;
  packB(b: number, dst: number, k: number, n: number, transB: number): void;
  gemm(ap: number, bp: number, c: number, m: number, k: number, n: number, scratch: number): void;
}

const MR = 6, NR = 8, PAGE = 65536;

let kernels: KernelExports | null | undefined;
let loadError = "";

/** Instantiates the embedded module once; null (with a reason) where WebAssembly SIMD is missing. */
function load(): KernelExports | null {
  if (kernels !== undefined) return kernels;
  try {
    const module = new WebAssembly.Module(decodeBase64(kernelsWasmBase64) as BufferSource);
    const instance = new WebAssembly.Instance(module, {
      env: {
        abort() {
          throw new Error("matmul (wasm): the kernel module aborted");
        },
      },
    });
    kernels = instance.exports as unknown as KernelExports;
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
    kernels = null;
  }
  return kernels;
}

/** True when the WebAssembly kernels instantiated on this runtime. */
export function wasmAvailable(): boolean {
  return load() !== null;
}

/** Why the WebAssembly kernels are unavailable ("" when they are). */
export function wasmUnavailableReason(): string {
  load();
  return loadError;
}

const align = (bytes: number) => (bytes + 63) & ~63;

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
  const wasm = load();
  if (!wasm) throw new Error(`matmul (wasm): the kernel module did not load: ${loadError}`);
  const aLen = m * k, bLen = k * n, cLen = m * n;
  const base = align(wasm.heapBase());
  const aOff = base;
  const bOff = aOff + align(aLen * 4);
  const apOff = bOff + align(bLen * 4);
  const bpOff = apOff + align(Math.ceil(m / MR) * MR * k * 4);
  const cOff = bpOff + align(Math.ceil(n / NR) * NR * k * 4);
  const scratch = cOff + align(cLen * 4);
  const end = scratch + MR * NR * 4;
  const have = wasm.memory.buffer.byteLength;
  if (end > have) wasm.memory.grow(Math.ceil((end - have) / PAGE));
  const heap = new Float32Array(wasm.memory.buffer);
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
