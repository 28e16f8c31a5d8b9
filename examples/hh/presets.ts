/**
 * The two settings of the hh-rlhf examples as data: `full` (GPT-2 on Anthropic's hh-rlhf from
 * the Hub) and `tiny` (the tiny offline checkpoints in `examples/assets/tiny-imdb/` on the
 * SYNTHETIC preference set, sized to finish in a minute or two on two CPU cores).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { LoraConfig } from "../../models/mod.ts";
import type { Preset } from "../common/cli.ts";

/** How samples are drawn for the side-by-side table (and ReST's Grow step). */
export interface HhSampling {
  /** Most new tokens per sample. */
  maxNewTokens: number;
  /** 0 = no top-k filter. */
  topK: number;
  /** 1 = no nucleus filter. */
  topP: number;
  /** Softmax temperature. */
  temperature: number;
}

/** Settings of the SFT example. */
export interface HhSftSettings {
  /** Peak learning rate. */
  learningRate: number;
  /** Examples per step. */
  batchSize: number;
  /** Optimizer steps. */
  maxSteps: number;
  /** Linear warmup steps. */
  warmupSteps: number;
  /** Steps between evaluations logged to metrics.jsonl. */
  evalSteps: number;
  /** Steps between checkpoints (resume points). */
  saveSteps: number;
}

/** How rows longer than the length limits are handled. */
export type HhOverLength = "skip" | "truncate";

/**
 * Preset-wide settings one stage holds its own value of, where the tutorial it follows fixes
 * them for that stage alone; a field left out keeps the preset-wide value.
 */
export interface HhStageOverrides {
  /** Training pairs read. */
  trainExamples?: number;
  /** Held-out pairs read. */
  testExamples?: number;
  /** Longest prompt + completion in tokens. */
  maxLength?: number;
  /** Longest prompt in tokens. */
  maxPromptLength?: number;
  /** LoRA on the policy (null: full fine-tune, with a frozen copy as DPO's reference). */
  lora?: LoraConfig | null;
  /** Rows longer than the limits: skipped, or cut as TRL 0.7.4's DPO collator cuts them. */
  overLength?: HhOverLength;
}

/** Settings of the DPO example. */
export interface HhDpoSettings extends HhSftSettings {
  /** β of the implicit KL constraint. */
  beta: number;
  /** Steps between averaged training metrics in metrics.jsonl. */
  loggingSteps: number;
  /** Also log the first step's training metrics on their own. */
  loggingFirstStep: boolean;
  /** The optimizer, by transformers' `optim` name. */
  optim: "adamw_torch" | "rmsprop";
  /** Preset-wide settings the DPO stage holds its own value of. */
  overrides: HhStageOverrides;
}

/** Settings of the ReST example. */
export interface HhRestSettings {
  /** Samples per prompt in a Grow step (K). */
  samplesPerPrompt: number;
  /** Improve steps per Grow step (I). */
  improveSteps: number;
  /** Rising fixed reward thresholds, one per Improve step (null: ReST's percentile schedule). */
  thresholds: number[] | null;
  /** Prompts sampled from in each Grow step. */
  growPrompts: number;
  /** SFT learning rate of each Improve step. */
  learningRate: number;
  /** SFT batch size of each Improve step. */
  batchSize: number;
  /** SFT epochs over the filtered Grow set per Improve step. */
  epochs: number;
}

/** Settings of the reward-model example (TRL's `RewardConfig` names, camelCased). */
export interface HhRewardModelSettings {
  /** Model the reward model starts from (a 1-output sequence classifier is built on it). */
  base: string;
  /** Training pairs read (null: the whole train split). */
  trainExamples: number | null;
  /** Held-out pairs the accuracy is measured on (null: the whole test split). */
  testExamples: number | null;
  /** Longest text in tokens; longer pairs are skipped, as TRL's script filters. */
  maxLength: number;
  /** Pairs per micro-batch (`per_device_train_batch_size`). */
  batchSize: number;
  /** Micro-batches per optimizer step. */
  gradientAccumulationSteps: number;
  /** Recompute block activations in backward instead of keeping them (same gradients). */
  gradientCheckpointing: boolean;
  /**
   * Pairs per forward and backward pass (null: the whole micro-batch). A micro-batch is run as
   * `batchSize / forwardBatchSize` equal parts whose gradients add up to the micro-batch's, as
   * more accumulation steps would: the same pairs per optimizer step and the same update, with
   * the activations of fewer pairs alive at once. Memory only.
   */
  forwardBatchSize: number | null;
  /** Peak learning rate. */
  learningRate: number;
  /** Passes over the pairs (used when `maxSteps` is null). */
  epochs: number;
  /** Optimizer steps (null: `epochs` passes). */
  maxSteps: number | null;
  /** Steps between checkpoints. */
  saveSteps: number;
}

