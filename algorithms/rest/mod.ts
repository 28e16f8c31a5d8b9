/**
 * ReST, Reinforced Self-Training (Gulcehre et al. 2023): Grow (K samples per prompt from the
 * current policy, scored by any reward function, saved as `grow_<g>.jsonl`) and Improve (keep
 * what passes a rising threshold, fine-tune on it with SFT) loops. Thresholds are fixed
 * (τ_1 < … < τ_I, kept when reward > τ_i, as the paper) or trlX's rising per-prompt percentiles
 * (kept when reward ≥ the threshold).
 *
 * The config follows every trainer's rule: snake_case spellings and trlX's `RFTConfig` names
 * (`n_generations_per_prompt`, `n_improve_steps`, `start_percentile`) are accepted, unknown keys
 * refused.
 *
 * @example
 * ```ts
 * import { ReST } from "@tether/rlhf/rest";
 * import { keywordReward } from "@tether/rlhf/reward";
 * import { loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 *
 * // The examples' tiny offline GPT-2 (SYNTHETIC reviews); any causal LM or Hub id works.
 * const model = await loadCausalLM("examples/assets/tiny-imdb/policy");
 * const tokenizer = await loadTokenizer("examples/assets/tiny-imdb/policy");
 * const rest = new ReST({
 *   thresholds: [0, 1], // two Improve steps: keep samples with reward > 0, then > 1
 *   samplesPerPrompt: 8,
 *   generation: { maxNewTokens: 12 },
 *   sft: { learningRate: 1e-3, batchSize: 8 },
 *   seed: 0,
 *   // outputDir: "runs/rest" also writes the Grow sets, metrics.jsonl and checkpoints
 * }, {
 *   model,
 *   tokenizer,
 *   reward: keywordReward({ great: 1, superb: 1, fun: 1, dull: -1, mess: -1 }),
 *   prompts: ["the movie was", "the acting was"],
 *   evalPrompts: ["the plot was"],
 * });
 * const { initialEvalRewardMean, improveSteps } = await rest.run();
 * console.log(initialEvalRewardMean, improveSteps.map((s) => [s.kept, s.evalRewardMean]));
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
  REST_CONFIG,
  REST_TRLX_NAMES,
  type ReSTConfig,
  type ReSTConfigInput,
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
export type { CausalLM } from "../common/trainer.ts";
