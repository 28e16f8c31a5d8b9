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
  type RewardConfig,
  type RewardEvalMetrics,
  type RewardPair,
  RewardTrainer,
  type RewardTrainerParts,
  type ScalarRewardModel,
  type TextPair,
  tokenizeRewardPairs,
} from "./trainer.ts";
export { rewardModelFunction, type RewardModelFunctionOptions } from "./reward_function.ts";
export {
  keywordReward,
  lengthReward,
  type NamedRewardFunction,
  type OnlineRewardFunction,
  type RewardContext,
  type RewardFunction,
  scoreTexts,
} from "../algorithms/common/reward_functions.ts";
export {
  type ClassifierDtype,
  type ClassifierReward,
  classifierReward,
  type ClassifierRewardOptions,
} from "./classifier.ts";
export {
  type LabelScoreReward,
  labelScoreReward,
  type LabelScoreRewardOptions,
} from "./label_score.ts";
// The per-token reward model of trlX's TL;DR summarization recipe.
export {
  type FrozenBlocks,
  GPT2TokenRewardModel,
  loadGpt2TokenRewardModel,
  type LoadTokenRewardModelOptions,
  TOKEN_REWARD_ARCHITECTURE,
  type TokenRewardModel,
} from "./gpt2_token_reward_model.ts";
export { type PairSpan, pairSpan } from "./token_span.ts";
export {
  type PairScoreAt,
  tokenPairCorrect,
  type TokenPairLoss,
  tokenPairLoss,
  type TokenPairLossOptions,
} from "./token_reward_loss.ts";
export {
  type TokenPairScores,
  type TokenRewardConfig,
  type TokenRewardEvalMetrics,
  type TokenRewardPair,
  TokenRewardTrainer,
  type TokenRewardTrainerParts,
} from "./token_reward_trainer.ts";
export {
  TLDR_RM_PREFIX,
  tokenRewardFunction,
  type TokenRewardFunctionOptions,
  tokenRewardRow,
  type TokenRewardTokenizer,
  type TokenRowOptions,
} from "./token_reward_function.ts";
// Types the per-token reward model's API mentions, so the docs resolve them.
export type * from "../models/gpt2/mod.ts";
export type * from "../core/nn/mod.ts";
export type {
  GenerateOptions,
  GenerateResult,
  HostArray,
  HostTensor,
  ScoreHead,
  StateDict,
  StoredDType,
  TokenMatrix,
  ValueHead,
  ValueHeadOptions,
} from "../models/mod.ts";
export type { HubOptions, ProgressSink } from "../models/hub/env.ts";
// Types the API mentions (Tensor, the shared trainer types and what they reference), so the docs
// resolve them.
export type * from "../core/mod.ts";
export type * from "../algorithms/common/mod.ts";
