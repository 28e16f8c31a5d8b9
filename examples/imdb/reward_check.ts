/**
 * The check every IMDB stage starts with: the reward model's pair accuracy on train and test
 * pairs, so a run on a broken or untrained reward model says so before it spends any time.
 *
 * @module
 */

import type { ImdbReward } from "./models.ts";
import type { ImdbPreset } from "./presets.ts";
import { evaluateRewardModel, imdbRewardPairs, tinyRewardPairs } from "./reward_model.ts";

/**
 * The reward model's pair accuracy on train and test pairs (a subset of
 * `preset.accuracyPairs` each).
 *
 * @param preset Which pairs.
 * @param reward The loaded reward model.
 */
export async function rewardModelAccuracy(
  preset: ImdbPreset,
  reward: ImdbReward,
): Promise<{ train: number; test: number }> {
  const n = preset.accuracyPairs;
  const targetLabel = preset.targetLabel;
  const pairs = preset.data === "synthetic"
    ? tinyRewardPairs({ trainPairs: n, testPairs: n, targetLabel })
    : await imdbRewardPairs({ trainPairs: n, testPairs: n, targetLabel });
  const opts = { maxLength: reward.maxLength, batchSize: preset.evalBatchSize };
  return {
    train: await evaluateRewardModel(reward.model, reward.tokenizer, pairs.train, opts),
    test: await evaluateRewardModel(reward.model, reward.tokenizer, pairs.test, opts),
  };
}

/**
 * The line the stages print: "reward model accuracy: train 0.950, test 0.930 (256 pairs each)".
 *
 * @param preset Says how many pairs.
 * @param accuracy Train and test accuracy.
 */
export function rewardAccuracyLine(
  preset: ImdbPreset,
  accuracy: { train: number; test: number },
): string {
  return `reward model accuracy: train ${accuracy.train.toFixed(3)}, test ` +
    `${accuracy.test.toFixed(3)} (${preset.accuracyPairs} pairs each, ${preset.targetLabel} ` +
    `reviews preferred)`;
}
