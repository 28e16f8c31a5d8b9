/**
 * ReST, Reinforced Self-Training (Gulcehre et al. 2023): Grow (K samples per prompt from the
 * current policy, scored by any reward function, saved as `grow_<g>.jsonl`) and Improve (keep
 * what passes a rising threshold, fine-tune on it with SFT) loops. Thresholds are fixed
 * (τ_1 < … < τ_I, kept when reward > τ_i, as the paper) or trlX's rising per-prompt percentiles
 * (kept when reward ≥ the threshold).
 *
 * @example
 * ```ts
 * import { ReST } from "@tether/rlhf/rest";
 * import { keywordReward } from "@tether/rlhf/reward";
 * const rest = new ReST({
 *   thresholds: [0.5, 1.5], // two Improve steps
 *   samplesPerPrompt: 16,
 *   generation: { maxNewTokens: 16 },
 *   sft: { learningRate: 1e-5, batchSize: 8 },
 *   outputDir: "runs/rest",
 * }, {
 *   model, // e.g. GPT-2 from loadCausalLM
 *   tokenizer,
 *   reward: keywordReward({ great: 1, awful: -1 }),
 *   prompts: ["the movie was"],
 *   evalPrompts: ["the plot was"],
 * });
 * const { initialEvalRewardMean, improveSteps } = await rest.run();
 * ```
 * @module
 */

export {
  type EvalResult,
  type GrowResult,
  type ImproveResult,
  ReST,
  type ReSTParts,
  type ReSTRunOptions,
  type ReSTRunResult,
} from "./rest.ts";
export {
  DEFAULT_PERCENTILE_SCHEDULE,
  type ResolvedReSTConfig,
  resolveReSTConfig,
  type ReSTConfig,
  type ReSTGenerationSettings,
  type RewardInput,
} from "./config.ts";
export {
  growFileName,
  type GrowOptions,
  type GrowPrompt,
  type GrowSample,
  growSamples,
  readGrowFile,
  type ReSTGenerateFn,
  type ReSTTokenizer,
  writeGrowFile,
} from "./grow.ts";
export { EmptyImproveSetError, type ImproveSelection, selectForImprove } from "./improve.ts";
export {
  checkFixedThresholds,
  checkPercentileSchedule,
  isFixed,
  keptIndices,
  type PercentileSchedule,
  percentileThresholds,
  quantileLinear,
  scheduledPercentile,
  type StepThresholds,
  type ThresholdComparison,
  type ThresholdSchedule,
  thresholdsForStep,
} from "./thresholds.ts";
export type { RewardFunction } from "../common/reward_functions.ts";
export type { SFTConfig } from "../sft/trainer.ts";
export type { CausalLM } from "../common/trainer.ts";
// Types the API mentions, so the docs resolve them.
export type * from "../../core/mod.ts";
export type * from "../common/mod.ts";
