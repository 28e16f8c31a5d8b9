/**
 * A trained scalar reward model as a {@link RewardFunction}, so it plugs into best-of-n, PPO and
 * ReST like any other scorer.
 *
 * @module
 */

import { noGrad, reshape, tensor, tidy } from "../core/mod.ts";
import { padRight } from "../algorithms/common/batching.ts";
import type { RewardFunction } from "../algorithms/common/reward_functions.ts";
import type { ScalarRewardModel } from "./trainer.ts";

/** Options of {@link rewardModelFunction}. */
export interface RewardModelFunctionOptions {
  /** Texts per forward (default 16). */
  batchSize?: number;
  /** Keep at most this many tokens of each text, from the start (default: all). */
  maxLength?: number;
  /** Append the EOS id when a text's ids do not end with it (as the model was trained). */
  appendEos?: boolean;
  /** Pad id (default: the tokenizer's pad, else EOS, else 0; padding is masked). */
  padTokenId?: number;
}

/**
 * Wrap a reward model and its tokenizer as a reward function: texts in, one score each out,
 * computed in eval mode without gradients, one readback per batch.
 *
 * @example
 * ```ts
 * import { loadSequenceClassifier, loadTokenizer } from "@tether/rlhf/models";
 * import { rewardModelFunction } from "@tether/rlhf/reward";
 *
 * // The examples' tiny offline reward model (SYNTHETIC reviews); any trained one works.
 * const path = "examples/assets/tiny-imdb/reward";
 * const model = await loadSequenceClassifier(path);
 * const reward = rewardModelFunction(model, await loadTokenizer(path), { batchSize: 32 });
 * const [good, bad] = await reward(["a wonderful film.", "a dull film."]);
 * console.log(good > bad, good.toFixed(2), bad.toFixed(2));
 * ```
 *
 * @param model A model whose forward returns `logits` [B, 1].
 * @param tokenizer Anything with `encode(text) → ids` (pad/EOS ids optional).
 * @param options Batch size, truncation, EOS and padding.
 */
export function rewardModelFunction(
  model: ScalarRewardModel,
  tokenizer: {
    encode(text: string): number[];
    padTokenId?: number | null;
    eosTokenId?: number | null;
  },
  options: RewardModelFunctionOptions = {},
): RewardFunction {
  const batchSize = options.batchSize ?? 16;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new Error(`rewardModelFunction: batchSize must be an integer >= 1, got ${batchSize}`);
  }
  const eos = tokenizer.eosTokenId ?? undefined;
  if (options.appendEos && eos === undefined) {
    throw new Error("rewardModelFunction: appendEos needs a tokenizer with an eosTokenId");
  }
  const pad = options.padTokenId ?? tokenizer.padTokenId ?? eos ?? 0;
  // Named, so online trainers log it as `rewards/reward_model/mean`.
  const reward_model: RewardFunction = async (texts) => {
    const rows = texts.map((text, i) => {
      let ids = tokenizer.encode(text);
      if (options.appendEos && ids[ids.length - 1] !== eos) ids = [...ids, eos!];
      if (options.maxLength !== undefined) ids = ids.slice(0, options.maxLength);
      if (ids.length === 0) {
        throw new Error(
          `rewardModelFunction: text ${i} has no tokens; a reward needs at least one`,
        );
      }
      return ids;
    });
    const backend = model.parameters()[0]?.backend.name;
    const scores: number[] = [];
    model.eval?.();
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = rows.slice(start, start + batchSize);
      const padded = padRight(batch, pad);
      const shape = [batch.length, padded.length];
      const out = noGrad(() =>
        tidy(() => {
          const { logits } = model.forward({
            inputIds: tensor(padded.ids, shape, { backend }),
            attentionMask: tensor(padded.mask, shape, { backend }),
          });
          if (logits.size !== batch.length) {
            throw new Error(
              `rewardModelFunction: the model returned logits [${logits.shape}] for ` +
                `${batch.length} texts; expected [${batch.length}, 1]`,
            );
          }
          return reshape(logits, [batch.length]);
        })
      );
      scores.push(...await out.toArray());
      out.dispose();
    }
    return scores;
  };
  return reward_model;
}
