/**
 * The two settings of the TL;DR examples as data. `full` is the tutorial (trlX's
 * `summarize_rlhf` recipe as the course assignment runs it on GPT-2): SFT of `gpt2` on
 * `CarperAI/openai_summarize_tldr`, max length 550, batch 16, lr 1e-4; the reward model
 * initialised from the SFT model, pairs from `CarperAI/openai_summarize_comparisons` padded to
 * 550, the first 70% of the blocks frozen, lr 1e-5, batch 1; PPO with trlX's
 * `trlx_gptj_text_summarization.py` config (8 unfrozen layers, seq_length 550, batch 4, AdamW
 * 5e-6, 128 rollouts in chunks of 16, 4 PPO epochs, β from 0.1 towards KL 6, 50 new tokens) on
 * the SFT policy against the reward model, evaluated on the first 1000 `valid` posts. `tiny` runs
 * offline on the tiny checkpoints in `examples/assets/tiny-tldr/` and the SYNTHETIC
 * summarization corpus.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { TrlxConfigInput } from "../../algorithms/ppo_trlx/mod.ts";
import type { Preset } from "../common/cli.ts";
import type { ComparisonFilter } from "./data.ts";

/** Settings of the SFT stage. */
export interface TldrSftSettings {
  /** Policy to fine-tune: a Hub id or a folder (GPT-2 family). */
  model: string;
  /** Longest prompt + summary in tokens (longer ones are cut from the left). */
  maxLength: number;
  /** Examples per step. */
  batchSize: number;
  /** Peak learning rate. */
  learningRate: number;
  /** AdamW betas. */
  adamBetas: [number, number];
  /** Passes over the training rows (when `maxSteps` is null). */
  numTrainEpochs: number;
  /** Optimizer steps (null: `numTrainEpochs` decide). */
  maxSteps: number | null;
  /** Linear warmup steps. */
  warmupSteps: number;
  /** Steps between evaluations (eval loss and ROUGE of generated summaries). */
  evalSteps: number;
  /** Steps between checkpoints. */
  saveSteps: number;
  /** Loss on the summary only (true) or on the whole text, as the tutorial (false). */
  completionOnlyLoss: boolean;
  /** Recompute block activations in backward (`gradient_checkpointing`), as trlX's SFT script. */
  gradientCheckpointing: boolean;
  /** Training rows read (null: the whole split). */
  trainExamples: number | null;
  /** Held-out posts evaluated (trlX's SFT script: the first 2000 of `valid`). */
  evalExamples: number;
  /** Most tokens of a generated summary. */
  maxNewTokens: number;
}

/** Settings of the reward-model stage. */
export interface TldrRewardSettings {
  /** The SFT model the reward model starts from (folder or Hub id). */
  sftModel: string;
  /** Longest model input in tokens (pairs are cut to it, as padded to 550 in the tutorial). */
  maxLength: number;
  /** Share of the blocks frozen, from the bottom (0.7: trlX's `int(0.3 · n)` left trainable). */
  freezeFraction: number;
  /** Peak learning rate. */
  learningRate: number;
  /** Pairs per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step. */
  gradientAccumulationSteps: number;
  /** Passes over the training pairs (when `maxSteps` is null). */
  numTrainEpochs: number;
  /** Optimizer steps (null: `numTrainEpochs` decide). */
  maxSteps: number | null;
  /** Linear warmup steps. */
  warmupSteps: number;
  /** Steps between evaluations. */
  evalSteps: number;
  /** Steps between checkpoints. */
  saveSteps: number;
  /** Training pairs read (null: the whole split). */
  trainPairs: number | null;
  /** Held-out pairs read (null: the whole split). */
  testPairs: number | null;
  /** Screening of comparison rows. */
  filter: ComparisonFilter;
  /** Text before each scored member (trlX: `<|startoftext|>`). */
  prefix: string;
}

/** Settings of the PPO stage. */
export interface TldrPpoSettings {
  /** The per-token reward model (folder or Hub id) that scores summaries. */
  rewardModel: string;
  /**
   * trlX's config as the tutorial writes it (snake_case, trlX's layout); `model.model_path` is
   * the SFT policy PPO starts from, which is also the KL reference.
   */
  config: TrlxConfigInput;
  /** Training posts read (null: the whole `train` split, as the tutorial). */
  trainPrompts: number | null;
  /** Held-out posts evaluated (the tutorial: the first 1000 of `valid`). */
  evalPrompts: number;
}

