/**
 * The reward of the TL;DR tutorial's PPO stage, as trlX's `reward_fn` computes it: the reward
 * model's score of the sample minus its score of the same post with the reference summary, so a
 * policy is paid for beating the human summary, not for the post.
 *
 * @module
 */

import { type RewardFunction, scoreTexts } from "../../reward/mod.ts";
import { policyPrompt, type SftRow, TLDR_CUE, type TldrTokenizer } from "./data.ts";

/**
 * trlX's `post_summary_dict`: each row's reference summary by the policy prompt built from it
 * (`policyPrompt`), the key `normalizedReward` looks samples up by.
 *
 * @param rows SFT rows.
 * @param tokenizer The policy's tokenizer.
 * @param maxLength Longest prompt (trlX: seq_length − max_new_tokens).
 */
export function postSummaryDict(
  rows: readonly SftRow[],
  tokenizer: TldrTokenizer,
  maxLength: number,
): Map<string, string> {
  return new Map(
    rows.map((row) => [policyPrompt(row.prompt, tokenizer, maxLength).text.trim(), row.label]),
  );
}

/**
 * RM(sample) − RM(prompt + " " + reference), as trlX's `reward_fn`: the prompt is the sample up
 * to and including `TL;DR:`, and its reference is looked up by that prompt (trimmed), as
 * trlX's `post_summary_dict` (build it with `postSummaryDict`).
 *
 * @example
 * ```ts
 * import { normalizedReward } from "./reward.ts";
 *
 * // A reward model stand-in that pays for shorter texts; a trained one goes here the same way.
 * const rm = (texts: readonly string[]) => texts.map((t) => -t.length / 100);
 * const prompt = "My cat sleeps all day and ignores me.\nTL;DR:";
 * const reward = normalizedReward(rm, new Map([[prompt, " my cat ignores me all day long"]]));
 * const [score] = await reward([prompt + " cat ignores me"]);
 * if (!(score > 0)) throw new Error("a shorter summary than the reference scores above 0");
 * ```
 *
 * @param rm Scores whole texts (post and summary).
 * @param references Reference summary by policy prompt (ending in `TL;DR:`, trimmed).
 */
export function normalizedReward(
  rm: RewardFunction,
  references: ReadonlyMap<string, string>,
): RewardFunction {
  return async (texts) => {
    const originals = texts.map((text, i) => {
      const at = text.indexOf(TLDR_CUE);
      if (at < 0) throw new Error(`normalizedReward: sample ${i} has no '${TLDR_CUE}'`);
      const prompt = text.slice(0, at + TLDR_CUE.length);
      const reference = references.get(prompt.trim());
      if (reference === undefined) {
        throw new Error(`normalizedReward: sample ${i}'s prompt has no reference summary`);
      }
      return `${prompt} ${reference}`;
    });
    const [scores, base] = [await scoreTexts(rm, texts), await scoreTexts(rm, originals)];
    return scores.map((s, i) => s - base[i]);
  };
}
