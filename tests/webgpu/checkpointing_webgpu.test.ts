// Gradient checkpointing on WebGPU: gradients equal the plain path's.
import { defineCheckpointingSuite } from "../models/checkpointing_suite.ts";
import { gpuTest } from "./setup.ts";

defineCheckpointingSuite("webgpu", (name, fn) => gpuTest(name, fn));
