/**
 * The two settings of the IMDB tutorial as data: `full` (TRL's gpt2-sentiment tutorial on real
 * Hub checkpoints and IMDB) and `tiny` (the same pipeline on tiny offline checkpoints and the
 * SYNTHETIC review corpus, sized to finish in a few minutes on two CPU cores).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { LoraConfig } from "../../models/mod.ts";
import type { PPOConfigInput } from "../../algorithms/ppo/mod.ts";
import type { Preset } from "../common/cli.ts";

/** A `[min, max)` range of lengths, drawn as TRL's `LengthSampler` (max EXCLUSIVE). */
export interface LengthRange {
  /** Smallest length drawn. */
  min: number;
  /** One more than the largest length drawn. */
  max: number;
}

/** Sampling settings shared by PPO rollouts, best-of-n and the side-by-side table. */
export interface SamplingSettings {
  /** 0 = no top-k filter (the tutorial's `top_k=0.0`). */
  topK: number;
  /** 1 = no nucleus filter (the tutorial's `top_p=1.0`). */
  topP: number;
  /**
   * New tokens per generation batch, drawn once per batch (the tutorial's
   * `LengthSampler(4, 16)`); never more than {@link MAX_NEW_TOKENS}.
   */
  responseLength: LengthRange;
  /**
   * Whether EOS ends a sample. The tutorial passes `min_length=-1` and lets GPT-2 stop on EOS;
   * the tiny policy never writes EOS mid-review, so both presets keep it on.
   */
  stopAtEos: boolean;
}

/** Everything that differs between the full and the tiny run. */
export interface ImdbPreset {
  /** Preset name. */
  name: Preset;
  /** Policy: a Hub id or a local folder (GPT-2 family, loaded with a fresh value head). */
  policy: string;
  /** Reward model: a local folder holding a 1-label sequence classifier and its tokenizer. */
  rewardModel: string;
  /** What to run when {@link rewardModel} is missing. */
  rewardModelHint: string;
  /** Review source: IMDB from the Hub, or the SYNTHETIC corpus written offline. */
  data: "imdb" | "synthetic";
  /** Reviews kept for queries (train split; a held-out slice feeds the side-by-side table). */
  queryReviews: number;
  /** Query length in tokens (the tutorial's `LengthSampler(2, 8)`: 2..7 tokens). */
  queryLength: LengthRange;
  /**
   * Put BOS before every prompt: the tiny policy was trained on reviews that start with it;
   * the tutorial's GPT-2 queries start without one.
   */
  promptStartsWithBos: boolean;
  /** Keep only reviews longer than this many characters (the tutorial keeps > 200). */
  minReviewChars: number;
  /** Generation settings. */
  sampling: SamplingSettings;
  /** LoRA adapters on the policy (null: full fine-tune). */
  lora: LoraConfig | null;
  /** PPO hyper-parameters (TRL 0.7.4 defaults fill the rest). */
  ppo: PPOConfigInput & { batchSize: number; miniBatchSize: number; learningRate: number };
  /** PPO steps (each on `ppo.batchSize` fresh rollouts). */
  steps: number;
  /** Steps between checkpoints (resume points). */
  checkpointEvery: number;
  /** Held-out prompts in the side-by-side table (at least 20). */
  heldOutPrompts: number;
  /** Texts per reward-model forward. */
  rewardBatchSize: number;
  /** Train and test pairs each on which the reward model's accuracy is printed first. */
  accuracyPairs: number;
  /** Neutral prompts for best-of-n (at least 5). */
  bestOfNPrompts: string[];
  /** Samples per best-of-n prompt. */
  bestOfNSamples: number;
}

/** The hard cap on new tokens per sample (the "up to 128 new tokens"). */
export const MAX_NEW_TOKENS = 128;

const assets = (path: string) =>
  fileURLToPath(new URL(`../assets/tiny-imdb/${path}`, import.meta.url));

/**
 * Where `examples/imdb_reward_model.ts --preset full` leaves its trained model (relative to the
 * working directory, like every run folder).
 */
export const FULL_REWARD_MODEL_DIR = "runs/imdb_reward_model-full/model";

/** TRL's gpt2-sentiment tutorial, with LoRA as the issue asks. */
const FULL: ImdbPreset = {
  name: "full",
  policy: "lvwerra/gpt2-imdb",
  rewardModel: FULL_REWARD_MODEL_DIR,
  rewardModelHint: "deno run -A examples/imdb_reward_model.ts --preset full",
  data: "imdb",
  queryReviews: 25_000,
  queryLength: { min: 2, max: 8 },
  promptStartsWithBos: false,
  minReviewChars: 200,
  sampling: { topK: 0, topP: 1.0, responseLength: { min: 4, max: 16 }, stopAtEos: true },
  // GPT-2 fuses q, k and v into one Conv1D named c_attn.
  lora: { r: 32, alpha: 32, dropout: 0.05, targetModules: ["c_attn"] },
  // The tutorial's script runs one minibatch per PPO epoch (mini_batch_size = batch_size);
  // init_kl_coef, target and horizon keep TRL 0.7.4's defaults (0.2, 6, 10000), as it does.
  ppo: { learningRate: 1.41e-5, batchSize: 64, miniBatchSize: 64, ppoEpochs: 4 },
  steps: 50,
  checkpointEvery: 10,
  heldOutPrompts: 24,
  rewardBatchSize: 16,
  accuracyPairs: 500,
  bestOfNPrompts: [
    "This movie",
    "I watched this film",
    "The story of",
    "When I saw",
    "The acting",
    "My friends and I",
  ],
  bestOfNSamples: 16,
};