/** Settings of the PPO example (TRL 0.7.4's `PPOConfig` names, camelCased). */
export interface HhPpoSettings {
  /** Adam learning rate. */
  learningRate: number;
  /** Rollouts per PPO step. */
  batchSize: number;
  /** Rollouts per forward/backward. */
  miniBatchSize: number;
  /** Passes over each batch. */
  ppoEpochs: number;
  /** Initial KL coefficient β. */
  initKlCoef: number;
  /** PPO steps. */
  steps: number;
  /** Most new tokens per response. */
  maxNewTokens: number;
  /**
   * Rollouts sampled together (TRL's `PPOTrainer.generate(batch_size=...)`); the KV cache
   * holds this many rows at a time.
   */
  generationBatchSize: number;
  /** Steps between checkpoints. */
  checkpointEvery: number;
  /**
   * Recompute the policy's block activations in backward (`gradient_checkpointing_enable()`):
   * the same gradients, about one more forward of time, and far less memory for a minibatch of
   * 128 rollouts.
   */
  gradientCheckpointing: boolean;
}

/** Settings of the GRPO example (TRL 1.9's `GRPOConfig` names, camelCased). */
export interface HhGrpoSettings {
  /** AdamW learning rate. */
  learningRate: number;
  /** Completions per micro-batch. */
  batchSize: number;
  /** Completions per prompt. */
  numGenerations: number;
  /** KL coefficient β. */
  beta: number;
  /** Most new tokens per completion. */
  maxCompletionLength: number;
  /** Generation rounds (null: `epochs` passes over the prompts). */
  maxSteps: number | null;
  /** Passes over the prompts when `maxSteps` is null. */
  epochs: number;
  /** Rounds between checkpoints. */
  saveSteps: number;
}

/** Everything that differs between the full and the tiny run. */
export interface HhPreset {
  /** Preset name. */
  name: Preset;
  /** Policy: a Hub id or a local folder (GPT-2 family). */
  policy: string;
  /**
   * Reward model folder or Hub id (a 1-label sequence classifier with its tokenizer); null in
   * the tiny preset's RL examples, which train their own on the SYNTHETIC pairs first.
   */
  rewardModel: string | null;
  /** Pairs: hh-rlhf from the Hub, or the SYNTHETIC preference set written offline. */
  data: "hh-rlhf" | "synthetic";
  /** Training pairs (or SFT examples) read. */
  trainExamples: number;
  /** Held-out pairs read (evaluation and the side-by-side table). */
  testExamples: number;
  /** Longest prompt + completion in tokens; longer hh-rlhf rows are skipped, as TRL filters. */
  maxLength: number;
  /** Longest prompt in tokens; rows with longer prompts are skipped (see `overLength`). */
  maxPromptLength: number;
  /**
   * Rows over `maxLength` / `maxPromptLength`: `skip`ped (as TRL's reward and SFT scripts
   * filter), or `truncate`d as TRL 0.7.4's DPO collator cuts them (see `data.ts`).
   */
  overLength: HhOverLength;
  /** Most tokens per SYNTHETIC completion (tiny only). */
  syntheticCompletionTokens: number;
  /** LoRA on the policy (null: full fine-tune, with a frozen copy as DPO's reference). */
  lora: LoraConfig | null;
  /** Side-by-side sampling. */
  sampling: HhSampling;
  /** Held-out prompts in the side-by-side table. */
  sideBySidePrompts: number;
  /** Texts per reward-model forward. */
  rewardBatchSize: number;
  /** SFT settings. */
  sft: HhSftSettings;
  /** DPO settings. */
  dpo: HhDpoSettings;
  /** ReST settings. */
  rest: HhRestSettings;
  /** Reward-model settings. */
  rm: HhRewardModelSettings;
  /** PPO settings. */
  ppo: HhPpoSettings;
  /** GRPO settings. */
  grpo: HhGrpoSettings;
  /** Where the RL examples' policy starts: the SFT example's output (null: `policy` itself). */
  sftPolicy: string | null;
}

