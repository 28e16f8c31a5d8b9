// The fused, chunked LM-head log-probs on WebGPU: equal to the unfused path within 1e-5.
import { defineLmHeadSuite } from "../core/lm_head_suite.ts";
import { gpuTest } from "./setup.ts";

defineLmHeadSuite("webgpu", (name, fn) => gpuTest(name, fn));
