/**
 * Model throughput on the CPU backend: batched generation with the tiny reference GPT-2
 * (2 layers, 32 wide, vocab 97) and one forward pass of a GPT-2 124M-shaped model with random
 * weights (12 layers, 768 wide, vocab 50257) over 1 × 128 tokens. Tokens/s = tokens per
 * iteration (in each name) / time per iteration.
 *
 *   deno bench -A bench/models.bench.ts
 */

import { fileURLToPath } from "node:url";
import { Generator, tensor, tidy } from "../core/mod.ts";
import { loadCausalLM } from "../models/causal_lm.ts";
import { GPT2LMHeadModel } from "../models/gpt2/model.ts";

const fixture = fileURLToPath(new URL("../tests/fixtures/models/gpt2-a/", import.meta.url));
const tiny = await loadCausalLM(fixture, { backend: "cpu", log: () => {} });
const g = new Generator(0);
const prompts = Array.from({ length: 8 }, () => Array.from({ length: 8 }, () => g.int(96)));

Deno.bench({
  name: "gpt2-a generate, greedy, KV cache: 8 rows × 32 new tokens (256 tokens)",
  group: "generate",
  baseline: true,
  async fn() {
    await tiny.generate(prompts, { maxNewTokens: 32, eosTokenId: null });
  },
});

Deno.bench({
  name: "gpt2-a generate, sampled top-k 50 / top-p 0.95: 8 rows × 32 new tokens (256 tokens)",
  group: "generate",
  async fn() {
    await tiny.generate(prompts, {
      maxNewTokens: 32,
      eosTokenId: null,
      doSample: true,
      topK: 50,
      topP: 0.95,
      seed: 1,
    });
  },
});

Deno.bench({
  name: "gpt2-a generate, greedy, no KV cache: 8 rows × 32 new tokens (256 tokens)",
  group: "generate",
  async fn() {
    await tiny.generate(prompts, { maxNewTokens: 32, eosTokenId: null, useCache: false });
  },
});

const big = new GPT2LMHeadModel({}, { backend: "cpu", generator: new Generator(0) }).eval();
const ids = tensor(Array.from({ length: 128 }, (_, i) => (i * 7919) % 50257), [1, 128]);

Deno.bench({
  name: "gpt2-124M-shaped forward, random weights: 1 × 128 tokens (128 tokens)",
  group: "forward",
  n: 2,
  warmup: 1,
  fn() {
    tidy(() => {
      big.forward({ inputIds: ids });
    });
  },
});
