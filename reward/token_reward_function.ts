/**
 * A per-token reward model as a {@link RewardFunction}: each text is scored by the reward at
 * its last token, as trlX's summarization `get_scores` reads it (texts wrapped in
 * `<|startoftext|>` … `<|endoftext|>`, cut to `max_length`). So the model plugs into PPO,
 * ReST and best-of-n like any other scorer.
 *
 * @module
 */

import { noGrad, sum, tensor, tidy } from "../core/mod.ts";
import { mul } from "../core/mod.ts";
import { padRight } from "../algorithms/common/batching.ts";
import type { RewardFunction } from "../algorithms/common/reward_functions.ts";
import type { TokenRewardModel } from "./gpt2_token_reward_model.ts";

/** The text trlX's summarization recipe puts before each text it scores. */
export const TLDR_RM_PREFIX = "<|startoftext|>";

/** A tokenizer as the reward model's helpers use it. */
export interface TokenRewardTokenizer {
  /** Token ids of a text, without special tokens added. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** EOS id, appended after each text when it fits. */
  eosTokenId?: number | null;
  /** Padding id (default: EOS). */
  padTokenId?: number | null;
}

/** How texts become scored token rows. */
export interface TokenRowOptions {
  /** Longest model input, EOS included (trlX: `max_length`, 550); longer texts are cut. */
  maxLength?: number | null;
  /** Text put before each text (default `<|startoftext|>`, as trlX; "" for none). */
  prefix?: string;
}

/**
 * The scored tokens of a text as trlX builds them: `prefix + text`, cut to leave room for the
 * EOS within `maxLength` (or to `maxLength` itself when the EOS no longer fits).
 *
 * @param tokenizer The reward model's tokenizer.
 * @param text The text.
 * @param options Length limit and prefix.
 * @returns The row and whether the text was cut.
 */
export function tokenRewardRow(
  tokenizer: TokenRewardTokenizer,
  text: string,
  options: TokenRowOptions = {},
): { row: number[]; truncated: boolean } {
  const ids = tokenizer.encode((options.prefix ?? TLDR_RM_PREFIX) + text, {
    addSpecialTokens: false,
  });
  const max = options.maxLength ?? null;
  const withEos = tokenizer.eosTokenId === undefined || tokenizer.eosTokenId === null ? 0 : 1;
  if (max === null || ids.length + withEos <= max) return { row: ids, truncated: false };
  return { row: ids.slice(0, max), truncated: true };
}

/** Options of {@link tokenRewardFunction}. */
export interface TokenRewardFunctionOptions extends TokenRowOptions {
  /** Texts per forward (default 8). */
  batchSize?: number;
}

/**
 * Wrap a per-token reward model as a reward function: texts in, the reward at each text's last
 * token out (computed in eval mode without gradients, one readback per batch).
 *
 * @example
 * ```ts
 * import { loadTokenizer } from "@tether/rlhf/models";
 * import { loadGpt2TokenRewardModel, tokenRewardFunction } from "@tether/rlhf/reward";
 *
 * // The TL;DR examples' tiny offline reward model (SYNTHETIC posts); a trained one, e.g.
 * // runs/tldr_reward_model-full/model, loads the same way.
 * const rm = await loadGpt2TokenRewardModel("examples/assets/tiny-tldr/reward");
 * const tokenizer = await loadTokenizer("examples/assets/tiny-tldr/reward");
 * const reward = tokenRewardFunction(rm, tokenizer, { maxLength: 160 });
 * const post = "SUBREDDIT: r/relationships\nTITLE: my roommate eats my food\nPOST: every day.\nTL;DR:";
 * const scores = await reward([post + " my roommate keeps eating my food.", post + " i like pasta."]);
 * console.log(scores); // one score per text
 * ```
 *
 * @param model The reward model.
 * @param tokenizer Its tokenizer.
 * @param options Length limit, prefix and batch size.
 */
export function tokenRewardFunction(
  model: TokenRewardModel,
  tokenizer: TokenRewardTokenizer,
  options: TokenRewardFunctionOptions = {},
): RewardFunction {
  const batchSize = options.batchSize ?? 8;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new Error(`tokenRewardFunction: batchSize must be an integer >= 1, got ${batchSize}`);
  }
  const eos = tokenizer.eosTokenId ?? null;
  const pad = tokenizer.padTokenId ?? eos ?? 0;
  const max = options.maxLength ?? null;
  return async (texts) => {
    const rows = texts.map((text, i) => {
      if (typeof text !== "string") {
        throw new TypeError(`tokenRewardFunction: text ${i} is ${typeof text}, not a string`);
      }
      const { row } = tokenRewardRow(tokenizer, text, options);
      if (row.length === 0) {
        throw new Error(`tokenRewardFunction: text ${i} has no tokens; a reward needs one`);
      }
      return row;
    });
    const backend = model.parameters()[0]?.backend.name;
    const scores: number[] = [];
    model.eval?.();
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = rows.slice(start, start + batchSize);
      const inputs = batch.map((r) =>
        eos !== null && (max === null || r.length < max) ? [...r, eos] : r
      );
      const padded = padRight(inputs, pad);
      const t = padded.length, b = batch.length;
      const pick = new Float32Array(b * t);
      batch.forEach((r, i) => (pick[i * t + r.length - 1] = 1));
      const out = noGrad(() =>
        tidy(() => {
          const { rewards } = model.forward({
            inputIds: tensor(padded.ids, [b, t], { backend }),
            attentionMask: tensor(padded.mask, [b, t], { backend }),
          });
          return sum(mul(rewards, tensor(pick, [b, t], { backend })), { axis: 1 });
        })
      );
      scores.push(...await out.toArray());
      out.dispose();
    }
    return scores;
  };
}
