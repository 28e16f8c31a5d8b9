/**
 * Registers the reference kernels on both CPU backends. The f32 `cpu` backend later overrides the
 * heavy ones (matmul, ...) with the routes in `fast/` (WASM SIMD, onnxruntime MLAS); `cpu64` keeps the plain ones.
 */

import {
  type Attrs,
  type DataArray,
  type Kernel,
  registerBackend,
  registerKernel,
} from "../../backend.ts";
import { CpuBackend } from "./backend.ts";
import {
  binaryBroadcast,
  binaryFns,
  clampGradKernel,
  clampKernel,
  unaryFns,
  unaryGradFns,
  unaryMap,
  whereKernel,
} from "./kernels/elementwise.ts";
import { argmaxKernel, maxKernel, sumKernel } from "./kernels/reduce.ts";
import { concatKernel, sliceGradKernel, stridedCopyKernel } from "./kernels/layout.ts";
import { matmulReference } from "./kernels/matmul.ts";

/** The names of the two CPU backends. */
export const CPU_BACKENDS = ["cpu", "cpu64"] as const;

/** Registers `kernel` for `op` on both CPU backends. */
export function registerCpuKernel(op: string, kernel: Kernel): void {
  for (const b of CPU_BACKENDS) registerKernel(op, b, kernel);
}

const num = (attrs: Attrs, key: string) => attrs[key] as number;

registerBackend(new CpuBackend("cpu", false));
registerBackend(new CpuBackend("cpu64", true));

for (const [op, f] of Object.entries(binaryFns)) {
  registerCpuKernel(op, ([a, b], [out]) => binaryBroadcast(a, b, out, f));
}
for (const [op, f] of Object.entries(unaryFns)) {
  registerCpuKernel(op, ([x], [out]) => unaryMap(x, out, f));
}
for (const [op, f] of Object.entries(unaryGradFns)) {
  registerCpuKernel(op, ([x, dy], [out]) => binaryBroadcast(x, dy, out, (v, d) => d * f(v)));
}
registerCpuKernel("where", ([c, a, b], [out]) => whereKernel(c, a, b, out));
registerCpuKernel(
  "clamp",
  ([x], [out], attrs) => clampKernel(x, out, num(attrs, "min"), num(attrs, "max")),
);
registerCpuKernel(
  "clampGrad",
  ([x, dy], [out], attrs) => clampGradKernel(x, dy, out, num(attrs, "min"), num(attrs, "max")),
);
registerCpuKernel("sum", ([x], [out], attrs) => sumKernel(x, out, attrs.axes as number[]));
registerCpuKernel("max", ([x], [out], attrs) => maxKernel(x, out, attrs.axes as number[]));
registerCpuKernel("argmax", ([x], [out], attrs) => argmaxKernel(x, out, num(attrs, "axis")));
registerCpuKernel("stridedCopy", ([x], [out]) => stridedCopyKernel(x, out));
registerCpuKernel("concat", (xs, [out], attrs) => concatKernel(xs, out, num(attrs, "axis")));
registerCpuKernel(
  "sliceGrad",
  ([dy], [out], attrs) => sliceGradKernel(dy, out, attrs.begin as number[]),
);
registerCpuKernel(
  "matmul",
  ([a, b], [out], attrs) => matmulReference(a, b, out, !!attrs.transA, !!attrs.transB),
);
registerCpuKernel("linear", ([x, w, b], [out], attrs) => {
  // The product into the output, then the bias added in place: the composition's arithmetic.
  matmulReference(x, w, out, false, !!attrs.transB);
  const O = out.handle as DataArray, B = b.handle as DataArray;
  const m = b.size, o0 = out.offset, b0 = b.offset;
  for (let i = 0; i < out.size; i++) O[o0 + i] = O[o0 + i] + B[b0 + (i % m)];
});