/**
 * The same pipeline on the tiny checkpoints in `examples/assets/tiny-imdb/`, scaled to two CPU
 * cores: batch 32 instead of 64, 6–12 new tokens, 30 steps, and a learning rate of 1e-3 (a
 * 219k-weight model with 27k adapter weights needs far larger steps than GPT-2 at 1.41e-5).
 * LoRA adapts every projection (`c_attn`, `c_proj`, `c_fc`): on `c_attn` alone the tiny model
 * barely moved (held-out gain +1.5 at KL 3.5, against +6.2 at KL 7.9 with all four, seed 0).
 */
const TINY: ImdbPreset = {
  name: "tiny",
  policy: assets("policy"),
  rewardModel: assets("reward"),
  rewardModelHint: "the tiny reward model ships in examples/assets/tiny-imdb/reward; " +
    "tools/train_tiny_imdb.ts rebuilds it",
  data: "synthetic",
  queryReviews: 2_000,
  queryLength: { min: 2, max: 8 },
  promptStartsWithBos: true,
  minReviewChars: 0,
  sampling: { topK: 0, topP: 1.0, responseLength: { min: 6, max: 13 }, stopAtEos: true },
  lora: { r: 8, alpha: 16, dropout: 0, targetModules: ["c_attn", "c_proj", "c_fc"] },
  ppo: { learningRate: 1e-3, batchSize: 32, miniBatchSize: 16, ppoEpochs: 4 },
  steps: 30,
  checkpointEvery: 10,
  heldOutPrompts: 32,
  rewardBatchSize: 64,
  accuracyPairs: 256,
  bestOfNPrompts: [
    "the movie was",
    "i think the film was",
    "the acting was",
    "the plot was",
    "the ending was",
    "honestly, the story was",
  ],
  bestOfNSamples: 16,
};

/** The presets by name. */
export const IMDB_PRESETS: Readonly<Record<Preset, ImdbPreset>> = { full: FULL, tiny: TINY };

/**
 * A preset by name, with overrides (for tests and smaller runs), checked so that a bad value is
 * named before any model loads.
 *
 * @param name `full` or `tiny`.
 * @param overrides Fields to replace.
 */
export function imdbPreset(name: Preset, overrides: Partial<ImdbPreset> = {}): ImdbPreset {
  const base = IMDB_PRESETS[name];
  if (!base) {
    throw new Error(
      `imdb preset must be one of ${Object.keys(IMDB_PRESETS).join(", ")}, got '${name}'`,
    );
  }
  const p: ImdbPreset = { ...base, ...overrides };
  const bad = (field: string, value: unknown, rule: string) => {
    throw new Error(`imdb preset '${name}': ${field} = ${JSON.stringify(value)}: ${rule}`);
  };
  const { responseLength: r } = p.sampling;
  if (!(Number.isInteger(r.min) && Number.isInteger(r.max) && r.min >= 1 && r.max > r.min)) {
    bad("sampling.responseLength", r, "needs integers with 1 <= min < max (max exclusive)");
  }
  if (r.max - 1 > MAX_NEW_TOKENS) {
    bad("sampling.responseLength", r, `draws at most ${MAX_NEW_TOKENS} new tokens`);
  }
  const q = p.queryLength;
  if (!(Number.isInteger(q.min) && Number.isInteger(q.max) && q.min >= 1 && q.max > q.min)) {
    bad("queryLength", q, "needs integers with 1 <= min < max (max exclusive)");
  }
  if (!(Number.isInteger(p.steps) && p.steps >= 1)) {
    bad("steps", p.steps, "must be an integer >= 1");
  }
  if (!(Number.isInteger(p.heldOutPrompts) && p.heldOutPrompts >= 1)) {
    bad("heldOutPrompts", p.heldOutPrompts, "must be an integer >= 1");
  }
  if (!(Number.isInteger(p.bestOfNSamples) && p.bestOfNSamples >= 1)) {
    bad("bestOfNSamples", p.bestOfNSamples, "must be an integer >= 1");
  }
  if (p.bestOfNPrompts.length === 0) bad("bestOfNPrompts", p.bestOfNPrompts, "must not be empty");
  return p;
}
