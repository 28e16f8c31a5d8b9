// sampleTokens on the CPU backend (the WebGPU run is in tests/webgpu/sample_webgpu.test.ts).
import { defineSampleSuite } from "./sample_suite.ts";

defineSampleSuite("cpu");
