/**
 * The Llama family against independent PyTorch forward passes of tiny checkpoints: llama-a
 * (grouped-query attention, untied head) from model.safetensors, pytorch_model.bin, a bf16
 * copy, a two-shard safetensors copy and a two-shard .bin copy, and qwen2-a (q/k/v biases, tied head) from both formats, on the
 * f32 and f64 CPU backends: logits of right- and left-padded batches, per-token log-probs,
 * greedy tokens, and the KV cache.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCausalLM } from "../../models/causal_lm.ts";
import { LlamaForCausalLM } from "../../models/llama/model.ts";
import { tidy } from "../../core/mod.ts";
import {
  assertLogitsClose,
  checkCache,
  checkGreedy,
  checkLogits,
  checkLogProbs,
  expectedOf,
  fixtureDir,
} from "./causal_reference.ts";

/** Loads `dir` with only `keep` of its checkpoint files visible (a temporary folder of links). */
async function withOnly<T>(dir: string, keep: string[], fn: (path: string) => Promise<T>) {
  const tmp = await Deno.makeTempDir();
  try {
    for (const name of ["config.json", ...keep]) {
      await Deno.symlink(join(dir, name), join(tmp, name));
    }
    return await fn(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const CASES = [
  { fixture: "llama-a", expected: "llama-a", files: ["model.safetensors"] },
  { fixture: "llama-a", expected: "llama-a", files: ["pytorch_model.bin"] },
  { fixture: "llama-a/bf16", expected: "llama-a/bf16", files: ["model.safetensors"] },
  // The reference README states the sharded copy's expected values are llama-a's.
  {
    fixture: "llama-a/sharded",
    expected: "llama-a",
    files: [
      "model.safetensors.index.json",
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
    ],
  },
  // The same weights split by tools/shard_torch_checkpoint.py into two torch shards.
  {
    fixture: "llama-a/sharded-bin",
    expected: "llama-a",
    files: [
      "pytorch_model.bin.index.json",
      "pytorch_model-00001-of-00002.bin",
      "pytorch_model-00002-of-00002.bin",
    ],
  },
  { fixture: "qwen2-a", expected: "qwen2-a", files: ["model.safetensors"] },
  { fixture: "qwen2-a", expected: "qwen2-a", files: ["pytorch_model.bin"] },
];

for (const backend of ["cpu", "cpu64"]) {
  for (const c of CASES) {
    const what = `${c.fixture} (${c.files[0]}, ${backend})`;
    Deno.test(`${what}: logits, log-probs, greedy tokens and KV cache match PyTorch`, async () => {
      const e = await expectedOf(c.expected);
      await withOnly(fixtureDir(c.fixture), c.files, async (dir) => {
        const model = await loadCausalLM(dir, {
          backend,
          dtype: backend === "cpu64" ? "float64" : "float32",
          log: () => {},
        });
        try {
          assert.ok(model instanceof LlamaForCausalLM);
          await checkLogits(model, e, what);
          await checkLogProbs(model, e, what);
          await checkGreedy(model, e, what);
          await checkCache(model, e, what);
        } finally {
          model.dispose();
        }
      });
    });
  }
}

Deno.test("qwen2-a ties its head to the embeddings; llama-a keeps its own", async () => {
  const qwen = await loadCausalLM(fixtureDir("qwen2-a"), { backend: "cpu", log: () => {} });
  const llama = await loadCausalLM(fixtureDir("llama-a"), { backend: "cpu", log: () => {} });
  assert.ok(qwen instanceof LlamaForCausalLM && llama instanceof LlamaForCausalLM);
  assert.equal(qwen.lm_head.weight, qwen.model.embed_tokens.weight);
  assert.notEqual(llama.lm_head.weight, llama.model.embed_tokens.weight);
  assert.equal(qwen.model.layers[0].self_attn.q_proj.bias !== null, true);
  assert.equal(llama.model.layers[0].self_attn.q_proj.bias, null);
  assert.equal(qwen.modelType, "qwen2");
  assert.equal(qwen.eosTokenId, 103);
  qwen.dispose();
  llama.dispose();
});

Deno.test("explicit position ids (transformers' padded slots at 1) give the reference logits", async () => {
  for (const name of ["llama-a", "opt-a"]) {
    const e = await expectedOf(name);
    const model = await loadCausalLM(fixtureDir(name), { backend: "cpu", log: () => {} });
    const logits = tidy(() =>
      model.forward({
        inputIds: e.input_ids_left,
        attentionMask: e.attention_mask_left,
        positionIds: e.position_ids_left,
      }).logits.toArraySync()
    );
    assertLogitsClose(logits, e.logits_left, e.attention_mask_left, `${name} positionIds`);
    model.dispose();
  }
});
