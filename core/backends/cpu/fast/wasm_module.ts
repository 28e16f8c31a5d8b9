/**
 * The CPU backend's WebAssembly SIMD module (core/backends/cpu/wasm/kernels.as), instantiated
 * once from the embedded binary, and the host side of its memory: the host owns the layout,
 * placing operands from the module's heap base upward and growing memory as needed.
 */

import { kernelsWasmBase64 } from "../wasm/build/kernels_wasm.ts";
import { decodeBase64 } from "./base64.ts";

/** The module's exports (pointers are byte offsets into its memory). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  packA(a: number, dst: number, m: number, k: number, transA: number): void;
  packB(b: number, dst: number, k: number, n: number, transB: number): void;
  gemm(ap: number, bp: number, c: number, m: number, k: number, n: number, scratch: number): void;
  scoresRows(q: number, k: number, s: number, rows: number, tk: number, d: number): void;
  weightedRows(p: number, v: number, o: number, rows: number, tk: number, dv: number): void;
  geluTanh(x: number, out: number, n: number): void;
  geluTanhGrad(x: number, dy: number, out: number, n: number): void;
  gelu(x: number, out: number, n: number): void;
  geluGrad(x: number, dy: number, out: number, n: number): void;
  softmaxRowsInPlace(x: number, lse: number, rows: number, c: number, scale: number): void;
  expRowsShifted(x: number, lse: number, rows: number, c: number, scale: number): void;
  rowMaxSumExp(x: number, rowMax: number, sumExp: number, rows: number, c: number): void;
  expRowsScaled(x: number, shift: number, g: number, out: number, rows: number, c: number): void;
}

const PAGE = 65536;

let kernels: KernelExports | null | undefined;
let loadError = "";

/** The instantiated module, or null (see `wasmUnavailableReason`) where WebAssembly SIMD is missing. */
export function wasmKernels(): KernelExports | null {
  if (kernels !== undefined) return kernels;
  try {
    const module = new WebAssembly.Module(decodeBase64(kernelsWasmBase64) as BufferSource);
    const instance = new WebAssembly.Instance(module, {
      env: {
        abort() {
          throw new Error("cpu (wasm): the kernel module aborted");
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
  return wasmKernels() !== null;
}

/** Why the WebAssembly kernels are unavailable ("" when they are). */
export function wasmUnavailableReason(): string {
  wasmKernels();
  return loadError;
}

/** Rounds a byte count up to a cache line. */
export const align = (bytes: number): number => (bytes + 63) & ~63;

/** First usable byte of the module's memory. */
export function heapStart(wasm: KernelExports): number {
  return align(wasm.heapBase());
}

/** Grows the module's memory to at least `end` bytes and returns an f32 view of all of it. */
export function heapF32(wasm: KernelExports, end: number): Float32Array {
  const have = wasm.memory.buffer.byteLength;
  if (end > have) wasm.memory.grow(Math.ceil((end - have) / PAGE));
  return new Float32Array(wasm.memory.buffer);
}
