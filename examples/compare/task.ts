/**
 * The tiny task every algorithm of the comparison is given: the tiny offline policy and reward
 * model of `examples/assets/tiny-imdb/`, review-opening prompts from the SYNTHETIC preference set
 * split into training and held-out prompts, and the preference pairs of the training prompts.
 * Tiny preset only: no Hub, no downloads.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { Generator } from "../../core/mod.ts";
import { generateSyntheticPreferences } from "../../data/mod.ts";
import type { PreferenceTriple } from "../../algorithms/dpo/mod.ts";
import {
  type CausalLM,
  loadCausalLM,
  loadSequenceClassifier,
  loadTokenizer,
  type Tokenizer,
} from "../../models/mod.ts";
import { type RewardFunction, rewardModelFunction } from "../../reward/mod.ts";
import { completionIds, promptIds } from "../hh/policy.ts";

const asset = (path: string) =>
  fileURLToPath(new URL(`../assets/tiny-imdb/${path}`, import.meta.url));

/** Folder of the tiny policy (GPT-2, 4 layers, 64 wide, word-level vocabulary). */
export const TINY_POLICY_DIR: string = asset("policy");
/** Folder of the tiny reward model (DistilBERT, one output: higher = more positive). */
export const TINY_REWARD_DIR: string = asset("reward");

/** Sizes of the task. */
export interface TaskSizes {
  /** SYNTHETIC preference pairs drawn (their distinct prompts are the prompt pool). */
  preferencePairs: number;
  /** Distinct prompts held out for evaluation (never trained on). */
  heldOutPrompts: number;
  /** Texts per reward-model forward. */
  rewardBatchSize: number;
}

/** Everything the algorithms share. */
export interface TinyTask {
  /** The policy's tokenizer. */
  tokenizer: Tokenizer;
  /** The untouched policy: the reference of every KL and the starting point of every run. */
  reference: CausalLM;
  /** The reward model's score of a text (prompt + completion). */
  reward: RewardFunction;
  /** Training prompts (texts). */
  trainPrompts: string[];
  /** Held-out prompts (texts), disjoint from the training ones. */
  heldOutPrompts: string[];
  /** Preference pairs whose prompt is a training prompt, tokenized for DPO. */
  pairs: PreferenceTriple[];
  /** Prompt text → token ids (BOS first, as the policy was trained). */
  encodePrompt(text: string): number[];
  /** The text the reward model scores: query and response decoded together. */
  text(query: readonly number[], response: readonly number[]): string;
  /** A fresh copy of the policy (in eval mode; call `train()` to train it). */
  loadPolicy(options?: { valueHead?: boolean; seed?: number }): Promise<CausalLM>;
  /** Frees the reference and the reward model. */
  dispose(): void;
}

/** Options of {@link loadTinyTask}. */
export interface LoadTinyTaskOptions extends Partial<TaskSizes> {
  /** Backend of every model (default: the current one). */
  backend?: string;
  /** Seed of the prompt split and the preference pairs. */
  seed?: number;
  /** Policy folder (default {@link TINY_POLICY_DIR}). */
  policyDir?: string;
  /** Reward model folder (default {@link TINY_REWARD_DIR}). */
  rewardDir?: string;
}

/** Default sizes. */
export const DEFAULT_TASK_SIZES: Readonly<TaskSizes> = Object.freeze({
  preferencePairs: 2048,
  heldOutPrompts: 24,
  rewardBatchSize: 64,
});

/**
 * Load the tiny policy (as the reference), the reward model and the prompts.
 *
 * @param options Backend, seed, sizes, folders.
 */
export async function loadTinyTask(options: LoadTinyTaskOptions = {}): Promise<TinyTask> {
  const sizes = { ...DEFAULT_TASK_SIZES, ...options };
  const seed = options.seed ?? 0;
  const policyDir = options.policyDir ?? TINY_POLICY_DIR;
  const rewardDir = options.rewardDir ?? TINY_REWARD_DIR;
  const backend = options.backend;
  const tokenizer = await loadTokenizer(policyDir);
  const quiet = { backend, log: () => {} };
  const reference = await loadCausalLM(policyDir, quiet);
  const rewardModel = await loadSequenceClassifier(rewardDir, { backend });
  const rewardTokenizer = await loadTokenizer(rewardDir);
  if (rewardModel.config.numLabels !== 1) {
    reference.dispose();
    rewardModel.dispose();
    throw new Error(
      `compare: the reward model in ${rewardDir} has ${rewardModel.config.numLabels} labels; ` +
        "a reward model has exactly one",
    );
  }
  const reward = rewardModelFunction(rewardModel, rewardTokenizer, {
    batchSize: sizes.rewardBatchSize,
  });

  const pairs = generateSyntheticPreferences(sizes.preferencePairs, { seed }).toArray();
  const prompts = shuffled([...new Set(pairs.map((p) => p.prompt))], new Generator(seed));
  if (prompts.length <= sizes.heldOutPrompts) {
    throw new Error(
      `compare: ${sizes.preferencePairs} preference pairs give ${prompts.length} distinct ` +
        `prompts, not more than heldOutPrompts = ${sizes.heldOutPrompts}; draw more pairs`,
    );
  }
  const heldOutPrompts = prompts.slice(0, sizes.heldOutPrompts);
  const trainPrompts = prompts.slice(sizes.heldOutPrompts);
  const train = new Set(trainPrompts);
  const triples = pairs.filter((p) => train.has(p.prompt)).map((p) => ({
    prompt: promptIds(tokenizer, p.prompt),
    chosen: completionIds(tokenizer, p.chosen),
    rejected: completionIds(tokenizer, p.rejected),
  }));
  return {
    tokenizer,
    reference,
    reward,
    trainPrompts,
    heldOutPrompts,
    pairs: triples,
    encodePrompt: (text) => promptIds(tokenizer, text),
    text: (query, response) =>
      tokenizer.decode([...query, ...response], { skipSpecialTokens: true }),
    loadPolicy: (o = {}) =>
      loadCausalLM(policyDir, { ...quiet, valueHead: o.valueHead, seed: o.seed ?? seed }),
    dispose: () => {
      reference.dispose();
      rewardModel.dispose();
    },
  };
}

/** A seeded Fisher–Yates shuffle (a new array). */
function shuffled<T>(items: T[], generator: Generator): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = generator.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
