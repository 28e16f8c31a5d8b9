// sampleTokens on the WebGPU backend: the same behaviour suite as on the CPU.
import { defineSampleSuite } from "../core/sample_suite.ts";
import { gpuTest } from "./setup.ts";

defineSampleSuite("webgpu", (name, fn) => gpuTest(name, fn));
