/**
 * ReST settings with their defaults and validation; errors name the field, the bad value and
 * the fix. The config follows the rule of every trainer's: each field (nested `generation` and
 * `sft` ones too) is also accepted under its snake_case spelling, trlX's `RFTConfig` names are
 * aliases (`n_generations_per_prompt` → `samplesPerPrompt`, `n_improve_steps` →
 * `improveSteps`, `gen_kwargs` → `generation`), and unknown keys are refused with the closest
 * valid name.
 *
 * @module
 */

import { z } from "zod";
import { type ReportTarget, resolveReportTo } from "../../report/run_files.ts";
import { resolveSampleLog, type SampleLogSettings } from "../../report/samples.ts";
import type { ConfigInput, ConfigParser } from "../common/config_schema.ts";
import { strictConfig } from "../common/config_schema.ts";
import { SFT_CONFIG, type SFTConfig, type SFTConfigInput } from "../sft/trainer.ts";
import {
  checkFixedThresholds,
  checkPercentileSchedule,
  isFixed,
  type PercentileSchedule,
  type ThresholdSchedule,
} from "./thresholds.ts";

/** Sampling settings of the Grow step and the held-out evaluation (models/generate's names). */
export interface ReSTGenerationSettings {
  /** Most new tokens per sample (default 20). */
  maxNewTokens?: number;
  /** EOS is masked until a sample has this many new tokens (default 0). */
  minNewTokens?: number;
  /** Sample (default true); false takes the most likely token, so all K samples agree. */
  doSample?: boolean;
  /** Divides the logits before sampling (default 1). */
  temperature?: number;
  /** Sample among the k most likely tokens (0 = off, the default). */
  topK?: number;
  /** Nucleus sampling mass (1 = off, the default). */
  topP?: number;
  /** Stop token (default: the model's). */
  eosTokenId?: number | null;
  /** Padding token (default: the model's, else EOS, else 0). */
  padTokenId?: number;
}

/** What a reward function sees of a sample. */
export type RewardInput = "prompt_completion" | "completion";

/** Settings of {@link ReST}; every field has a default. */
export interface ReSTConfig {
  /** G, the number of Grow steps (default 1; the paper keeps it at 1–2). */
  growSteps?: number;
  /**
   * I, the number of Improve steps per Grow step (default: the number of fixed thresholds,
   * else 4 as trlX's `n_improve_steps`).
   */
  improveSteps?: number;
  /** K, samples drawn from the policy per prompt in each Grow step (default 8). */
  samplesPerPrompt?: number;
  /**
   * Fixed thresholds τ_1 < … < τ_I, kept when reward > τ_i (the paper), or a percentile
   * schedule, kept when reward ≥ the per-prompt quantile (trlX). Default
   * `{ startPercentile: 0.7, endPercentile: 0.95 }` (trlX's); trlX's `start_percentile` /
   * `end_percentile` spellings are accepted.
   */
  thresholds?: ThresholdSchedule | { start_percentile: number; end_percentile: number };
  /** Add the dataset's own completions to every Grow set (the paper's `∪ D`; default true). */
  includeDataset?: boolean;
  /** Score prompt + completion text (default, as best-of-n) or the completion alone. */
  rewardInput?: RewardInput;
  /** Sampling settings for Grow and evaluation (snake_case names accepted: `max_new_tokens`). */
  generation?: ConfigInput<ReSTGenerationSettings>;
  /** Rows per generation call (default 64). */
  generationBatchSize?: number;
  /** Samples per held-out prompt when evaluating (default 4). */
  evalSamplesPerPrompt?: number;
  /**
   * Training settings of each Improve step's SFT run (learning rate, batch size, epochs,
   * `completionOnlyLoss` (default true), ...), under any name `SFTTrainer` accepts. `outputDir`
   * and `seed` are set by ReST.
   */
  sft?: Omit<SFTConfigInput, "outputDir" | "seed" | "output_dir">;
  /** Folder for `grow_<g>.jsonl`, `metrics.jsonl`, the checkpoint and SFT logs (null: none). */
  outputDir?: string | null;
  /** Save `<outputDir>/checkpoint` after each Improve step (default true with an outputDir). */
  saveCheckpoints?: boolean;
  /** Seed of sampling and data order (default 42). */
  seed?: number;
  /** Progress lines on standard error (default false). */
  progress?: boolean;
  /** Also write TensorBoard event files (`"tensorboard"`), here and in each SFT run's folder. */
  reportTo?: ReportTarget | readonly ReportTarget[] | "none";
  /**
   * Log a table of samples with their rewards every this many Grow steps (and at the first and
   * the last), and the held-out samples after each evaluation: to `samples.jsonl` and
   * TensorBoard. Default 1; 0 turns it off.
   */
  logSamplesEvery?: number;
  /** Rows per sample table: the first sample of that many prompts (default 4). */
  logSamplesCount?: number;
}

