/**
 * "The score of label X" from a native text classifier as a {@link RewardFunction}: e.g. the
 * probability of `joy` under `SamLowe/roberta-base-go_emotions`, softmax over its 28 logits as
 * the go_emotions tutorial computes it.
 *
 * @module
 */

import {
  applyClassificationFunction,
  type ClassificationFunction,
  type TextClassifier,
} from "../models/text_classification.ts";
import type { RewardFunction } from "../algorithms/common/reward_functions.ts";

/** Options of {@link labelScoreReward}. */
export interface LabelScoreRewardOptions {
  /** The rewarded label: its name in `id2label`, or its index. */
  label: string | number;
  /**
   * `softmax` over all labels, `sigmoid` of the label's logit, or `none` (the raw logit).
   * Default: the classifier's own default (the text-classification pipeline's rule: `sigmoid`
   * for a multi-label model such as go_emotions).
   */
  functionToApply?: ClassificationFunction;
}

/** A reward that scores one label; it also says which label and function it uses. */
export interface LabelScoreReward extends RewardFunction {
  /** The classifier's labels, by id. */
  readonly labels: readonly string[];
  /** Index of the rewarded label. */
  readonly labelId: number;
  /** The function applied to the logits. */
  readonly function: ClassificationFunction;
}

/**
 * Wrap a classifier as a reward: one score per text, the chosen label's score.
 *
 * @example
 * ```ts
 * import { loadTextClassifier } from "@tether/rlhf/models";
 * import { labelScoreReward } from "@tether/rlhf/reward";
 * // The go_emotions example's tiny offline classifier; "SamLowe/roberta-base-go_emotions" from
 * // the Hub is the tutorial's.
 * const classifier = await loadTextClassifier("examples/assets/tiny-emotions/classifier");
 * const reward = labelScoreReward(classifier, { label: "joy", functionToApply: "softmax" });
 * const scores = await reward(["what a lovely day", "this is awful"]);
 * ```
 *
 * @param classifier A loaded {@link TextClassifier}.
 * @param options The label and the function.
 * @throws When the label is not one of the classifier's (the error lists them).
 */
export function labelScoreReward(
  classifier: TextClassifier,
  options: LabelScoreRewardOptions,
): LabelScoreReward {
  const labelId = classifier.labelId(options.label);
  const fn = options.functionToApply ?? classifier.defaultFunction;
  if (fn !== "softmax" && fn !== "sigmoid" && fn !== "none") {
    throw new Error(
      `labelScoreReward: functionToApply must be "softmax", "sigmoid" or "none", got "${fn}"`,
    );
  }
  const reward = async (texts: readonly string[]): Promise<number[]> =>
    (await classifier.logits(texts)).map((row) => applyClassificationFunction(row, fn)[labelId]);
  return Object.assign(reward, { labels: classifier.labels, labelId, function: fn });
}
