/**
 * Bad input to the causal loaders fails clearly: an unknown model_type names the supported
 * ones, a config missing a size the architecture needs names the field, a checkpoint tensor
 * with the wrong shape names the tensor and both shapes, an index naming a missing shard
 * names the shard, and LoRA without targets on an unknown model asks for them.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCausalLM } from "../../models/causal_lm.ts";
import { LlamaForCausalLM } from "../../models/llama/model.ts";
import { OPTForCausalLM } from "../../models/opt/model.ts";
import { fixtureDir } from "./causal_reference.ts";

async function folder(
  files: Record<string, string | { copy: string }>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, body] of Object.entries(files)) {
      if (typeof body === "string") await Deno.writeTextFile(join(dir, name), body);
      else await Deno.copyFile(body.copy, join(dir, name));
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const llamaConfig = () =>
  JSON.parse(Deno.readTextFileSync(join(fixtureDir("llama-a"), "config.json")));

Deno.test("an unknown model_type names every supported one", async () => {
  await folder({ "config.json": JSON.stringify({ model_type: "bloom" }) }, async (dir) => {
    await assert.rejects(
      () => loadCausalLM(dir),
      /model_type "bloom" is not supported; supported model_type values: "gpt2", "llama", "qwen2", "mistral", "opt"/,
    );
  });
  await folder(
    { "config.json": JSON.stringify({ model_type: "t5", is_encoder_decoder: true }) },
    async (dir) => {
      await assert.rejects(
        () => loadCausalLM(dir),
        /encoder-decoder .* load it with loadSeq2SeqLM/,
      );
    },
  );
  await folder({ "config.json": JSON.stringify({ n_layer: 2 }) }, async (dir) => {
    await assert.rejects(() => loadCausalLM(dir), /model_type undefined is not supported/);
  });
});

Deno.test("a config missing a size the architecture needs names the field", async () => {
  const config = llamaConfig();
  delete config.intermediate_size;
  await folder({ "config.json": JSON.stringify(config) }, async (dir) => {
    await assert.rejects(
      () => loadCausalLM(dir),
      /Llama config: config\.json has no "intermediate_size" \(the width of the MLP\)/,
    );
  });
  const opt = JSON.parse(Deno.readTextFileSync(join(fixtureDir("opt-a"), "config.json")));
  delete opt.ffn_dim;
  assert.throws(() => new OPTForCausalLM(opt), /OPT config: config\.json has no "ffn_dim"/);
  assert.throws(
    () => new LlamaForCausalLM({ ...llamaConfig(), num_key_value_heads: 3 }),
    /num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/,
  );
  assert.throws(
    () =>
      new LlamaForCausalLM({ ...llamaConfig(), rope_scaling: { rope_type: "yarn", factor: 4 } }),
    /rope_scaling\.rope_type must be "default", "linear" or "llama3"/,
  );
  assert.throws(
    () =>
      new LlamaForCausalLM({
        ...llamaConfig(),
        rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1 },
      }),
    /rope_scaling\.high_freq_factor must be a number > 0 \(llama3 scaling needs it\)/,
  );
});

Deno.test("a checkpoint tensor with the wrong shape names the tensor and both shapes", async () => {
  const config = { ...llamaConfig(), intermediate_size: 48 };
  await folder({
    "config.json": JSON.stringify(config),
    "model.safetensors": { copy: join(fixtureDir("llama-a"), "model.safetensors") },
  }, async (dir) => {
    await assert.rejects(
      () => loadCausalLM(dir),
      /shape mismatches: 'model\.layers\.0\.mlp\.gate_proj\.weight': checkpoint \[64,32\], model \[48,32\]/,
    );
  });
  // A checkpoint with more layers than the config says names the layers it cannot place.
  await folder({
    "config.json": JSON.stringify({ ...llamaConfig(), num_hidden_layers: 1 }),
    "model.safetensors": { copy: join(fixtureDir("llama-a"), "model.safetensors") },
  }, async (dir) => {
    await assert.rejects(
      () => loadCausalLM(dir),
      /tensors the model does not have: 'model\.layers\.1\.self_attn\.q_proj\.weight'/,
    );
  });
});

Deno.test("an index naming a missing shard names the shard", async () => {
  const sharded = fixtureDir("llama-a/sharded");
  await folder({
    "config.json": { copy: join(sharded, "config.json") },
    "model.safetensors.index.json": { copy: join(sharded, "model.safetensors.index.json") },
    "model-00001-of-00002.safetensors": {
      copy: join(sharded, "model-00001-of-00002.safetensors"),
    },
  }, async (dir) => {
    await assert.rejects(
      () => loadCausalLM(dir),
      /shard "model-00002-of-00002\.safetensors" \(holding "lm_head\.weight" and others\) is missing/,
    );
  });
  const bin = fixtureDir("llama-a/sharded-bin");
  await folder({
    "config.json": { copy: join(bin, "config.json") },
    "pytorch_model.bin.index.json": { copy: join(bin, "pytorch_model.bin.index.json") },
    "pytorch_model-00002-of-00002.bin": { copy: join(bin, "pytorch_model-00002-of-00002.bin") },
  }, async (dir) => {
    await assert.rejects(
      () => loadCausalLM(dir),
      /shard "pytorch_model-00001-of-00002\.bin" .* is missing/,
    );
  });
});
