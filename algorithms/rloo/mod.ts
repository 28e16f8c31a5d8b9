/**
 * RLOO (REINFORCE Leave-One-Out, Ahmadian et al. 2024) with TRL 1.9's semantics:
 * `numGenerations` completions per prompt, each reward less β times the completion's sequence
 * KL to the reference (k1 summed over its tokens, β = 0.05 by default), the mean reward of the
 * other completions of the prompt as the baseline, optional `normalizeAdvantages`, and the
 * clipped objective on each whole completion's probability ratio. Runs on the one online loop
 * (metrics, checkpoints, exact resume, non-finite loss stop).
 *
 * @example
 * ```ts
 * import { RLOOConfig, RLOOTrainer } from "@tether/rlhf/rloo";
 * const trainer = new RLOOTrainer(new RLOOConfig({ numGenerations: 4 }), {
 *   model,
 *   tokenizer,
 *   rewardFuncs: [(texts) => texts.map((t) => t.length / 100)],
 *   trainDataset: ["the movie was", "the acting was"],
 * });
 * await trainer.train();
 * ```
 * @module
 */

export {
  makeRLOOConfig,
  RLOOConfig,
  type RLOOConfigInput,
  type RLOOConfigValues,
} from "./config.ts";
export { RLOOTrainer } from "./trainer.ts";
export { type RlooAdvantageOptions, type RlooAdvantages, rlooAdvantages } from "./advantages.ts";
export {
  rlooLoss,
  type RlooLossInputs,
  type RlooLossOutput,
  type RlooLossSettings,
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
