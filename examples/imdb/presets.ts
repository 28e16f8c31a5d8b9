/**
 * The two settings of the IMDB tutorial as data: `full` (the tutorial's own settings, on real Hub
 * checkpoints and IMDB) and `tiny` (the same pipeline on tiny offline checkpoints and the
 * SYNTHETIC review corpus, sized to finish in a few minutes on two CPU cores).
 *
 * The tutorial is the RLHF seminar of the YSDA NLP course (`yandexdataschool/nlp_course`,
 * `week08_rlhf/practice.ipynb`, after Ilya Boytsov's Oxford LLMs workshop notebook), pinned to
 * `trl==0.7.4`, `transformers==4.33.1`, `peft==0.5.0`: stage 1 trains `distilbert-base-cased`
 * as a pairwise reward model with `trl.RewardTrainer`, then reward-guided generation (best of
 * 16), then stage 2 tunes `lvwerra/gpt2-imdb` with `trl.PPOTrainer` and LoRA. Every value of
 * `full` below that the notebook sets is quoted from it; the rest are the defaults of the pinned
 * TRL 0.7.4 / transformers 4.33 it leaves in place. `tests/examples/tutorial_presets.test.ts`
 * holds the notebook's values and compares them with this file.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { LoraConfig } from "../../models/mod.ts";
import type { PPOConfigInput } from "../../algorithms/ppo/mod.ts";
import type { Preset } from "../common/cli.ts";
import { TINY_MAX_LENGTH } from "./synthetic_tokenizers.ts";
import type { TargetLabel } from "./reward_model.ts";

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
   * Most new tokens per sample, drawn once per generation batch as TRL's `LengthSampler` draws
   * (a one-value range such as `{ min: 128, max: 129 }` is the tutorial's fixed
   * `max_new_tokens=128`); never more than {@link MAX_NEW_TOKENS}.
   */
  responseLength: LengthRange;
  /**
   * Whether EOS ends a sample. The tutorial passes `min_length=-1` and lets GPT-2 stop on EOS;
   * the tiny policy never writes EOS mid-review, so both presets keep it on.
   */
  stopAtEos: boolean;
}

/**
 * How the reward model is trained (`trl.RewardConfig`, a `TrainingArguments`, in TRL's names
 * camelCased). Pairs put a review of the target label (chosen) against one of the other label.
 */
