/**
 * `loadCausalLM`: a causal language model (GPT-2 family) from a folder or a Hub id resolved
 * through the shared Hugging Face cache, optionally with TRL's value head; and
 * `loadGpt2ForSequenceClassification` for GPT-2 reward models.
 *
 * @module
 */

import { currentBackend } from "../core/mod.ts";
import { Generator } from "../core/random.ts";
import type { HubOptions } from "./hub/env.ts";
import { openModel } from "./hub/repo.ts";
import { loadConfig } from "./io/checkpoint.ts";
import type { ValueHeadOptions } from "./heads.ts";
import { loadGpt2Classifier, loadGpt2LMHeadModel } from "./gpt2/load.ts";
import type { GPT2LMHeadModel } from "./gpt2/model.ts";
import type { GPT2ForSequenceClassification } from "./gpt2/sequence_classification.ts";

/** Options of `loadCausalLM`. */
export interface LoadCausalLMOptions extends HubOptions {
  /** Backend of the weights (default: the current backend; `cpu64` for `dtype: "float64"`). */
  backend?: string;
  /**
   * Attach TRL's value head (`v_head`), loading `v_head.summary.*` from the checkpoint when
   * present (a model saved by TRL or by `save()`), else starting it fresh.
   */
  valueHead?: boolean | ValueHeadOptions;
  /**
   * Element type of the weights: `float32` (default) or `float64` (the `cpu64` reference
   * backend, for gradient checks). Checkpoints in f16/bf16 are widened on load.
   */
  dtype?: "float32" | "float64";
  /** Seed of freshly initialised weights (a new value head) and dropout masks (default 0). */
  seed?: number;
  /** Where notices about fresh or unused weights go (default `console.warn`). */
  log?: (message: string) => void;
}

const SUPPORTED = ["gpt2"];

function pickBackend(opts: LoadCausalLMOptions): string {
  const dtype = opts.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") {
    throw new Error(
      `loadCausalLM: dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`,
    );
  }
  if (dtype === "float64") {
    if (opts.backend !== undefined && opts.backend !== "cpu64") {
      throw new Error(
        `loadCausalLM: dtype "float64" runs on the cpu64 backend only, not '${opts.backend}'`,
      );
    }
    return "cpu64";
  }
  return opts.backend ?? currentBackend();
}

function modelType(config: Record<string, unknown>, idOrPath: string): string {
  const type = config.model_type;
  if (typeof type !== "string" || !SUPPORTED.includes(type)) {
    throw new Error(
      `loadCausalLM (${idOrPath}): model_type ${JSON.stringify(type)} is not supported; ` +
        `causal LMs load for model_type ${SUPPORTED.map((s) => `"${s}"`).join(", ")}`,
    );
  }
  return type;
}

/**
 * Loads a causal LM (config + weights, `model.safetensors` preferred, else
 * `pytorch_model.bin`) from a folder or a Hub id, in eval mode (call `train()` to train).
 *
 * @example
 * ```ts
 * import { loadCausalLM } from "@tether/rlhf/models";
 * const policy = await loadCausalLM("openai-community/gpt2", { valueHead: true });
 * const { tokens } = await policy.generate([[464, 3290]], { maxNewTokens: 8 });
 * ```
 */
export async function loadCausalLM(
  idOrPath: string,
  opts: LoadCausalLMOptions = {},
): Promise<GPT2LMHeadModel> {
  const backend = pickBackend(opts);
  const files = await openModel(idOrPath, opts);
  const config = await loadConfig(files);
  modelType(config, idOrPath);
  return await loadGpt2LMHeadModel(files, config, {
    backend,
    valueHead: opts.valueHead,
    generator: new Generator(opts.seed ?? 0),
    log: opts.log,
  });
}

/** Options of `loadGpt2ForSequenceClassification`. */
export interface LoadGpt2ClassifierOptions extends Omit<LoadCausalLMOptions, "valueHead"> {
  /** Outputs of the score head (1 for a reward model; default: the config's `num_labels`). */
  numLabels?: number;
}

/**
 * Loads a GPT-2 sequence classifier (reward model) from a folder or Hub id: a saved
 * `GPT2ForSequenceClassification`, or a plain GPT-2 whose `score` head then starts fresh.
 */
export async function loadGpt2ForSequenceClassification(
  idOrPath: string,
  opts: LoadGpt2ClassifierOptions = {},
): Promise<GPT2ForSequenceClassification> {
  const backend = pickBackend(opts);
  const files = await openModel(idOrPath, opts);
  const config = await loadConfig(files);
  modelType(config, idOrPath);
  return await loadGpt2Classifier(files, config, {
    backend,
    numLabels: opts.numLabels,
    generator: new Generator(opts.seed ?? 0),
    log: opts.log,
  });
}
