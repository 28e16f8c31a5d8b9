/**
 * Elementwise range kernels over f32 arrays: the four arithmetic ops in the layouts training
 * produces (same shape, a scalar, a trailing block such as a bias row), the GELUs and their
 * gradients on WebAssembly SIMD, and the Adam/AdamW update. Ranges are elements, or rows of the
 * block for the block layouts.
 *
 * @module
 */

import { registerRangeKernel } from "./range_registry.ts";
import { heapF32, heapStart, type KernelExports, wasmKernels } from "./wasm_module.ts";

type F32 = Float32Array;

// One literal per op and layout keeps every loop monomorphic, so V8 inlines the arithmetic.
// args: [A, B, O] (block layouts add the block length m); ranges are elements (rows for blocks).
const BINARY: Record<
  string,
  Record<string, (a: F32, b: F32, o: F32, s: number, e: number, m: number) => void>
> = {
  add: {
    same: (A, B, O, s, e) => {
      for (let i = s; i < e; i++) O[i] = A[i] + B[i];
    },
    scalarB: (A, B, O, s, e) => {
      const b = B[0];
      for (let i = s; i < e; i++) O[i] = A[i] + b;
    },
    scalarA: (A, B, O, s, e) => {
      const a = A[0];
      for (let i = s; i < e; i++) O[i] = a + B[i];
    },
    blockB: (A, B, O, s, e, m) => {
      for (let r = s; r < e; r++) for (let j = 0, i = r * m; j < m; j++, i++) O[i] = A[i] + B[j];
    },
    blockA: (A, B, O, s, e, m) => {
      for (let r = s; r < e; r++) for (let j = 0, i = r * m; j < m; j++, i++) O[i] = A[j] + B[i];
    },
  },
  sub: {
    same: (A, B, O, s, e) => {
      for (let i = s; i < e; i++) O[i] = A[i] - B[i];
    },
    scalarB: (A, B, O, s, e) => {
      const b = B[0];
      for (let i = s; i < e; i++) O[i] = A[i] - b;
    },
    scalarA: (A, B, O, s, e) => {
      const a = A[0];
      for (let i = s; i < e; i++) O[i] = a - B[i];
    },
    blockB: (A, B, O, s, e, m) => {
      for (let r = s; r < e; r++) for (let j = 0, i = r * m; j < m; j++, i++) O[i] = A[i] - B[j];
    },
    blockA: (A, B, O, s, e, m) => {
      for (let r = s; r < e; r++) for (let j = 0, i = r * m; j < m; j++, i++) O[i] = A[j] - B[i];
    },
  },
  mul: {
    same: (A, B, O, s, e) => {
      for (let i = s; i < e; i++) O[i] = A[i] * B[i];
    },
    scalarB: (A, B, O, s, e) => {
      const b = B[0];
      for (let i = s; i < e; i++) O[i] = A[i] * b;
    },
    scalarA: (A, B, O, s, e) => {
      const a = A[0];
      for (let i = s; i < e; i++) O[i] = a * B[i];
    },
    blockB: (A, B, O, s, e, m) => {
      for (let r = s; r < e; r++) for (let j = 0, i = r * m; j < m; j++, i++) O[i] = A[i] * B[j];
    },
    blockA: (A, B, O, s, e, m) => {
      for (let r = s; r < e; r++) for (let j = 0, i = r * m; j < m; j++, i++) O[i] = A[j] * B[i];
    },
  },
  div: {
    same: (A, B, O, s, e) => {
      for (let i = s; i < e; i++) O[i] = A[i] / B[i];
    },
    scalarB: (A, B, O, s, e) => {
      const b = B[0];
      for (let i = s; i < e; i++) O[i] = A[i] / b;
    },
    scalarA: (A, B, O, s, e) => {
      const a = A[0];
      for (let i = s; i < e; i++) O[i] = a / B[i];
    },
    blockB: (A, B, O, s, e, m) => {
      for (let r = s; r < e; r++) for (let j = 0, i = r * m; j < m; j++, i++) O[i] = A[i] / B[j];
    },
    blockA: (A, B, O, s, e, m) => {
      for (let r = s; r < e; r++) for (let j = 0, i = r * m; j < m; j++, i++) O[i] = A[j] / B[i];
    },
  },
};

/** The ops with fast binary loops. */
export const FAST_BINARY_OPS = Object.keys(BINARY) as ("add" | "sub" | "mul" | "div")[];

