/**
 * GRPO (Group Relative Policy Optimization, Shao et al. 2024) with TRL 1.9's semantics:
 * `numGenerations` completions per prompt, each completion's reward relative to its group as
 * the advantage (`scaleRewards` group/batch/none), the clipped token-level objective with
 * `epsilon`/`epsilonHigh`, an optional k3 KL term (`beta`; no reference is loaded at 0),
 * `numIterations` over each round with its sampling-time log-probs, several reward functions
 * with `rewardWeights` (a function may return `null`), `maskTruncatedCompletions`, and the
 * `lossType` aggregations grpo, bnpo, dr_grpo and dapo. Runs on the one online loop (metrics,
 * checkpoints, exact resume, non-finite loss stop).
 *
 * @example
 * ```ts
 * import { GRPOTrainer } from "@tether/rlhf/grpo";
 * import { loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 *
 * // The examples' tiny offline GPT-2 (SYNTHETIC reviews); any causal LM or Hub id works.
 * const path = "examples/assets/tiny-imdb/policy";
 * const trainer = new GRPOTrainer(
 *   { numGenerations: 4, batchSize: 8, maxCompletionLength: 8, maxSteps: 2, beta: 0.04 },
 *   {
 *     model: await loadCausalLM(path),
 *     tokenizer: await loadTokenizer(path),
 *     rewardFuncs: [(texts) => texts.map((t) => (t.includes("brilliant") ? 1 : 0))],
 *     trainDataset: ["the movie was", "the acting was"],
 *   },
 * );
 * const { steps, lastStats } = await trainer.train();
 * console.log(steps, lastStats?.reward, lastStats?.kl); // 2, the mean reward, the k3 KL
 * ```
 * @module
 */

export {
  GRPO_CONFIG,
  GRPOConfig,
  type GRPOConfigFields,
  type GRPOConfigInput,
  type GRPOConfigValues,
  makeGRPOConfig,
} from "./config.ts";
export { GRPOTrainer } from "./trainer.ts";
export {
  type GrpoAdvantageOptions,
  type GrpoAdvantages,
  grpoAdvantages,
  MULTI_OBJECTIVE_AGGREGATIONS,
  type MultiObjectiveAggregation,
  SCALE_REWARDS,
  type ScaleRewards,
} from "./advantages.ts";
export {
  aggregateTokenLoss,
  GRPO_LOSS_TYPES,
  grpoLoss,
  type GrpoLossInputs,
  type GrpoLossOutput,
  type GrpoLossSettings,
  type GrpoLossType,
} from "./loss.ts";
export * from "../common/group_api.ts";
// Types the API mentions, so its page resolves them (their own pages are core's and report's).
export type { Generator, GeneratorState, Tensor } from "../../core/mod.ts";
