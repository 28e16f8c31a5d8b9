/**
 * Registers the fast kernels of the f32 `cpu` backend over its reference ones; `cpu64` keeps the
 * reference kernels, which the fast ones are tested against.
 */

import { registerKernel } from "../../../backend.ts";
import "../register.ts";
import { fastMatmul } from "./matmul.ts";

registerKernel("matmul", "cpu", fastMatmul);