/** Everything that differs between the full and the tiny run. */
export interface TldrPreset {
  /** Preset name. */
  name: Preset;
  /** Hub datasets, or the SYNTHETIC corpus offline. */
  data: "hub" | "synthetic";
  /** SFT stage. */
  sft: TldrSftSettings;
  /** Reward-model stage. */
  reward: TldrRewardSettings;
  /** PPO stage. */
  ppo: TldrPpoSettings;
  /** Held-out posts shown in the side-by-side table. */
  tablePosts: number;
  /** Seeds of the SYNTHETIC splits (tiny only). */
  syntheticSeeds: { sftTrain: number; sftTest: number; pairsTrain: number; pairsTest: number };
  /**
   * Share of the SYNTHETIC training posts whose reference summary is careless (tiny only; the
   * held-out references are all careful).
   */
  syntheticCarelessFraction: number;
}

const asset = (path: string) =>
  fileURLToPath(new URL(`../assets/tiny-tldr/${path}`, import.meta.url));

/** Folder of the tiny checkpoints. */
export const TINY_TLDR_ASSETS: string = asset("");

/** Where `--preset full`'s SFT stage saves its model (the reward stage starts from it). */
export const FULL_SFT_OUTPUT = "runs/tldr_sft-full/model";

/** Where `--preset full`'s reward stage saves its model (the PPO stage scores with it). */
export const FULL_REWARD_OUTPUT = "runs/tldr_reward_model-full/model";

/**
 * trlX's config of the tutorial (`examples/summarize_rlhf/trlx_gptj_text_summarization.py`),
 * field for field; the policy is the SFT stage's GPT-2 instead of the recipe's GPT-J.
 */
const FULL_PPO_CONFIG: TrlxConfigInput = {
  train: {
    seq_length: 550,
    epochs: 50,
    total_steps: 100000,
    batch_size: 4,
    checkpoint_interval: 10000,
    eval_interval: 200,
    pipeline: "PromptPipeline",
    trainer: "AcceleratePPOTrainer",
  },
  model: { model_path: FULL_SFT_OUTPUT, num_layers_unfrozen: 8 },
  tokenizer: { tokenizer_path: "gpt2", truncation_side: "right" },
  optimizer: {
    name: "adamw",
    kwargs: { lr: 5.0e-6, betas: [0.9, 0.999], eps: 1.0e-8, weight_decay: 0.01 },
  },
  scheduler: { name: "cosine_annealing", kwargs: { T_max: 100000, eta_min: 5.0e-6 } },
  method: {
    name: "PPOConfig",
    num_rollouts: 128,
    chunk_size: 16,
    ppo_epochs: 4,
    init_kl_coef: 0.1,
    target: 6,
    horizon: 10000,
    gamma: 1,
    lam: 0.95,
    cliprange: 0.2,
    cliprange_value: 0.2,
    vf_coef: 0.2,
    scale_reward: null,
    ref_mean: null,
    ref_std: null,
    cliprange_reward: 10,
    gen_kwargs: { max_new_tokens: 50 },
  },
};

/** The tutorial's settings. */
const FULL: TldrPreset = {
  name: "full",
  data: "hub",
  sft: {
    model: "gpt2",
    maxLength: 550,
    batchSize: 16,
    learningRate: 1e-4,
    adamBetas: [0.9, 0.95],
    numTrainEpochs: 5,
    maxSteps: null,
    warmupSteps: 100,
    evalSteps: 800,
    saveSteps: 1600,
    completionOnlyLoss: false,
    gradientCheckpointing: true,
    trainExamples: null,
    evalExamples: 2000,
    maxNewTokens: 50,
  },
  reward: {
    sftModel: FULL_SFT_OUTPUT,
    maxLength: 550,
    freezeFraction: 0.7,
    learningRate: 1e-5,
    batchSize: 1,
    gradientAccumulationSteps: 4,
    numTrainEpochs: 5,
    maxSteps: null,
    warmupSteps: 100,
    evalSteps: 500,
    saveSteps: 500,
    trainPairs: null,
    testPairs: null,
    filter: "trlx",
    prefix: "<|startoftext|>",
  },
  ppo: {
    rewardModel: FULL_REWARD_OUTPUT,
    config: FULL_PPO_CONFIG,
    trainPrompts: null,
    evalPrompts: 1000,
  },
  tablePosts: 8,
  syntheticSeeds: { sftTrain: 11, sftTest: 12, pairsTrain: 21, pairsTest: 22 },
  syntheticCarelessFraction: 0,
};

