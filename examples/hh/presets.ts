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

/** Settings of the DPO example. */
export interface HhDpoSettings extends HhSftSettings {
  /** β of the implicit KL constraint. */
  beta: number;
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

/** Everything that differs between the full and the tiny run. */
export interface HhPreset {
  /** Preset name. */
  name: Preset;
  /** Policy: a Hub id or a local folder (GPT-2 family). */
  policy: string;
  /**
   * Reward model folder or Hub id (a 1-label sequence classifier with its tokenizer), or null:
   * the full preset then scores with a plain-code stand-in unless `--reward-model` names one.
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
  /** Longest prompt in tokens; rows with longer prompts are skipped. */
  maxPromptLength: number;
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
}

/** Hub id of the full preset's policy. */
export const FULL_POLICY = "gpt2";

const assets = (path: string) =>
  fileURLToPath(new URL(`../assets/tiny-imdb/${path}`, import.meta.url));

/** GPT-2 small on hh-rlhf, at TRL's usual learning rates. */
const FULL: HhPreset = {
  name: "full",
  policy: FULL_POLICY,
  rewardModel: null,
  data: "hh-rlhf",
  trainExamples: 20_000,
  testExamples: 256,
  maxLength: 512,
  maxPromptLength: 384,
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
  dpo: {
    learningRate: 5e-5,
    batchSize: 8,
    maxSteps: 1000,
    warmupSteps: 50,
    evalSteps: 250,
    saveSteps: 250,
    beta: 0.1,
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
    beta: 0.1,
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
