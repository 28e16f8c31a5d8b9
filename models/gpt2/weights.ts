/**
 * Moving GPT-2 weights between host checkpoints and a model: loading accepts bare
 * (`h.0.attn.c_attn.weight`) and `transformer.`-prefixed names, drops the causal-mask buffers
 * and ties `lm_head` to `wte`; saving writes the names Python's `GPT2LMHeadModel` loads.
 *
 * @module
 */

import type { Module } from "../../core/nn/mod.ts";
import { hostWeights, saveModel } from "../causal_base.ts";
import type { HostArray, StateDict } from "../io/host.ts";
import { isGpt2MaskBuffer } from "../io/keys.ts";
import { HEAD_PREFIXES, planWeights } from "../load_weights.ts";
import type { Generator } from "../../core/random.ts";
import { type GPT2Config, gpt2ConfigJson, innerSize } from "./config.ts";

export { isLoraName } from "../load_weights.ts";

/** A model that holds a GPT-2 trunk under `transformer` and heads beside it. */
export interface Gpt2Like extends Module {
  /** The checked config. */
  readonly config: GPT2Config;
}

/** Options of `loadGpt2Weights`. */
export interface LoadGpt2WeightsOptions {
  /**
   * Parameter-name prefixes the checkpoint may lack; those keep their fresh values (e.g.
   * `v_head.` for a value head added on top of a plain language model).
   */
  optional?: string[];
}

/** What `loadGpt2Weights` did. */
export interface LoadGpt2WeightsResult {
  /** Model parameters that kept their fresh values (allowed by `optional`). */
  initialized: string[];
  /** Checkpoint tensors that matched no parameter and were left unused. */
  unused: string[];
}

/**
 * The model parameter name of a GPT-2 checkpoint tensor: bare and `transformer.`-prefixed
 * names both map under `transformer.`; heads keep their names; mask buffers map to null.
 *
 * @param name A checkpoint tensor name.
 */
export function gpt2CheckpointKey(name: string): string | null {
  const bare = name.startsWith("transformer.") ? name.slice("transformer.".length) : name;
  if (isGpt2MaskBuffer(bare)) return null;
  return HEAD_PREFIXES.some((p) => bare.startsWith(p)) ? bare : `transformer.${bare}`;
}

/**
 * Advances `generator` past the normal draws a GPT-2 trunk (and an untied head, with
 * `withHead`) made when its layers drew their initial weights at construction, without
 * keeping them. Heads loaded on top of a checkpoint (TRL's value head, a score head) were
 * drawn after those, so seeded runs keep their heads, and their results, from before loading
 * stopped drawing the trunk.
 *
 * @param generator The loader's generator, before the head is drawn.
 * @param config The model's config.
 * @param withHead Also the untied `lm_head`'s draws.
 */
export function skipGpt2InitDraws(
  generator: Generator,
  config: GPT2Config,
  withHead: boolean,
): void {
  const d = config.n_embd, inner = innerSize(config);
  let count = (config.vocab_size + config.n_positions) * d;
  count += config.n_layer * (3 * d * d + d * d + 2 * d * inner);
  if (withHead && !config.tie_word_embeddings) count += config.vocab_size * d;
  for (let left = count; left > 0; left -= 1 << 20) generator.normal(Math.min(left, 1 << 20));
}

/** How GPT-2 names itself in load errors. */
export function describeGpt2(config: GPT2Config): string {
  return `GPT-2 (n_layer ${config.n_layer}, n_embd ${config.n_embd}, vocab_size ` +
    `${config.vocab_size})`;
}

/**
 * Copies a GPT-2 checkpoint's tensors into `model` in place. Every base parameter must be
 * present with the right shape (errors name them); heads listed in `optional` may be absent.
 * Checkpoint tensors of heads the model lacks (e.g. `v_head.*` when loading a plain LM) are
 * reported as unused; any other unknown tensor is an error.
 */
export function loadGpt2Weights(
  model: Gpt2Like,
  state: StateDict,
  opts: LoadGpt2WeightsOptions = {},
): LoadGpt2WeightsResult {
  const plan = planWeights(model, state, {
    mapKey: gpt2CheckpointKey,
    optional: opts.optional,
    describe: `loadGpt2Weights: ${describeGpt2(model.config)}`,
  });
  for (const [param, source] of plan.copies) {
    param.backend.write(param.storage.handle, state.get(source)!.data, param.offset);
  }
  return { initialized: plan.initialized, unused: plan.unused };
}

/**
 * The model's weights as host arrays under the names Python's transformers saves:
 * `transformer.…`, heads as they are, `lm_head.weight` left out when tied. LoRA adapter
 * weights are not part of it (merge them first to save a merged model).
 */
export function gpt2HostWeights(model: Gpt2Like): Promise<Map<string, HostArray>> {
  return hostWeights(model);
}

/**
 * Saves `config.json` + `model.safetensors` (F32) into `dir`, atomically, in the layout
 * Python's `from_pretrained` loads.
 * @param architecture The Python class recorded in the config (default `GPT2LMHeadModel`).
 */
export async function saveGpt2(
  model: Gpt2Like,
  dir: string,
  architecture = "GPT2LMHeadModel",
): Promise<void> {
  await saveModel(model, dir, gpt2ConfigJson(model.config, architecture));
}