/**
 * The tutorial's PPO config scaled to the tiny checkpoints: the same method and coefficients, a
 * 128-token window with 24 new tokens, 3 of the 4 blocks trained (the tutorial trains 8 of
 * GPT-2's 12), 64 rollouts in chunks of 32 with minibatches of 16 (16 steps per collection), a
 * learning rate 100 times the tutorial's, and 32 steps: two collections, about a minute on two
 * idle cores.
 */
const TINY_PPO_CONFIG: TrlxConfigInput = {
  train: {
    seq_length: 128,
    epochs: 100,
    total_steps: 32,
    batch_size: 16,
    checkpoint_interval: 16,
    eval_interval: 32,
    pipeline: "PromptPipeline",
    trainer: "AcceleratePPOTrainer",
  },
  model: { model_path: asset("sft"), num_layers_unfrozen: 3 },
  tokenizer: { tokenizer_path: asset("sft"), truncation_side: "right" },
  optimizer: {
    name: "adamw",
    kwargs: { lr: 5e-4, betas: [0.9, 0.999], eps: 1.0e-8, weight_decay: 0.01 },
  },
  scheduler: { name: "cosine_annealing", kwargs: { T_max: 100000, eta_min: 5e-4 } },
  method: {
    name: "PPOConfig",
    num_rollouts: 64,
    chunk_size: 32,
    ppo_epochs: 4,
    init_kl_coef: 0.1,
    target: 6,
    horizon: 10000,
    gamma: 1,
    lam: 0.95,
    cliprange: 0.2,
    cliprange_value: 0.2,
    vf_coef: 0.2,
    scale_reward: null,
    ref_mean: null,
    ref_std: null,
    cliprange_reward: 10,
    gen_kwargs: { max_new_tokens: 24 },
  },
};

/** The same stages on the tiny checkpoints and the SYNTHETIC corpus (sized for two cores). */
const TINY: TldrPreset = {
  name: "tiny",
  data: "synthetic",
  sft: {
    model: asset("policy"),
    maxLength: 128,
    batchSize: 16,
    learningRate: 2e-3,
    adamBetas: [0.9, 0.95],
    numTrainEpochs: 1,
    maxSteps: 120,
    warmupSteps: 10,
    evalSteps: 40,
    saveSteps: 40,
    completionOnlyLoss: true,
    gradientCheckpointing: false,
    trainExamples: 1920,
    evalExamples: 64,
    maxNewTokens: 24,
  },
  reward: {
    sftModel: asset("sft"),
    maxLength: 128,
    freezeFraction: 0.7,
    learningRate: 2e-3,
    batchSize: 16,
    gradientAccumulationSteps: 1,
    numTrainEpochs: 1,
    maxSteps: 120,
    warmupSteps: 10,
    evalSteps: 40,
    saveSteps: 40,
    trainPairs: 1920,
    testPairs: 256,
    filter: "strict",
    prefix: "<|startoftext|>",
  },
  ppo: {
    rewardModel: asset("reward"),
    config: TINY_PPO_CONFIG,
    trainPrompts: 1024,
    evalPrompts: 64,
  },
  tablePosts: 6,
  syntheticSeeds: { sftTrain: 11, sftTest: 12, pairsTrain: 21, pairsTest: 22 },
  // Demonstrations with flaws the comparisons rank down: the SFT policy learns them, which
  // leaves PPO something the reward model can see to improve.
  syntheticCarelessFraction: 0.3,
};

/** The presets by name. */
export const TLDR_PRESETS: Readonly<Record<Preset, TldrPreset>> = { full: FULL, tiny: TINY };

/**
 * A copy of a preset by name.
 *
 * @param name `full` or `tiny`.
 */
export function tldrPreset(name: Preset): TldrPreset {
  const preset = TLDR_PRESETS[name];
  if (!preset) {
    throw new Error(
      `TL;DR preset must be one of ${Object.keys(TLDR_PRESETS).join(", ")}, got '${name}'`,
    );
  }
  return structuredClone(preset);
}
