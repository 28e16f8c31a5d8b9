/**
 * `CausalLMBase`: what every causal architecture shares once it has a forward pass:
 * generation (with the checkpoint's `generation_config.json` defaults), saving in the layout
 * transformers loads, and the `CausalLM` facts. An architecture extends it and writes its
 * modules, `forward` and `configJson`.
 *
 * @module
 */

import type { Tensor } from "../core/mod.ts";
import { Module } from "../core/nn/mod.ts";
import type { CausalLM, CausalLMInput, CausalLMOutput } from "./contract.ts";
import { generate, type GenerateOptions, type GenerateResult } from "./generation.ts";
import { saveCheckpoint } from "./io/checkpoint.ts";
import type { HostArray } from "./io/host.ts";
import { isLoraName } from "./load_weights.ts";

/** A model that can describe its own `config.json`. */
export interface HasConfigJson {
  /** `config.json` contents transformers loads (`model_type`, `architectures`, every field). */
  configJson(): Record<string, unknown>;
}

/**
 * The base of every causal architecture: a `Module` with Hugging Face's parameter names that
 * implements `CausalLM` given `forward` and `configJson`.
 */
export abstract class CausalLMBase extends Module implements CausalLM, HasConfigJson {
  /**
   * Defaults `generate` applies under the caller's options: a checkpoint's
   * `generation_config.json` (see `generationDefaults`), set by `loadCausalLM`.
   */
  generationConfig: GenerateOptions = {};
  /** transformers' `model_type`. */
  abstract readonly modelType: string;
  /** Backend of the weights. */
  abstract readonly backend: string;
  /** Width of the final hidden states (the value head's input). */
  abstract readonly hiddenSize: number;
  /** Vocabulary size (the logits' last axis). */
  abstract readonly vocabSize: number;
  /** Default stop token (null: never stop early). */
  abstract readonly eosTokenId: number | null;
  /** Default padding token (null: use EOS, else 0). */
  abstract readonly padTokenId: number | null;
  /** The checked config. */
  abstract readonly config: object;

  /** Logits (and hidden states, cache) for a batch; positions from the mask. */
  abstract forward(input: CausalLMInput): CausalLMOutput;

  /** `config.json` contents transformers loads for this model. */
  abstract configJson(): Record<string, unknown>;

  /**
   * Batched generation from prompts of token ids (left-padded inside); see `GenerateOptions`.
   * Options the caller leaves undefined take `generationConfig`'s values. Runs without
   * gradients, in whatever train/eval mode the model is in.
   */
  generate(prompts: number[][], opts: GenerateOptions = {}): Promise<GenerateResult> {
    return generate(this, prompts, withDefaults(this.generationConfig, opts));
  }

  /**
   * Writes `config.json` + `model.safetensors` into `dir` (atomically) so that transformers'
   * `from_pretrained(dir)` loads it. LoRA adapters are not included: `merge()` them first, or
   * save them with `saveLora`.
   */
  save(dir: string): Promise<void> {
    return saveModel(this, dir, this.configJson());
  }
}

/** `opts` over `defaults`, where an option left undefined keeps the default. */
export function withDefaults(defaults: GenerateOptions, opts: GenerateOptions): GenerateOptions {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) out[k] = v;
  return out as GenerateOptions;
}

/**
 * A model's weights as host arrays under its parameter names, each tensor once (a tied head
 * is left out, as transformers saves it), LoRA adapter weights excluded.
 */
export async function hostWeights(model: Module): Promise<Map<string, HostArray>> {
  const out = new Map<string, HostArray>();
  const seen = new Set<Tensor>();
  for (const [name, t] of model.stateDict()) {
    if (isLoraName(name) || seen.has(t)) continue;
    seen.add(t);
    out.set(name, { shape: [...t.shape], data: await t.toArray() });
  }
  return out;
}

/**
 * Saves `config.json` + `model.safetensors` (F32) into `dir`, atomically, in the layout
 * transformers' `from_pretrained` loads.
 *
 * @param model The model (its `stateDict()` names are the checkpoint names).
 * @param dir Target folder.
 * @param config The `config.json` contents.
 */
export async function saveModel(
  model: Module,
  dir: string,
  config: Record<string, unknown>,
): Promise<void> {
  await saveCheckpoint(dir, { config, tensors: await hostWeights(model) });
}
