/**
 * ReST settings with their defaults and validation; errors name the field, the bad value and
 * the fix.
 *
 * @module
 */

import { type ReportTarget, resolveReportTo } from "../../report/run_files.ts";
import { resolveSampleLog, type SampleLogSettings } from "../../report/samples.ts";
import type { SFTConfig } from "../sft/trainer.ts";
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
   * `{ startPercentile: 0.7, endPercentile: 0.95 }` (trlX's).
   */
  thresholds?: ThresholdSchedule;
  /** Add the dataset's own completions to every Grow set (the paper's `∪ D`; default true). */
  includeDataset?: boolean;
  /** Score prompt + completion text (default, as best-of-n) or the completion alone. */
  rewardInput?: RewardInput;
  /** Sampling settings for Grow and evaluation. */
  generation?: ReSTGenerationSettings;
  /** Rows per generation call (default 64). */
  generationBatchSize?: number;
  /** Samples per held-out prompt when evaluating (default 4). */
  evalSamplesPerPrompt?: number;
  /**
   * Training settings of each Improve step's SFT run (learning rate, batch size, epochs,
   * `completionOnlyLoss` (default true), ...). `outputDir`, `seed` and `progress` are set by ReST.
   */
  sft?: Omit<SFTConfig, "outputDir" | "seed">;
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

/** trlX's `RFTConfig` percentiles. */
export const DEFAULT_PERCENTILE_SCHEDULE: Readonly<PercentileSchedule> = Object.freeze({
  startPercentile: 0.7,
  endPercentile: 0.95,
});

/**
 * Fill in defaults and validate.
 *
 * @param config User settings.
 */
export function resolveReSTConfig(config: ReSTConfig = {}): ResolvedReSTConfig {
  const where = "ReST";
  const fail = (field: string, value: unknown, rule: string): never => {
    throw new Error(`${where}: ${field} must be ${rule}, got ${JSON.stringify(value) ?? value}`);
  };
  const intAtLeast1 = (field: string, v: unknown) => {
    if (!(Number.isInteger(v) && (v as number) >= 1)) fail(field, v, "an integer >= 1");
  };
  const thresholds = config.thresholds ?? DEFAULT_PERCENTILE_SCHEDULE;
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
  intAtLeast1("improveSteps", improveSteps);
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
  intAtLeast1("growSteps", resolved.growSteps);
  intAtLeast1("samplesPerPrompt", resolved.samplesPerPrompt);
  intAtLeast1("generationBatchSize", resolved.generationBatchSize);
  intAtLeast1("evalSamplesPerPrompt", resolved.evalSamplesPerPrompt);
  intAtLeast1("generation.maxNewTokens", resolved.generation.maxNewTokens);
  if (!["prompt_completion", "completion"].includes(resolved.rewardInput)) {
    fail("rewardInput", resolved.rewardInput, `"prompt_completion" or "completion"`);
  }
  if (!Number.isInteger(resolved.seed)) fail("seed", resolved.seed, "an integer");
  if (resolved.saveCheckpoints && resolved.outputDir === null) {
    fail("outputDir", null, "a folder when saveCheckpoints is true (checkpoints go there)");
  }
  for (const key of ["outputDir", "seed"]) {
    if (key in resolved.sft) {
      throw new Error(
        `${where}: sft.${key} is set by ReST (one SFT run per Improve step); set config.${key}`,
      );
    }
  }
  return resolved;
}
