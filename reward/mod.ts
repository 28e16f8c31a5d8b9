/**
 * Pairwise (Bradley–Terry) reward modelling: the loss TRL's RewardTrainer minimises,
 * −log σ(r_chosen − r_rejected − margin), with the optional centring term, and pairwise accuracy
 * with strict comparison (a tie counts as wrong).
 *
 * `RewardTrainer` takes TRL's config names and TRL's datasets (`chosen` / `rejected` text or
 * conversations, with an optional `prompt`), or token ids. Reward functions share one
 * signature (texts in, scores out): a trained model (`rewardModelFunction`), a frozen classifier
 * (`classifierReward`) or plain code (`keywordReward`, `lengthReward`).
 *
 * @example
 * ```ts
 * import { tensor } from "@tether/rlhf/core";
 * import { bradleyTerryLoss, pairwiseAccuracy } from "@tether/rlhf/reward";
 *
 * const rewardsChosen = tensor([2, 0.5, -1]);
 * const rewardsRejected = tensor([1, 0.5, -3]);
 * const loss = bradleyTerryLoss(rewardsChosen, rewardsRejected); // −mean log σ(r_c − r_r)
 * const accuracy = pairwiseAccuracy(rewardsChosen, rewardsRejected); // a tie counts as wrong
 * console.log(await loss.item(), await accuracy.item()); // 0.3778 0.6667
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
  TOKEN_REWARD_CONFIG,
  type TokenPairScores,
  type TokenRewardConfig,
  type TokenRewardConfigInput,
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
export type { GPT2Config, GPT2Model } from "../models/gpt2/mod.ts";
export type { Dropout, Linear, Module } from "../core/nn/mod.ts";
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
