/**
 * T5's checkpoint names. transformers' T5 shares one embedding three ways: `shared.weight`,
 * `encoder.embed_tokens.weight` and `decoder.embed_tokens.weight` (plus `lm_head.weight` when
 * tied). `model.safetensors` stores only `shared.weight` of them (and `lm_head.weight` when
 * untied); `pytorch_model.bin` stores every name, all one storage. The model registers the
 * embedding once, as `shared` (and as `lm_head` when tied), so loading reads `shared.weight` and
 * passes over the stacks' aliases; saving writes what transformers writes.
 *
 * @module
 */

import type { Module } from "../../core/nn/mod.ts";
import { saveCheckpoint } from "../io/checkpoint.ts";
import { hostWeights } from "../causal_base.ts";
import { type T5Config, t5ConfigJson } from "./config.ts";

/**
 * Checkpoint names that are not separate weights of `T5ForConditionalGeneration`: the stacks'
 * views of `shared.weight`, and a cross-attention position-bias table that old Mesh TensorFlow
 * conversions carry and transformers ignores.
 */
const NOT_WEIGHTS = new Set([
  "encoder.embed_tokens.weight",
  "decoder.embed_tokens.weight",
  "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight",
]);

/**
 * The parameter name for a T5 checkpoint tensor: the name itself (checkpoints and the model
 * share transformers' names), or null for the embedding aliases and the ignored table.
 *
 * @param name A tensor name from `model.safetensors` or `pytorch_model.bin`.
 */
export function t5CheckpointKey(name: string): string | null {
  return NOT_WEIGHTS.has(name) ? null : name;
}

/** A model with T5's parameter names and config. */
export interface T5Like extends Module {
  /** The checked config. */
  readonly config: T5Config;
}

/**
 * Saves `config.json` + `model.safetensors` (F32) into `dir`, atomically, as transformers'
 * `T5ForConditionalGeneration.save_pretrained` lays them out: `shared.weight` once,
 * `lm_head.weight` only when untied, no LoRA adapters (merge them first).
 */
export async function saveT5(model: T5Like, dir: string): Promise<void> {
  await saveCheckpoint(dir, {
    config: t5ConfigJson(model.config),
    tensors: await hostWeights(model),
  });
}
