// nextTokenLogProbs on WebGPU: transformers' log-probs, and fused = logits path within 1e-5.
import { defineNextTokenSuite } from "../models/next_token_logprobs_suite.ts";
import { gpuTest } from "./setup.ts";

defineNextTokenSuite("webgpu", (name, fn) => gpuTest(name, fn));