/** The layouts of the fast binary loops. */
export type BinaryLayout = "same" | "scalarB" | "scalarA" | "blockB" | "blockA";

/** Range kernel name of `op` in `layout`. */
export const binaryKernelName = (op: string, layout: BinaryLayout): string => `${op}.${layout}`;

for (const [op, layouts] of Object.entries(BINARY)) {
  for (const [layout, loop] of Object.entries(layouts)) {
    registerRangeKernel(binaryKernelName(op, layout as BinaryLayout), (args, s, e) => {
      const [A, B, O, m] = args as [F32, F32, F32, number];
      loop(A, B, O, s, e, m);
    });
  }
}

/** Floats per pass through the module's memory: three operands stay within L2. */
const CHUNK = 1 << 14;

/** Streams [s, e) of `inputs` through a WebAssembly kernel that writes `out`. */
function throughWasm(
  wasm: KernelExports,
  inputs: F32[],
  out: F32,
  s: number,
  e: number,
  run: (ptrs: number[], outPtr: number, len: number) => void,
): void {
  const base = heapStart(wasm);
  const ptrs = inputs.map((_, i) => base + i * CHUNK * 4);
  const outPtr = base + inputs.length * CHUNK * 4;
  const heap = heapF32(wasm, outPtr + CHUNK * 4);
  for (let i = s; i < e; i += CHUNK) {
    const len = Math.min(CHUNK, e - i);
    inputs.forEach((x, k) => heap.set(x.subarray(i, i + len), ptrs[k] >> 2));
    run(ptrs, outPtr, len);
    out.set(heap.subarray(outPtr >> 2, (outPtr >> 2) + len), i);
  }
}

/** The WebAssembly module, or an error naming the kernel (callers check availability first). */
function module(name: string): KernelExports {
  const wasm = wasmKernels();
  if (!wasm) throw new Error(`cpu: range kernel '${name}' needs WebAssembly SIMD`);
  return wasm;
}

// args: [X, O] and [X, DY, O].
registerRangeKernel("gelu", (args, s, e) => {
  const [X, O] = args as [F32, F32];
  const w = module("gelu");
  throughWasm(w, [X], O, s, e, ([x], o, n) => w.gelu(x, o, n));
});
registerRangeKernel("geluTanh", (args, s, e) => {
  const [X, O] = args as [F32, F32];
  const w = module("geluTanh");
  throughWasm(w, [X], O, s, e, ([x], o, n) => w.geluTanh(x, o, n));
});
registerRangeKernel("geluGrad", (args, s, e) => {
  const [X, D, O] = args as [F32, F32, F32];
  const w = module("geluGrad");
  throughWasm(w, [X, D], O, s, e, ([x, d], o, n) => w.geluGrad(x, d, o, n));
});
registerRangeKernel("geluTanhGrad", (args, s, e) => {
  const [X, D, O] = args as [F32, F32, F32];
  const w = module("geluTanhGrad");
  throughWasm(w, [X, D], O, s, e, ([x, d], o, n) => w.geluTanhGrad(x, d, o, n));
});

/**
 * Adam/AdamW on [s, e): args [p, g, m, v, decay, l2, beta1, beta2, eps, stepSize, bc2Sqrt]; the
 * reference kernel's arithmetic, element by element (core/optim/kernels.ts).
 */
registerRangeKernel("adamw", (args, s, e) => {
  const [p, g, m, v, decay, l2, beta1, beta2, eps, stepSize, bc2Sqrt] = args as [
    F32,
    F32,
    F32,
    F32,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  for (let i = s; i < e; i++) {
    const param = p[i] * decay;
    const grad = l2 !== 0 ? g[i] + l2 * p[i] : g[i];
    m[i] = m[i] * beta1 + grad * (1 - beta1);
    v[i] = v[i] * beta2 + grad * grad * (1 - beta2);
    const denom = Math.sqrt(v[i]) / bc2Sqrt + eps;
    p[i] = param - stepSize * (m[i] / denom);
  }
});

/** args [O, B, m]: O[r, j] += B[j] for rows [s, e) of width m (a bias added in place). */
registerRangeKernel("addRowsInPlace", (args, s, e) => {
  const [O, B, m] = args as [F32, F32, number];
  for (let r = s; r < e; r++) for (let j = 0, i = r * m; j < m; j++, i++) O[i] = O[i] + B[j];
});