/** {@link ReSTConfig} with every default filled in. */
export interface ResolvedReSTConfig {
  /** G. */
  growSteps: number;
  /** I. */
  improveSteps: number;
  /** K. */
  samplesPerPrompt: number;
  /** The threshold schedule. */
  thresholds: ThresholdSchedule;
  /** Whether dataset completions join the Grow set. */
  includeDataset: boolean;
  /** What the reward function scores. */
  rewardInput: RewardInput;
  /** Sampling settings (`doSample` and `maxNewTokens` filled in). */
  generation: ReSTGenerationSettings & { maxNewTokens: number; doSample: boolean };
  /** Rows per generation call. */
  generationBatchSize: number;
  /** Samples per held-out prompt. */
  evalSamplesPerPrompt: number;
  /** SFT settings of each Improve step. */
  sft: Omit<SFTConfig, "outputDir" | "seed">;
  /** Output folder or null. */
  outputDir: string | null;
  /** Whether checkpoints are written. */
  saveCheckpoints: boolean;
  /** Seed. */
  seed: number;
  /** Progress lines. */
  progress: boolean;
  /** TensorBoard or not. */
  reportTo: readonly ReportTarget[];
  /** Sample tables: cadence (Grow steps) and rows. */
  logSamples: SampleLogSettings;
}

/** trlX's `RFTConfig` names that are not a field's snake_case spelling. */
export const REST_TRLX_NAMES = {
  n_generations_per_prompt: "samplesPerPrompt",
  n_improve_steps: "improveSteps",
  gen_kwargs: "generation",
} as const;

/** What {@link ReST} accepts: {@link ReSTConfig} under Tether's, snake_case or trlX's names. */
export type ReSTConfigInput = ConfigInput<ReSTConfig, typeof REST_TRLX_NAMES>;

const intAtLeast = (min: number) =>
  z.number().int().min(min).describe(`an integer >= ${min}`).optional();

const GENERATION = strictConfig<ReSTGenerationSettings>(
  "ReST generation",
  z.object({
    maxNewTokens: intAtLeast(1),
    minNewTokens: intAtLeast(0),
    doSample: z.boolean().describe("true or false").optional(),
    temperature: z.number().gt(0).describe("a number > 0").optional(),
    topK: intAtLeast(0),
    topP: z.number().gt(0).max(1).describe("a number in (0, 1]").optional(),
    eosTokenId: z.number().int().min(0).nullable().describe("a token id, or null").optional(),
    padTokenId: z.number().int().min(0).describe("a token id").optional(),
  }),
);

const SFT_IN_REST = SFT_CONFIG.omit(
  "ReST sft",
  ["outputDir", "seed"],
  (field) => `is set by ReST (one SFT run per Improve step); set config.${field}`,
);

