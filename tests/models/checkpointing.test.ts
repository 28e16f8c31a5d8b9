// Gradient checkpointing on the CPU backends (WebGPU: tests/webgpu/checkpointing_webgpu.test.ts).
import { defineCheckpointingSuite } from "./checkpointing_suite.ts";

for (const backend of ["cpu", "cpu64"]) defineCheckpointingSuite(backend, Deno.test);
