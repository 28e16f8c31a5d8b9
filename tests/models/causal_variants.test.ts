/**
 * Config variants the shared references do not cover, against fixtures written by
 * tools/gen_causal_variants.py with plain-PyTorch models (tools/torch_causal.py) that first
 * reproduce the independent llama-a, qwen2-a and opt-a references: a post-LN OPT with
 * project_in/project_out (opt-350m's layout), and a Llama with llama3 RoPE scaling (all three
 * frequency bands), attention and MLP biases, one KV head for three query heads and head_dim 10
 * on a 24-wide model.
 */

import assert from "node:assert/strict";
import { loadCausalLM } from "../../models/causal_lm.ts";
import { LlamaForCausalLM } from "../../models/llama/model.ts";
import { ropeInverseFrequencies } from "../../models/llama/rope.ts";
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
  for (const name of ["opt-postln-proj", "llama-variant"]) {
    const what = `${name} (${backend})`;
    Deno.test(`${what}: logits, log-probs, greedy tokens and KV cache match PyTorch`, async () => {
      const e = await expectedOf(name);
      const model = await loadCausalLM(fixtureDir(name), {
        backend,
        dtype: backend === "cpu64" ? "float64" : "float32",
        log: () => {},
      });
      try {
        if (model instanceof OPTForCausalLM) {
          assert.ok(model.model.decoder.project_in && model.model.decoder.project_out);
          assert.equal(model.model.decoder.final_layer_norm, null, "post-LN has no final norm");
          assert.equal(model.hiddenSize, 16, "the value head reads word_embed_proj_dim");
        } else {
          assert.ok(model instanceof LlamaForCausalLM);
          assert.ok(model.model.layers[0].self_attn.o_proj.bias !== null);
          assert.ok(model.model.layers[0].mlp.down_proj.bias !== null);
        }
        await checkLogits(model, e, what);
        await checkLogProbs(model, e, what);
        await checkGreedy(model, e, what);
        await checkCache(model, e, what);
      } finally {
        model.dispose();
      }
    });
  }
}

Deno.test("llama3 RoPE scaling keeps high frequencies, slows low ones, blends the band between", () => {
  const plain = ropeInverseFrequencies(10, 10000);
  const scaled = ropeInverseFrequencies(10, 10000, {
    rope_type: "llama3",
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 8,
    original_max_position_embeddings: 64,
  });
  // Wavelengths 2π/f: 6.3 (< 64/8: kept), 39.7 (between: blended), 250, 1580, 9940 (> 64: /8).
  assert.equal(scaled[0], plain[0]);
  const wavelen = (2 * Math.PI) / plain[1];
  const smooth = (64 / wavelen - 1) / (8 - 1);
  assert.ok(Math.abs(scaled[1] - ((1 - smooth) * plain[1] / 8 + smooth * plain[1])) < 1e-15);
  for (const i of [2, 3, 4]) assert.ok(Math.abs(scaled[i] - plain[i] / 8) < 1e-18);
  const linear = ropeInverseFrequencies(10, 10000, { rope_type: "linear", factor: 4 });
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(linear[i] - plain[i] / 4) < 1e-18);
});
