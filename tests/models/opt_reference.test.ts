/**
 * OPT against an independent PyTorch forward pass of a tiny checkpoint (opt-a: pre-LN, learned
 * positions with the offset of 2, ReLU, tied head) from model.safetensors and
 * pytorch_model.bin, on the f32 and f64 CPU backends: logits of right- and left-padded
 * batches, per-token log-probs, greedy tokens, and the KV cache.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCausalLM } from "../../models/causal_lm.ts";
import { OPTForCausalLM } from "../../models/opt/model.ts";
import {
  checkCache,
  checkGreedy,
  checkLogits,
  checkLogProbs,
  expectedOf,
  fixtureDir,
} from "./causal_reference.ts";

for (const backend of ["cpu", "cpu64"]) {
  for (const file of ["model.safetensors", "pytorch_model.bin"]) {
    const what = `opt-a (${file}, ${backend})`;
    Deno.test(`${what}: logits, log-probs, greedy tokens and KV cache match PyTorch`, async () => {
      const e = await expectedOf("opt-a");
      const dir = await Deno.makeTempDir();
      try {
        for (const name of ["config.json", file]) {
          await Deno.symlink(join(fixtureDir("opt-a"), name), join(dir, name));
        }
        const model = await loadCausalLM(dir, {
          backend,
          dtype: backend === "cpu64" ? "float64" : "float32",
          log: () => {},
        });
        try {
          assert.ok(model instanceof OPTForCausalLM);
          assert.equal(model.lm_head.weight, model.model.decoder.embed_tokens.weight);
          await checkLogits(model, e, what);
          await checkLogProbs(model, e, what);
          await checkGreedy(model, e, what);
          await checkCache(model, e, what);
        } finally {
          model.dispose();
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
}
