/**
 * The part of the GRPO and RLOO APIs they share (the group trainer, its parts and results, and
 * what those mention), re-exported by both entry points.
 *
 * @module
 */

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
} from "./group_trainer.ts";
export type { GroupConfigInput, GroupConfigValues, GroupSizes } from "./group_config.ts";
export { nanMean, nanStd } from "./groups.ts";
export {
  type NamedRewardFunction,
  type OnlineRewardFunction,
  type RewardContext,
  type RewardFunction,
  type ScoredRewards,
} from "./reward_functions.ts";
export type { AdapterSwitch, Reference, ReferenceKind } from "./reference.ts";
export type { LogitsModel, PolicyModel } from "./rollout.ts";
export type { OnlineLoopResult, OnlineQuery } from "./online_loop.ts";
export type { MinibatchLoss } from "./online_update.ts";
export type { TrainerScheduler } from "./trainer.ts";
export { NonFiniteLossError } from "./nonfinite.ts";
// Types the API mentions (rows, optimizers, schedulers, progress sinks), so the docs resolve them.
export type * from "./mod.ts";
