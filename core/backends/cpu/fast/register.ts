/**
 * Registers the fast kernels of the f32 `cpu` backend over its reference ones; `cpu64` keeps the
 * reference kernels, which the fast ones are tested against.
 */

import { registerKernel } from "../../../backend.ts";
import "../register.ts";
import { FAST_BINARY_OPS, fastBinary, fastGeluTanh, fastGeluTanhGrad } from "./elementwise.ts";
import { fastMatmul } from "./matmul.ts";

registerKernel("matmul", "cpu", fastMatmul);
for (const op of FAST_BINARY_OPS) registerKernel(op, "cpu", fastBinary(op));
registerKernel("geluTanh", "cpu", fastGeluTanh);
registerKernel("geluTanhGrad", "cpu", fastGeluTanhGrad);
