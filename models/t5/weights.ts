/**
 * T5's checkpoint names. transformers' T5 shares one embedding three ways: `shared.weight`,
 * `encoder.embed_tokens.weight` and `decoder.embed_tokens.weight` (plus `lm_head.weight` when
 * tied). `model.safetensors` stores only `shared.weight` of them (and `lm_head.weight` when
 * untied); `pytorch_model.bin` stores every name, all one storage. Loading maps them all onto
 * `shared.weight`; saving writes what transformers writes.
 *
 * @module
 */

import { saveCheckpoint } from "../io/checkpoint.ts";
import type { HostArray, StateDict } from "../io/host.ts";
import { isLoraName } from "../gpt2/weights.ts";
import type { Module } from "../../core/nn/mod.ts";
import type { T5Config } from "./config.ts";
import { t5ConfigJson } from "./config.ts";

const EMBED_ALIASES = ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"];

/**
 * Tensors transformers' T5 ignores on load: the original Mesh TensorFlow conversions carry a
 * position-bias table on the decoder's first cross-attention, which T5 never uses.
 */
const IGNORED = ["decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"];

/**
 * A T5 checkpoint's tensors under the model's parameter names: the embedding aliases become
 * `shared.weight` (the first present, when `shared.weight` itself is absent), a tied
 * `lm_head.weight` is dropped (the model ties it), and tensors transformers ignores are dropped.
 * Other names pass through unchanged (value-head tensors among them).
 *
 * @param state Tensors as read from the checkpoint (not modified).
 * @param config The model's config (`tie_word_embeddings`).
 */
export function t5CheckpointToModelKeys(state: StateDict, config: T5Config): StateDict {
  const out: StateDict = new Map();
  for (const [name, t] of state) {
    if (IGNORED.includes(name)) continue;
    if (EMBED_ALIASES.includes(name)) continue;
    if (name === "lm_head.weight" && config.tie_word_embeddings) continue;
    out.set(name, t);
  }
  if (!out.has("shared.weight")) {
    const alias = EMBED_ALIASES.find((n) => state.has(n));
    if (alias) out.set("shared.weight", state.get(alias)!);
  }
  return out;
}

/** A model with T5's parameter names and config. */
export interface T5Like extends Module {
  /** The checked config. */
  readonly config: T5Config;
}

/**
 * The weights as host arrays under the names transformers saves: every parameter except a
 * tied `lm_head.weight` and LoRA adapters (merge them first to save a merged model).
 */
export async function t5HostWeights(model: T5Like): Promise<Map<string, HostArray>> {
  const out = new Map<string, HostArray>();
  for (const [name, t] of model.stateDict()) {
    if (isLoraName(name)) continue;
    if (name === "lm_head.weight" && model.config.tie_word_embeddings) continue;
    out.set(name, { shape: [...t.shape], data: await t.toArray() });
  }
  return out;
}

/**
 * Saves `config.json` + `model.safetensors` (F32) into `dir`, atomically, as transformers'
 * `T5ForConditionalGeneration.save_pretrained` lays them out.
 */
export async function saveT5(model: T5Like, dir: string): Promise<void> {
  await saveCheckpoint(dir, {
    config: t5ConfigJson(model.config),
    tensors: await t5HostWeights(model),
  });
}
