/** Registers the WGSL kernels under the `webgpu` backend name (no GPU is touched here). */

import { registerKernel } from "../../backend.ts";
import {
  BINARY,
  binaryKernel,
  clampGradKernel,
  clampKernel,
  UNARY,
  unaryKernel,
  whereKernel,
} from "./kernels/elementwise.ts";
import { argmaxKernel, maxKernel, sumKernel } from "./kernels/reduce.ts";
import { concatKernel, sliceGradKernel, stridedCopyKernel } from "./kernels/layout.ts";
import { matmulKernel } from "./kernels/matmul.ts";

/** The registry name of the WebGPU backend. */
export const WEBGPU = "webgpu";

let registered = false;

/** Registers every WebGPU kernel once. */
export function registerWebGPUKernels(): void {
  if (registered) return;
  registered = true;
  for (const op of Object.keys(UNARY)) registerKernel(op, WEBGPU, unaryKernel(op));
  for (const op of Object.keys(BINARY)) registerKernel(op, WEBGPU, binaryKernel(op));
  registerKernel("where", WEBGPU, whereKernel);
  registerKernel("clamp", WEBGPU, clampKernel);
  registerKernel("clampGrad", WEBGPU, clampGradKernel);
  registerKernel("sum", WEBGPU, sumKernel);
  registerKernel("max", WEBGPU, maxKernel);
  registerKernel("argmax", WEBGPU, argmaxKernel);
  registerKernel("stridedCopy", WEBGPU, stridedCopyKernel);
  registerKernel("contiguous", WEBGPU, stridedCopyKernel);
  registerKernel("concat", WEBGPU, concatKernel);
  registerKernel("sliceGrad", WEBGPU, sliceGradKernel);
  registerKernel("matmul", WEBGPU, matmulKernel);
}
