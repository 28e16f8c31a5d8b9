/**
 * The causal reference checkpoints on WebGPU (skipped, and reported as such, where no adapter
 * exists): logits of both padded batches, per-token log-probs, greedy tokens picked on the
 * device, and the KV cache, against the same PyTorch references as on the CPU.
 */

import { loadCausalLM } from "../../models/causal_lm.ts";
import { gpuTest } from "../webgpu/setup.ts";
import {
  checkCache,
  checkGreedy,
  checkLogits,
  checkLogProbs,
  expectedOf,
  fixtureDir,
} from "./causal_reference.ts";

for (const name of ["llama-a", "llama-a/bf16", "qwen2-a", "opt-a"]) {
  gpuTest(`${name} matches PyTorch on WebGPU: logits, log-probs, greedy, KV cache`, async () => {
    const e = await expectedOf(name);
    const model = await loadCausalLM(fixtureDir(name), { backend: "webgpu", log: () => {} });
    try {
      const what = `${name} (webgpu)`;
      await checkLogits(model, e, what);
      await checkLogProbs(model, e, what);
      await checkGreedy(model, e, what);
      await checkCache(model, e, what);
    } finally {
      model.dispose();
    }
  });
}
