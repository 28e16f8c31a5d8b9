// The shared op suite (PyTorch float64 goldens, tolerance 1e-4) on the WebGPU backend.
import { defineOpSuite } from "../core/op_suite.ts";
import { gpu, skipReason } from "./setup.ts";

if (gpu) defineOpSuite("webgpu");
else {
  console.warn(`WebGPU op suite skipped: ${skipReason}`);
  Deno.test({ name: "ops[webgpu]", ignore: true, fn: () => {} });
}
