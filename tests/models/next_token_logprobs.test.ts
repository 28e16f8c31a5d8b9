// nextTokenLogProbs on the CPU backends (the WebGPU run is tests/webgpu/next_token_logprobs_webgpu.test.ts).
import { defineNextTokenSuite } from "./next_token_logprobs_suite.ts";

for (const backend of ["cpu", "cpu64"]) defineNextTokenSuite(backend, Deno.test);
