/**
 * Pairwise (Bradley–Terry) reward modelling: the loss TRL's RewardTrainer minimises,
 * −log σ(r_chosen − r_rejected − margin), with the optional centring term, and pairwise accuracy
 * with strict comparison (a tie counts as wrong).
 *
 * @example
 * ```ts
 * import { bradleyTerryLoss, pairwiseAccuracy } from "@tether/rlhf/reward";
 * const loss = bradleyTerryLoss(rewardsChosen, rewardsRejected);
 * ```
 * @module
 */

export { bradleyTerryLoss, type BradleyTerryOptions, pairwiseAccuracy } from "./loss.ts";
export {
  REWARD_CONFIG,
  type RewardConfig,
  type RewardConfigInput,
  type RewardEvalMetrics,
  RewardTrainer,
  type RewardTrainerParts,
  type ScalarRewardModel,
  type TextPair,
  tokenizeRewardPairs,
} from "./trainer.ts";
export {
  type RewardPair,
  rewardPairs,
  type RewardRow,
  type RewardTextRow,
  tokenizeRewardRow,
} from "./data.ts";
export { rewardModelFunction, type RewardModelFunctionOptions } from "./reward_function.ts";
export type { RewardFunction } from "./functions.ts";
export {
  type ClassifierDtype,
  type ClassifierReward,
  classifierReward,
  type ClassifierRewardOptions,
} from "./classifier.ts";
export type { HubOptions, ProgressSink } from "../models/hub/env.ts";