/** Hub id of the full preset's policy. */
export const FULL_POLICY = "gpt2";

/** Where `hh_reward_model.ts --preset full` saves its model: the other full presets' reward. */
export const FULL_REWARD_MODEL = "runs/hh_reward_model-full/model";

/** Where `hh_sft.ts --preset full` saves its policy: where the RL examples start. */
export const FULL_SFT_POLICY = "runs/hh_sft-full/model";

const assets = (path: string) =>
  fileURLToPath(new URL(`../assets/tiny-imdb/${path}`, import.meta.url));

/**
 * GPT-2 small on hh-rlhf: the reward model, PPO and DPO as TRL 0.7.4's example scripts set
 * them, GRPO at TRL 1.9's defaults; SFT and ReST at this project's own settings (no tutorial
 * fixes them).
 */
const FULL: HhPreset = {
  name: "full",
  policy: FULL_POLICY,
  rewardModel: FULL_REWARD_MODEL,
  data: "hh-rlhf",
  trainExamples: 20_000,
  testExamples: 256,
  maxLength: 512,
  maxPromptLength: 384,
  overLength: "skip",
  syntheticCompletionTokens: 14,
  // GPT-2 fuses q, k and v into one Conv1D named c_attn.
  lora: { r: 16, alpha: 32, dropout: 0.05, targetModules: ["c_attn"] },
  sampling: { maxNewTokens: 64, topK: 0, topP: 0.9, temperature: 1 },
  sideBySidePrompts: 16,
  rewardBatchSize: 8,
  sft: {
    learningRate: 2e-5,
    batchSize: 8,
    maxSteps: 2000,
    warmupSteps: 50,
    evalSteps: 250,
    saveSteps: 250,
  },
  // TRL 0.7.4's examples/scripts/dpo.py ("DPO of gpt2 on Anthropic/hh-rlhf"): gpt2 fine-tuned
  // whole against a separate frozen copy (model_ref), the first 1000 rows of train and of test
  // (sanity_check), prompts cut to their last 128 tokens when a row passes 512, RMSprop at 1e-3
  // after 150 warmup steps, the first step logged too. Two of its settings Tether does not
  // hold: bf16 (training runs in f32) and generate_during_eval (policy and reference samples
  // logged to Weights & Biases at each evaluation; Tether writes side_by_side.md, the starting
  // and the tuned policy's samples on held-out prompts with their rewards, at the end).
  dpo: {
    learningRate: 1e-3,
    batchSize: 4,
    maxSteps: 1000,
    warmupSteps: 150,
    evalSteps: 500,
    saveSteps: 500,
    loggingSteps: 10,
    loggingFirstStep: true,
    beta: 0.1,
    optim: "rmsprop",
    overrides: {
      trainExamples: 1000,
      testExamples: 1000,
      maxLength: 512,
      maxPromptLength: 128,
      lora: null,
      overLength: "truncate",
    },
  },
  rest: {
    samplesPerPrompt: 4,
    improveSteps: 2,
    thresholds: null,
    growPrompts: 512,
    learningRate: 2e-5,
    batchSize: 8,
    epochs: 1,
  },
  // TRL 0.7.4's examples/scripts/reward_modeling.py on hh-rlhf.
  rm: {
    base: "facebook/opt-350m",
    trainExamples: null,
    testExamples: null,
    maxLength: 512,
    batchSize: 64,
    gradientAccumulationSteps: 16,
    gradientCheckpointing: true,
    // Not in the script: 64 pairs of 512 tokens through opt-350m at once outgrow a 24 GiB
    // machine even with checkpointing (stopped at 18 GiB); 16 at a time fit.
    forwardBatchSize: 16,
    learningRate: 1.41e-5,
    epochs: 1,
    maxSteps: null,
    saveSteps: 20,
  },
  // TRL 0.7.4's examples/scripts/ppo.py: lr 1.41e-5, batch = minibatch = 128, 4 epochs,
  // adaptive KL from 0.2, 32 new tokens of plain sampling.
  ppo: {
    learningRate: 1.41e-5,
    batchSize: 128,
    miniBatchSize: 128,
    ppoEpochs: 4,
    initKlCoef: 0.2,
    steps: 150,
    maxNewTokens: 32,
    // ppo.py calls `ppo_trainer.generate(query_tensors, ...)` without a batch_size: TRL's 4.
    // All 128 rollouts of up to 505 tokens at once passed 18 GiB in the smoke run.
    generationBatchSize: 4,
    checkpointEvery: 10,
    // Not in the script, and no change to the numbers: without it the minibatch's activations
    // (128 rollouts of up to 505 tokens through 12 blocks) are tens of GiB by estimate; with it
    // the smoke run's step peaked at 14.0 GiB.
    gradientCheckpointing: true,
  },
  // TRL 1.9's GRPOConfig defaults.
  grpo: {
    learningRate: 1e-6,
    batchSize: 8,
    numGenerations: 8,
    beta: 0,
    maxCompletionLength: 256,
    maxSteps: null,
    epochs: 3,
    saveSteps: 500,
  },
  sftPolicy: FULL_SFT_POLICY,
};

