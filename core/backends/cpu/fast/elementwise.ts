/**
 * Fast f32 elementwise kernels of the `cpu` backend. The reference kernels share one loop for
 * every op and both precisions, so each element pays an indirect call; here each op has its own
 * loops over Float32Array for the layouts training produces (same shape, a scalar, a trailing
 * block such as a bias row), and the transcendental geluTanh runs on WebAssembly SIMD. Anything
 * else falls through to the reference kernel.
 */

import type { Attrs, Backend, Kernel, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";
import { binaryBroadcast, binaryFns, unaryFns, unaryGradFns } from "../kernels/elementwise.ts";
import { heapF32, heapStart, wasmKernels } from "./wasm_module.ts";

type F32 = Float32Array;

/** The loops of one binary op: same length, scalar b or a, and a trailing block of b or a. */
interface BinaryLoops {
  same(A: F32, B: F32, O: F32): void;
  scalarB(A: F32, b: number, O: F32): void;
  scalarA(a: number, B: F32, O: F32): void;
  blockB(A: F32, B: F32, O: F32): void;
  blockA(A: F32, B: F32, O: F32): void;
}

// One literal per op and layout keeps every loop monomorphic, so V8 inlines the arithmetic.
const LOOPS: Record<"add" | "sub" | "mul" | "div", BinaryLoops> = {
  add: {
    same: (A, B, O) => {
      for (let i = 0; i < O.length; i++) O[i] = A[i] + B[i];
    },
    scalarB: (A, b, O) => {
      for (let i = 0; i < O.length; i++) O[i] = A[i] + b;
    },
    scalarA: (a, B, O) => {
      for (let i = 0; i < O.length; i++) O[i] = a + B[i];
    },
    blockB: (A, B, O) => {
      const m = B.length;
      for (let i = 0; i < O.length; i += m) for (let j = 0; j < m; j++) O[i + j] = A[i + j] + B[j];
    },
    blockA: (A, B, O) => {
      const m = A.length;
      for (let i = 0; i < O.length; i += m) for (let j = 0; j < m; j++) O[i + j] = A[j] + B[i + j];
    },
  },
  sub: {
    same: (A, B, O) => {
      for (let i = 0; i < O.length; i++) O[i] = A[i] - B[i];
    },
    scalarB: (A, b, O) => {
      for (let i = 0; i < O.length; i++) O[i] = A[i] - b;
    },
    scalarA: (a, B, O) => {
      for (let i = 0; i < O.length; i++) O[i] = a - B[i];
    },
    blockB: (A, B, O) => {
      const m = B.length;
      for (let i = 0; i < O.length; i += m) for (let j = 0; j < m; j++) O[i + j] = A[i + j] - B[j];
    },
    blockA: (A, B, O) => {
      const m = A.length;
      for (let i = 0; i < O.length; i += m) for (let j = 0; j < m; j++) O[i + j] = A[j] - B[i + j];
    },
  },
  mul: {
    same: (A, B, O) => {
      for (let i = 0; i < O.length; i++) O[i] = A[i] * B[i];
    },
    scalarB: (A, b, O) => {
      for (let i = 0; i < O.length; i++) O[i] = A[i] * b;
    },
    scalarA: (a, B, O) => {
      for (let i = 0; i < O.length; i++) O[i] = a * B[i];
    },
    blockB: (A, B, O) => {
      const m = B.length;
      for (let i = 0; i < O.length; i += m) for (let j = 0; j < m; j++) O[i + j] = A[i + j] * B[j];
    },
    blockA: (A, B, O) => {
      const m = A.length;
      for (let i = 0; i < O.length; i += m) for (let j = 0; j < m; j++) O[i + j] = A[j] * B[i + j];
    },
  },
  div: {
    same: (A, B, O) => {
      for (let i = 0; i < O.length; i++) O[i] = A[i] / B[i];
    },
    scalarB: (A, b, O) => {
      for (let i = 0; i < O.length; i++) O[i] = A[i] / b;
    },
    scalarA: (a, B, O) => {
      for (let i = 0; i < O.length; i++) O[i] = a / B[i];
    },
    blockB: (A, B, O) => {
      const m = B.length;
      for (let i = 0; i < O.length; i += m) for (let j = 0; j < m; j++) O[i + j] = A[i + j] / B[j];
    },
    blockA: (A, B, O) => {
      const m = A.length;
      for (let i = 0; i < O.length; i += m) for (let j = 0; j < m; j++) O[i + j] = A[j] / B[i + j];
    },
  },
};

/** The ops with fast binary loops. */
export const FAST_BINARY_OPS = Object.keys(LOOPS) as (keyof typeof LOOPS)[];

/** True when `small`, without leading 1s, is a suffix of `big` (a trailing block). */
function isTrailingBlock(small: readonly number[], big: readonly number[]): boolean {
  let start = 0;
  while (start < small.length && small[start] === 1) start++;
  const n = small.length - start;
  if (n > big.length) return false;
  for (let i = 0; i < n; i++) {
    if (small[small.length - 1 - i] !== big[big.length - 1 - i]) return false;
  }
  return true;
}

/** The f32 kernel of binary op `op`, falling back to the reference for other layouts. */
export function fastBinary(op: keyof typeof LOOPS): Kernel {
  const loops = LOOPS[op], f = binaryFns[op];
  return ([a, b], [out]) => {
    const A = data(a), B = data(b), O = data(out);
    if (A instanceof Float32Array && B instanceof Float32Array && O instanceof Float32Array) {
      const n = O.length;
      if (A.length === n && B.length === n) return loops.same(A, B, O);
      if (B.length === 1 && A.length === n) return loops.scalarB(A, B[0], O);
      if (A.length === 1 && B.length === n) return loops.scalarA(A[0], B, O);
      if (B.length > 0 && A.length === n && isTrailingBlock(b.shape, out.shape)) {
        return loops.blockB(A, B, O);
      }
      if (A.length > 0 && B.length === n && isTrailingBlock(a.shape, out.shape)) {
        return loops.blockA(A, B, O);
      }
    }
    binaryBroadcast(a, b, out, f);
  };
}

/** Floats per pass through the module's memory: three operands stay within L2. */
const CHUNK = 1 << 14;

/** out = geluTanh(x) on WebAssembly SIMD, in chunks copied through the module's memory. */
export function fastGeluTanh(
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  _attrs: Attrs,
  _backend: Backend,
): void {
  const X = data(inputs[0]), O = data(outputs[0]);
  const wasm = wasmKernels();
  if (!wasm || !(X instanceof Float32Array && O instanceof Float32Array)) {
    const f = unaryFns.geluTanh;
    for (let i = 0; i < O.length; i++) O[i] = f(X[i]);
    return;
  }
  const xOff = heapStart(wasm), oOff = xOff + CHUNK * 4;
  const heap = heapF32(wasm, oOff + CHUNK * 4);
  for (let i = 0; i < O.length; i += CHUNK) {
    const len = Math.min(CHUNK, O.length - i);
    heap.set(X.subarray(i, i + len), xOff >> 2);
    wasm.geluTanh(xOff, oOff, len);
    O.set(heap.subarray(oOff >> 2, (oOff >> 2) + len), i);
  }
}

/** dx = dy · geluTanh'(x) on WebAssembly SIMD when x and dy have the output's size. */
export function fastGeluTanhGrad(
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  _attrs: Attrs,
  _backend: Backend,
): void {
  const [x, dy] = inputs, [out] = outputs;
  const X = data(x), D = data(dy), O = data(out);
  const wasm = wasmKernels();
  if (
    !wasm ||
    !(X instanceof Float32Array && D instanceof Float32Array && O instanceof Float32Array) ||
    X.length !== O.length || D.length !== O.length
  ) {
    const f = unaryGradFns.geluTanhGrad;
    binaryBroadcast(x, dy, out, (v, d) => d * f(v));
    return;
  }
  const xOff = heapStart(wasm), dOff = xOff + CHUNK * 4, oOff = dOff + CHUNK * 4;
  const heap = heapF32(wasm, oOff + CHUNK * 4);
  for (let i = 0; i < O.length; i += CHUNK) {
    const len = Math.min(CHUNK, O.length - i);
    heap.set(X.subarray(i, i + len), xOff >> 2);
    heap.set(D.subarray(i, i + len), dOff >> 2);
    wasm.geluTanhGrad(xOff, dOff, oOff, len);
    O.set(heap.subarray(oOff >> 2, (oOff >> 2) + len), i);
  }
}
