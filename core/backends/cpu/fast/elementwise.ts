/**
 * Fast f32 elementwise kernels of the `cpu` backend. The reference kernels share one loop for
 * every op and both precisions, so each element pays an indirect call; here each op has its own
 * loops over Float32Array for the layouts training produces (same shape, a scalar, a trailing
 * block such as a bias row), the GELUs run on WebAssembly SIMD, and every one of them is split
 * across the helper threads when the tensor is large (`parallel.ts`). Anything else falls
 * through to the reference kernel.
 */

import type { Attrs, Backend, Kernel, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";
import { binaryBroadcast, binaryFns, unaryFns, unaryGradFns } from "../kernels/elementwise.ts";
import { parallelFor } from "./parallel.ts";
import { binaryKernelName, type BinaryLayout, FAST_BINARY_OPS } from "./range_elementwise.ts";
import { wasmKernels } from "./wasm_module.ts";
import { fastMatmul } from "./matmul.ts";

export { FAST_BINARY_OPS };

/** Elements worth handing one thread (~50–100 µs of a memory-bound loop). */
export const GRAIN_ELEMENTS = 1 << 16;

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

/** The fast layout of a binary op on these operands, or null (use the reference). */
function layoutOf(a: KernelTensor, b: KernelTensor, out: KernelTensor): BinaryLayout | null {
  const n = out.size, na = a.size, nb = b.size;
  if (na === n && nb === n) return "same";
  if (nb === 1 && na === n) return "scalarB";
  if (na === 1 && nb === n) return "scalarA";
  if (nb > 0 && na === n && isTrailingBlock(b.shape, out.shape)) return "blockB";
  if (na > 0 && nb === n && isTrailingBlock(a.shape, out.shape)) return "blockA";
  return null;
}

/** The f32 kernel of binary op `op`, falling back to the reference for other layouts. */
export function fastBinary(op: (typeof FAST_BINARY_OPS)[number]): Kernel {
  const f = binaryFns[op];
  return ([a, b], [out]) => {
    const A = data(a), B = data(b), O = data(out);
    const layout = A instanceof Float32Array && B instanceof Float32Array &&
        O instanceof Float32Array
      ? layoutOf(a, b, out)
      : null;
    if (!layout) return binaryBroadcast(a, b, out, f);
    const m = layout === "blockB" ? B.length : layout === "blockA" ? A.length : 1;
    const n = layout === "blockB" || layout === "blockA" ? O.length / m : O.length;
    parallelFor(binaryKernelName(op, layout), [A, B, O, m], n, {
      grain: Math.ceil(GRAIN_ELEMENTS / m),
      writes: [2],
    });
  };
}

/** A unary WebAssembly kernel (range kernel `name`), the reference loop where it cannot run. */
function wasmUnary(name: "gelu" | "geluTanh"): Kernel {
  const f = unaryFns[name];
  return ([x], [out]) => {
    const X = data(x), O = data(out);
    if (!wasmKernels() || !(X instanceof Float32Array && O instanceof Float32Array)) {
      for (let i = 0; i < O.length; i++) O[i] = f(X[i]);
      return;
    }
    parallelFor(name, [X, O], O.length, { grain: GRAIN_ELEMENTS, writes: [1] });
  };
}

/** dx = dy · f'(x) on WebAssembly when x and dy have the output's size. */
function wasmUnaryGrad(name: "geluGrad" | "geluTanhGrad"): Kernel {
  const f = unaryGradFns[name];
  return ([x, dy], [out]) => {
    const X = data(x), D = data(dy), O = data(out);
    if (
      !wasmKernels() ||
      !(X instanceof Float32Array && D instanceof Float32Array && O instanceof Float32Array) ||
      X.length !== O.length || D.length !== O.length
    ) {
      return binaryBroadcast(x, dy, out, (v, d) => d * f(v));
    }
    parallelFor(name, [X, D, O], O.length, { grain: GRAIN_ELEMENTS, writes: [2] });
  };
}

/** out = gelu(x) = x Φ(x) (erf form) on WebAssembly SIMD. */
export const fastGelu: Kernel = wasmUnary("gelu");
/** out = geluTanh(x) on WebAssembly SIMD. */
export const fastGeluTanh: Kernel = wasmUnary("geluTanh");
/** dx = dy · gelu'(x). */
export const fastGeluGrad: Kernel = wasmUnaryGrad("geluGrad");
/** dx = dy · geluTanh'(x). */
export const fastGeluTanhGrad: Kernel = wasmUnaryGrad("geluTanhGrad");

/** Adam/AdamW in place (the reference arithmetic), split across threads for large tensors. */
export function fastAdamw(
  inputs: readonly KernelTensor[],
  _outputs: readonly KernelTensor[],
  attrs: Attrs,
  _backend: Backend,
): void {
  const [p, g, m, v] = inputs.map(data);
  const num = (k: string) => attrs[k] as number;
  const lr = num("lr"), beta1 = num("beta1"), beta2 = num("beta2"), step = num("step");
  const decoupled = !!attrs.decoupled, wd = num("weightDecay");
  const args = [
    p,
    g,
    m,
    v,
    decoupled ? 1 - lr * wd : 1,
    decoupled ? 0 : wd,
    beta1,
    beta2,
    num("eps"),
    lr / (1 - beta1 ** step),
    Math.sqrt(1 - beta2 ** step),
  ];
  parallelFor("adamw", args, p.length, { grain: GRAIN_ELEMENTS, writes: [0, 2, 3] });
}

/** linear: the fast matmul into the output, then the bias added in place across threads. */
export function fastLinear(
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attrs: Attrs,
  backend: Backend,
): void {
  const [x, w, b] = inputs, [out] = outputs;
  fastMatmul([x, w], [out], { transA: false, transB: !!attrs.transB }, backend);
  const O = data(out), B = data(b);
  const m = B.length;
  if (!(O instanceof Float32Array && B instanceof Float32Array) || m === 0) {
    for (let i = 0; i < O.length; i++) O[i] = O[i] + B[i % m];
    return;
  }
  parallelFor("addRowsInPlace", [O, B, m], O.length / m, {
    grain: Math.ceil(GRAIN_ELEMENTS / m),
    writes: [0],
  });
}
