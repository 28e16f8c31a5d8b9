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
 * import { GRPOConfig, GRPOTrainer } from "@tether/rlhf/grpo";
 * const trainer = new GRPOTrainer(new GRPOConfig({ numGenerations: 4, beta: 0.04 }), {
 *   model,
 *   tokenizer,
 *   rewardFuncs: [(texts) => texts.map((t) => (t.includes("great") ? 1 : 0))],
 *   trainDataset: ["the movie was", "the acting was"],
 * });
 * await trainer.train();
 * ```
 * @module
 */

export {
  GRPOConfig,
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
export {
  type GroupAdvantages,
  type GroupPolicy,
  type GroupPrompt,
  type GroupRewards,
  type GroupRollout,
  type GroupSampling,
  type GroupStats,
  type GroupTokenizer,
  GroupTrainer,
  type GroupTrainerParts,
  type GroupTrainerState,
  type GroupTrainOptions,
} from "../common/group_trainer.ts";
export type { GroupConfigInput, GroupConfigValues, GroupSizes } from "../common/group_config.ts";
export { nanMean, nanStd } from "../common/groups.ts";
export {
  type NamedRewardFunction,
  type OnlineRewardFunction,
  type RewardContext,
  type RewardFunction,
  type ScoredRewards,
} from "../common/reward_functions.ts";
export type { AdapterSwitch, Reference, ReferenceKind } from "../common/reference.ts";
export type { LogitsModel, PolicyModel } from "../common/rollout.ts";
export type { OnlineLoopResult, OnlineQuery } from "../common/online_loop.ts";
export type { MinibatchLoss } from "../common/online_update.ts";
export type { TrainerScheduler } from "../common/trainer.ts";
export { NonFiniteLossError } from "../common/nonfinite.ts";
// Types the API mentions (Tensor and what it references), so the docs resolve them.
export type * from "../../core/mod.ts";