/** The same examples on the tiny checkpoints and the SYNTHETIC preference set (measured). */
const TINY: HhPreset = {
  name: "tiny",
  policy: assets("policy"),
  rewardModel: assets("reward"),
  data: "synthetic",
  trainExamples: 2048,
  testExamples: 128,
  maxLength: 64,
  maxPromptLength: 16,
  overLength: "skip",
  syntheticCompletionTokens: 14,
  lora: null,
  sampling: { maxNewTokens: 16, topK: 0, topP: 1, temperature: 1 },
  sideBySidePrompts: 24,
  rewardBatchSize: 64,
  sft: {
    learningRate: 1e-3,
    batchSize: 16,
    maxSteps: 200,
    warmupSteps: 0,
    evalSteps: 50,
    saveSteps: 50,
  },
  dpo: {
    learningRate: 1e-3,
    batchSize: 16,
    maxSteps: 100,
    warmupSteps: 0,
    evalSteps: 50,
    saveSteps: 50,
    loggingSteps: 10,
    loggingFirstStep: false,
    beta: 0.1,
    optim: "adamw_torch",
    overrides: {},
  },
  rest: {
    samplesPerPrompt: 8,
    improveSteps: 3,
    thresholds: null,
    growPrompts: 128,
    learningRate: 2e-3,
    batchSize: 16,
    epochs: 1,
  },
  // A reward model grown from the tiny policy (GPT-2 with a fresh score head).
  rm: {
    base: assets("policy"),
    trainExamples: 2048,
    testExamples: 256,
    maxLength: 64,
    batchSize: 32,
    gradientAccumulationSteps: 1,
    gradientCheckpointing: false,
    forwardBatchSize: null,
    learningRate: 1e-3,
    epochs: 1,
    maxSteps: 40,
    saveSteps: 20,
  },
  ppo: {
    learningRate: 1e-4,
    batchSize: 16,
    miniBatchSize: 16,
    ppoEpochs: 4,
    initKlCoef: 0.2,
    steps: 40,
    maxNewTokens: 16,
    generationBatchSize: 16,
    checkpointEvery: 20,
    gradientCheckpointing: false,
  },
  grpo: {
    learningRate: 1e-3,
    batchSize: 32,
    numGenerations: 4,
    beta: 0.1,
    maxCompletionLength: 16,
    maxSteps: 25,
    epochs: 1,
    saveSteps: 25,
  },
  sftPolicy: null,
};

/** The presets by name. */
export const HH_PRESETS: Readonly<Record<Preset, HhPreset>> = { full: FULL, tiny: TINY };

/**
 * A preset by name.
 *
 * @param name `full` or `tiny`.
 */
export function hhPreset(name: Preset): HhPreset {
  const preset = HH_PRESETS[name];
  if (!preset) {
    throw new Error(
      `hh preset must be one of ${Object.keys(HH_PRESETS).join(", ")}, got '${name}'`,
    );
  }
  return structuredClone(preset);
}

/**
 * The preset as one stage runs it: the preset-wide settings with the stage's overrides applied.
 *
 * @param preset A preset.
 * @param overrides The stage's own values (e.g. `preset.dpo.overrides`).
 */
export function withStageOverrides(preset: HhPreset, overrides: HhStageOverrides): HhPreset {
  const out = structuredClone(preset);
  for (const [key, value] of Object.entries(structuredClone(overrides))) {
    if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}
