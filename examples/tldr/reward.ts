/**
 * The reward of the TL;DR tutorial's PPO stage, as trlX's `reward_fn` computes it: the reward
 * model's score of the sample minus its score of the same post with the reference summary, so a
 * policy is paid for beating the human summary, not for the post.
 *
 * @module
 */

import { type RewardFunction, scoreTexts } from "../../reward/functions.ts";
import { TLDR_CUE } from "./data.ts";

/**
 * RM(sample) − RM(post + "TL;DR: " + reference). The post is the text before `TL;DR:`; its
 * reference is looked up by that post (trimmed), as trlX's `post_summary_dict`.
 *
 * @example
 * ```ts
 * const reward = normalizedReward(rm, new Map([[post.trim(), " my summary"]]));
 * const scores = await reward([post + "TL;DR: a sampled summary"]);
 * ```
 *
 * @param rm Scores whole texts (post and summary).
 * @param references Reference summary by post text (the part before `TL;DR:`, trimmed).
 */
export function normalizedReward(
  rm: RewardFunction,
  references: ReadonlyMap<string, string>,
): RewardFunction {
  return async (texts) => {
    const originals = texts.map((text, i) => {
      const at = text.indexOf(TLDR_CUE);
      if (at < 0) throw new Error(`normalizedReward: sample ${i} has no '${TLDR_CUE}'`);
      const post = text.slice(0, at);
      const reference = references.get(post.trim());
      if (reference === undefined) {
        throw new Error(`normalizedReward: sample ${i}'s post has no reference summary`);
      }
      return `${post}${TLDR_CUE} ${reference.trim()}`;
    });
    const [scores, base] = [await scoreTexts(rm, texts), await scoreTexts(rm, originals)];
    return scores.map((s, i) => s - base[i]);
  };
}
