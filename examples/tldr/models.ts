/**
 * The TL;DR examples' models: the policy (GPT-2 or the tiny GPT-2) with its tokenizer, the
 * per-token reward model as a scorer of whole texts, and saving a trained model with the
 * tokenizer files beside it so the next stage loads the folder as it is.
 *
 * @module
 */

import { join } from "node:path";
import {
  type CausalLM,
  loadCausalLM,
  loadTokenizer,
  openModel,
  type Tokenizer,
} from "../../models/mod.ts";
import {
  type GPT2TokenRewardModel,
  loadGpt2TokenRewardModel,
  type RewardFunction,
  tokenRewardFunction,
} from "../../reward/mod.ts";

/** A loaded policy. */
export interface TldrPolicy {
  /** The model (eval mode; call `train()` to train). */
  model: CausalLM;
  /** Its tokenizer. */
  tokenizer: Tokenizer;
}

/**
 * Load a policy and its tokenizer from a folder or Hub id; offline, an uncached Hub id fails at
 * once with the hub's message naming it.
 *
 * @param source Folder or Hub id.
 * @param backend Backend of the weights.
 * @param seed Seed of dropout masks.
 */
export async function loadTldrPolicy(
  source: string,
  backend: string,
  seed: number,
): Promise<TldrPolicy> {
  const model = await loadCausalLM(source, { backend, seed, log: () => {} });
  try {
    return { model, tokenizer: await loadTokenizer(source) };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** A reward model as a scorer of whole texts (post + `TL;DR:` + summary). */
export interface TldrScorer {
  /** Scores texts. */
  fn: RewardFunction;
  /** The model. */
  model: GPT2TokenRewardModel;
  /** Where it came from. */
  source: string;
}

/**
 * Load a per-token reward model and wrap it as trlX's `get_scores` reads it.
 *
 * @param source Folder or Hub id of a saved reward model.
 * @param tokenizer Its tokenizer.
 * @param settings Length limit and prefix.
 * @param backend Backend of the weights.
 */
export async function loadTldrScorer(
  source: string,
  tokenizer: Tokenizer,
  settings: { maxLength: number; prefix: string },
  backend: string,
): Promise<TldrScorer> {
  const model = await loadGpt2TokenRewardModel(source, { backend, log: () => {} });
  return {
    model,
    source,
    fn: tokenRewardFunction(model, tokenizer, {
      maxLength: settings.maxLength,
      prefix: settings.prefix,
      batchSize: 16,
    }),
  };
}

const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "vocab.json",
  "merges.txt",
];

/**
 * Save a trained model (`config.json` + `model.safetensors`) with the tokenizer files of the
 * model it started from.
 *
 * @param model The model (anything with `save(dir)`).
 * @param source Folder or Hub id its tokenizer came from.
 * @param dir Target folder.
 */
export async function saveWithTokenizer(
  model: { save(dir: string): Promise<void> },
  source: string,
  dir: string,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const files = await openModel(source);
  for (const name of TOKENIZER_FILES) {
    const path = await files.file(name, { optional: true });
    if (path) await Deno.copyFile(path, join(dir, name));
  }
  await model.save(dir);
}