export interface ImdbRewardTraining {
  /** Optimizer steps (`max_steps`). */
  maxSteps: number;
  /** Pairs per step (`per_device_train_batch_size`; `gradient_accumulation_steps` is 1). */
  batchSize: number;
  /** Peak learning rate. */
  learningRate: number;
  /** Share of the steps spent in linear warmup before the linear decay (`warmup_ratio`). */
  warmupRatio: number;
  /** AdamW weight decay. */
  weightDecay: number;
  /** Steps between logged lines (`logging_steps`; null: a tenth of the run, at most 25). */
  loggingSteps: number | null;
  /** Steps between checkpoints (resume points). */
  saveSteps: number;
  /**
   * Training pairs: `"all"` is every (target-label review, other review) pair of the train
   * split, as the tutorial's `IMDBPairwiseDataset`, of which the run draws `maxSteps ×
   * batchSize` uniformly without replacement (what a shuffled sampler over all pairs feeds in
   * that many steps); a number is that many pairs, each review used once.
   */
  trainPairs: number | "all";
  /** Longest review in tokens (DistilBERT's 512, where `truncation=True` cuts). */
  maxLength: number;
  /** Recompute each block's activations in backward (`gradient_checkpointing`). */
  gradientCheckpointing: boolean;
  /** Held-out pairs whose accuracy is printed before and after training. */
  evalPairs: number;
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
  /**
   * The reviews the reward model prefers: the tutorial's `TARGET_LABEL` ("your choice - either
   * 0 or 1"). The reward model learns it; the later stages check its accuracy on such pairs.
   */
  targetLabel: TargetLabel;
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
  /** Generation settings of PPO rollouts and the side-by-side table. */
  sampling: SamplingSettings;
  /** Generation settings of reward-guided generation (best-of-n). */
  bestOfNSampling: SamplingSettings;
  /** How `examples/imdb_reward_model.ts` trains the reward model. */
  rewardTraining: ImdbRewardTraining;
  /** LoRA adapters on the policy (null: full fine-tune). */
  lora: LoraConfig | null;
  /** PPO hyper-parameters (TRL 0.7.4 defaults fill the rest). */
  ppo: PPOConfigInput & {
    batchSize: number;
    miniBatchSize: number;
    learningRate: number;
    ppoEpochs: number;
  };
  /** PPO steps (each on `ppo.batchSize` fresh rollouts). */
  steps: number;
  /** Steps between checkpoints (resume points). */
  checkpointEvery: number;
  /** Held-out prompts in the side-by-side table (at least 20). */
  heldOutPrompts: number;
  /** Texts per reward-model forward when scoring samples. */
  rewardBatchSize: number;
  /** Texts per reward-model forward when scoring whole reviews (the accuracy check). */
  evalBatchSize: number;
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

/**
 * The tutorial's settings (`week08_rlhf/practice.ipynb`; quoted values from its cells, the rest
 * TRL 0.7.4's and transformers 4.33's defaults, which it leaves in place).
 */
const FULL: ImdbPreset = {
  name: "full",
  policy: "lvwerra/gpt2-imdb",
  rewardModel: FULL_REWARD_MODEL_DIR,
  rewardModelHint: "deno run -A examples/imdb_reward_model.ts --preset full",
  targetLabel: "positive",
  data: "imdb",
  // `imdb.filter(lambda row: len(row['text']) > 200)` over the whole train split, each query the
  // first `trl.core.LengthSampler(2, 8)` tokens of a review.
  queryReviews: 25_000,
  queryLength: { min: 2, max: 8 },
  promptStartsWithBos: false,
  minReviewChars: 200,
  // `generation_kwargs = dict(min_length=-1, max_new_tokens=128, do_sample=True, top_k=0,
  // top_p=1.0, pad_token_id=main_tokenizer.eos_token_id)`: up to 128 new tokens, EOS ends one.
  sampling: { topK: 0, topP: 1.0, responseLength: { min: 128, max: 129 }, stopAtEos: true },
  // Reward-guided generation: "generate N=16 samples", as its example cell samples,
  // `main_model.generate(**inputs, max_new_tokens=50, do_sample=True)`: transformers 4.33's
  // sampling defaults, top_k 50 and top_p 1.0.
  bestOfNSampling: { topK: 50, topP: 1.0, responseLength: { min: 50, max: 51 }, stopAtEos: true },
  // `trl.RewardConfig(per_device_train_batch_size=32, gradient_accumulation_steps=1,
  // learning_rate=1.41e-5, max_steps=1_000, logging_steps=50, gradient_checkpointing=True,
  // fp16=True)` over all pairs; TrainingArguments' defaults: no warmup, weight decay 0, linear
  // decay, gradients clipped at norm 1. fp16 is the notebook's GPU setting ("disable this on
  // CPU"); training runs in f32 here.
  rewardTraining: {
    maxSteps: 1000,
    batchSize: 32,
    learningRate: 1.41e-5,
    warmupRatio: 0,
    weightDecay: 0,
    loggingSteps: 50,
    saveSteps: 100,
    trainPairs: "all",
    maxLength: 512,
    gradientCheckpointing: true,
    evalPairs: 256,
  },
  // `peft.LoraConfig(task_type=CAUSAL_LM, r=32, lora_alpha=32, lora_dropout=0.0)`; peft 0.5's
  // default target for GPT-2 is `c_attn` (q, k and v fused into one Conv1D).
  lora: { r: 32, alpha: 32, dropout: 0, targetModules: ["c_attn"] },
  // `trl.PPOConfig(gradient_accumulation_steps=1, learning_rate=1.41e-5, batch_size=64,
  // ppo_epochs=4)`; the rest are TRL 0.7.4's defaults, mini_batch_size 1 among them (so each PPO
  // epoch is 64 optimizer updates of one rollout each), init_kl_coef 0.2, target 6, horizon
  // 10000, vf_coef 0.1, cliprange 0.2.
  ppo: {
    learningRate: 1.41e-5,
    batchSize: 64,
    miniBatchSize: 1,
    gradientAccumulationSteps: 1,
    ppoEpochs: 4,
  },
  // `max_steps = 50`.
  steps: 50,
  checkpointEvery: 10,
  heldOutPrompts: 24,
  // `compute_reward(batch['response'])` scores a PPO step's 64 texts in one padded batch.
  rewardBatchSize: 64,
  // Whole reviews (up to 512 tokens) for the accuracy check, in smaller batches.
  evalBatchSize: 16,
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
  targetLabel: "positive",
  data: "synthetic",
  queryReviews: 2_000,
  queryLength: { min: 2, max: 8 },
  promptStartsWithBos: true,
  minReviewChars: 0,
  sampling: { topK: 0, topP: 1.0, responseLength: { min: 6, max: 13 }, stopAtEos: true },
  bestOfNSampling: { topK: 0, topP: 1.0, responseLength: { min: 6, max: 13 }, stopAtEos: true },
  // Measured on the SYNTHETIC pairs: 100 steps of 16 at 2e-3 reach 0.99 held-out accuracy.
  rewardTraining: {
    maxSteps: 100,
    batchSize: 16,
    learningRate: 2e-3,
    warmupRatio: 0.1,
    weightDecay: 0.01,
    loggingSteps: null,
    saveSteps: 25,
    trainPairs: 4096,
    maxLength: TINY_MAX_LENGTH,
    gradientCheckpointing: false,
    evalPairs: 512,
  },
  lora: { r: 8, alpha: 16, dropout: 0, targetModules: ["c_attn", "c_proj", "c_fc"] },
  ppo: { learningRate: 1e-3, batchSize: 32, miniBatchSize: 16, ppoEpochs: 4 },
  steps: 30,
  checkpointEvery: 10,
  heldOutPrompts: 32,
  rewardBatchSize: 64,
  evalBatchSize: 64,
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
  for (const key of ["sampling", "bestOfNSampling"] as const) {
    const { responseLength: r } = p[key];
    if (!(Number.isInteger(r.min) && Number.isInteger(r.max) && r.min >= 1 && r.max > r.min)) {
      bad(`${key}.responseLength`, r, "needs integers with 1 <= min < max (max exclusive)");
    }
    if (r.max - 1 > MAX_NEW_TOKENS) {
      bad(`${key}.responseLength`, r, `draws at most ${MAX_NEW_TOKENS} new tokens`);
    }
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
  if (!(Number.isInteger(p.accuracyPairs) && p.accuracyPairs >= 1)) {
    bad("accuracyPairs", p.accuracyPairs, "must be an integer >= 1");
  }
  const rt = p.rewardTraining;
  if (!(Number.isInteger(rt.maxSteps) && rt.maxSteps >= 1)) {
    bad("rewardTraining.maxSteps", rt.maxSteps, "must be an integer >= 1");
  }
  if (!(Number.isInteger(rt.evalPairs) && rt.evalPairs >= 1)) {
    bad("rewardTraining.evalPairs", rt.evalPairs, "must be an integer >= 1");
  }
  if (rt.trainPairs !== "all" && !(Number.isInteger(rt.trainPairs) && rt.trainPairs >= 1)) {
    bad("rewardTraining.trainPairs", rt.trainPairs, 'must be "all" or an integer >= 1');
  }
  return p;
}