/** Validates {@link ReSTConfig}s (values are checked further by {@link resolveReSTConfig}). */
export const REST_CONFIG: ConfigParser<ReSTConfig> = strictConfig<ReSTConfig>(
  "ReST",
  z.object({
    growSteps: intAtLeast(1),
    improveSteps: intAtLeast(1),
    samplesPerPrompt: intAtLeast(1),
    // The values are checked by checkFixedThresholds / checkPercentileSchedule, which name the
    // index and say what is wrong.
    thresholds: z.union([
      z.array(z.unknown()),
      z.object({ startPercentile: z.unknown(), endPercentile: z.unknown() }),
    ]).describe("a list τ_1 < … < τ_I, or { startPercentile, endPercentile }").optional(),
    includeDataset: z.boolean().describe("true or false").optional(),
    rewardInput: z.enum(["prompt_completion", "completion"])
      .describe(`"prompt_completion" or "completion"`).optional(),
    generation: (GENERATION.schema as z.ZodObject).optional(),
    generationBatchSize: intAtLeast(1),
    evalSamplesPerPrompt: intAtLeast(1),
    sft: (SFT_IN_REST.schema as z.ZodObject).optional(),
    outputDir: z.string().min(1).nullable().describe("a folder path, or null").optional(),
    saveCheckpoints: z.boolean().describe("true or false").optional(),
    seed: z.number().int().describe("an integer").optional(),
    progress: z.boolean().describe("true or false").optional(),
    reportTo: z.unknown().optional(),
    logSamplesEvery: z.unknown().optional(),
    logSamplesCount: z.unknown().optional(),
  }),
  { trlNames: REST_TRLX_NAMES },
);

/** trlX's `RFTConfig` percentiles. */
export const DEFAULT_PERCENTILE_SCHEDULE: Readonly<PercentileSchedule> = Object.freeze({
  startPercentile: 0.7,
  endPercentile: 0.95,
});

/**
 * Fill in defaults and validate.
 *
 * @param input User settings (any accepted spelling).
 */
export function resolveReSTConfig(input: ReSTConfigInput = {}): ResolvedReSTConfig {
  const where = "ReST";
  const config = REST_CONFIG.parse(input) as ReSTConfig & {
    generation?: ReSTGenerationSettings;
    sft?: Omit<SFTConfig, "outputDir" | "seed">;
  };
  const fail = (field: string, value: unknown, rule: string): never => {
    throw new Error(`${where}: ${field} must be ${rule}, got ${JSON.stringify(value) ?? value}`);
  };
  const thresholds = (config.thresholds ?? DEFAULT_PERCENTILE_SCHEDULE) as ThresholdSchedule;
  if (isFixed(thresholds)) {
    if (thresholds.length === 0) {
      fail("thresholds", thresholds, "a non-empty list τ_1 < … < τ_I or a percentile schedule");
    }
    checkFixedThresholds(where, thresholds);
  } else if (typeof thresholds === "object" && thresholds !== null) {
    checkPercentileSchedule(where, thresholds);
  } else {
    fail("thresholds", thresholds, "a list τ_1 < … < τ_I or { startPercentile, endPercentile }");
  }
  const improveSteps = config.improveSteps ?? (isFixed(thresholds) ? thresholds.length : 4);
  if (isFixed(thresholds) && thresholds.length !== improveSteps) {
    throw new Error(
      `${where}: thresholds has ${thresholds.length} values but improveSteps is ${improveSteps}; ` +
        `give one threshold per Improve step (or leave improveSteps out)`,
    );
  }
  const resolved: ResolvedReSTConfig = {
    growSteps: config.growSteps ?? 1,
    improveSteps,
    samplesPerPrompt: config.samplesPerPrompt ?? 8,
    thresholds,
    includeDataset: config.includeDataset ?? true,
    rewardInput: config.rewardInput ?? "prompt_completion",
    generation: {
      ...config.generation,
      maxNewTokens: config.generation?.maxNewTokens ?? 20,
      doSample: config.generation?.doSample ?? true,
    },
    generationBatchSize: config.generationBatchSize ?? 64,
    evalSamplesPerPrompt: config.evalSamplesPerPrompt ?? 4,
    sft: { ...config.sft },
    outputDir: config.outputDir ?? null,
    saveCheckpoints: config.saveCheckpoints ?? (config.outputDir != null),
    seed: config.seed ?? 42,
    progress: config.progress ?? false,
    reportTo: resolveReportTo(where, config.reportTo),
    logSamples: resolveSampleLog(where, config.logSamplesEvery, config.logSamplesCount, 1),
  };
  if (resolved.saveCheckpoints && resolved.outputDir === null) {
    fail("outputDir", null, "a folder when saveCheckpoints is true (checkpoints go there)");
  }
  return resolved;
}
