/**
 * Moving GPT-2 weights between host checkpoints and a model: loading accepts bare
 * (`h.0.attn.c_attn.weight`) and `transformer.`-prefixed names, drops the causal-mask buffers
 * and ties `lm_head` to `wte`; saving writes the names Python's `GPT2LMHeadModel` loads.
 *
 * @module
 */

import { tensor } from "../../core/mod.ts";
import { assign, type Module } from "../../core/nn/mod.ts";
import { fmtShape } from "../../core/shape.ts";
import { saveCheckpoint } from "../io/checkpoint.ts";
import type { HostArray, StateDict } from "../io/host.ts";
import { gpt2KeysForSave, normalizeGpt2Keys } from "../io/keys.ts";
import { type GPT2Config, gpt2ConfigJson } from "./config.ts";

/** Heads that sit beside `transformer` and keep their own names in checkpoints. */
const HEAD_PREFIXES = ["lm_head.", "v_head.", "score."];

/** Whether a parameter name belongs to a LoRA adapter rather than the base model. */
export function isLoraName(name: string): boolean {
  return /\.lora_[AB]\./.test(name);
}

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

function modelName(bare: string): string {
  return HEAD_PREFIXES.some((p) => bare.startsWith(p)) ? bare : `transformer.${bare}`;
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
  const byModelName = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [bare, t] of normalizeGpt2Keys(state)) byModelName.set(modelName(bare), t);
  const params = model.stateDict();
  const tied = model.config.tie_word_embeddings;
  const optional = opts.optional ?? [];
  const initialized: string[] = [], missing: string[] = [], mismatched: string[] = [];
  for (const [name, p] of params) {
    if (isLoraName(name) || (tied && name === "lm_head.weight")) continue;
    const src = byModelName.get(name);
    if (!src) {
      if (optional.some((o) => name.startsWith(o))) initialized.push(name);
      else missing.push(name);
    } else if (src.shape.length !== p.rank || src.shape.some((d, i) => d !== p.shape[i])) {
      mismatched.push(`'${name}': checkpoint ${fmtShape(src.shape)}, model ${fmtShape(p.shape)}`);
    }
  }
  const unused: string[] = [], unknown: string[] = [];
  for (const name of byModelName.keys()) {
    if (params.has(name)) continue;
    if (HEAD_PREFIXES.some((p) => name.startsWith(p)) && name !== "lm_head.weight") {
      unused.push(name);
    } else if (name !== "lm_head.weight") unknown.push(name);
  }
  const problems: string[] = [];
  if (missing.length) problems.push(`missing tensors: ${list(missing)}`);
  if (unknown.length) problems.push(`tensors the model does not have: ${list(unknown)}`);
  if (mismatched.length) problems.push(`shape mismatches: ${mismatched.join("; ")}`);
  if (problems.length) {
    throw new Error(
      `loadGpt2Weights: the checkpoint does not fit this GPT-2 (n_layer ${model.config.n_layer}, ` +
        `n_embd ${model.config.n_embd}, vocab_size ${model.config.vocab_size}): ${
          problems.join(". ")
        }`,
    );
  }
  for (const [name, p] of params) {
    if (isLoraName(name) || (tied && name === "lm_head.weight")) continue;
    const src = byModelName.get(name);
    if (!src) continue;
    const host = tensor(src.data, src.shape, { backend: "cpu" });
    try {
      assign(p, host, `loadGpt2Weights '${name}'`);
    } finally {
      host.dispose();
    }
  }
  return { initialized, unused };
}

function list(names: string[]): string {
  const shown = names.slice(0, 12).map((n) => `'${n}'`).join(", ");
  return names.length > 12 ? `${shown}, ... (${names.length} in all)` : shown;
}

/**
 * The model's weights as host arrays under the names Python's transformers saves:
 * `transformer.…`, heads as they are, `lm_head.weight` left out when tied. LoRA adapter
 * weights are not part of it (merge them first to save a merged model).
 */
export async function gpt2HostWeights(model: Gpt2Like): Promise<Map<string, HostArray>> {
  const trunk = new Map<string, HostArray>();
  const heads = new Map<string, HostArray>();
  for (const [name, t] of model.stateDict()) {
    if (isLoraName(name)) continue;
    const host = { shape: [...t.shape], data: await t.toArray() };
    if (name.startsWith("transformer.") || name === "lm_head.weight") trunk.set(name, host);
    else heads.set(name, host);
  }
  const out = gpt2KeysForSave(trunk, model.config.tie_word_embeddings);
  for (const [name, host] of heads) out.set(name, host);
  return out;
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
  await saveCheckpoint(dir, {
    config: gpt2ConfigJson(model.config, architecture),
    tensors: await gpt2HostWeights(model),
  });
}
