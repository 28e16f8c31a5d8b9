/**
 * The per-token pairwise loss of trlX's summarization reward model: for each pair, the mean of
 * −log σ(r_chosen[t] − r_rejected[t]) over its span (`pairSpan`), summed over the pairs that
 * have a span and divided by the number of pairs in the batch, as trlX's `loss / bs`. A pair
 * with no difference adds nothing and is counted, never divided by.
 *
 * @module
 */

import { greater, logSigmoid, mul, neg, sub, sum, type Tensor, tensor } from "../core/mod.ts";
import { type PairSpan, pairSpan } from "./token_span.ts";

/** Where each pair's score is read. */
export type PairScoreAt =
  /**
   * trlX: both members at the span's last position (`end − 1`), so the shorter member is read
   * past its own last token (at its EOS or padding).
   */
  | "span_end"
  /** Each member at its own last scored token. */
  | "last_token";

/** Options of {@link tokenPairLoss}. */
export interface TokenPairLossOptions {
  /** Where pair scores (and so accuracy) are read (default `span_end`, trlX's). */
  scoreAt?: PairScoreAt;
}

/** What {@link tokenPairLoss} returns. */
export interface TokenPairLoss {
  /** Scalar loss (with gradients through the rewards). */
  loss: Tensor;
  /** [B] scores of the chosen rows. */
  chosenScores: Tensor;
  /** [B] scores of the rejected rows. */
  rejectedScores: Tensor;
  /** [B] 1 where the pair has a span, 0 where its rows are identical. */
  hasSpan: Tensor;
  /** The spans. */
  spans: PairSpan[];
  /** Pairs without a span. */
  identicalPairs: number;
}

/**
 * The span loss and pair scores from per-token rewards of the two members, which must cover at
 * least each pair's span (right-padded batches do).
 *
 * @example
 * ```ts
 * import { tensor } from "@tether/rlhf/core";
 * import { tokenPairLoss } from "@tether/rlhf/reward";
 *
 * // One pair whose rows share the prompt [5, 6] and differ from position 2 on.
 * const chosen = [[5, 6, 7, 8]], rejected = [[5, 6, 9]];
 * const rewardsChosen = tensor([[0, 0, 0.5, 1.5]]); // per-token rewards [B, T]
 * const rewardsRejected = tensor([[0, 0, -0.5, 0]]);
 * const { loss, chosenScores, spans } = tokenPairLoss(rewardsChosen, rewardsRejected, chosen, rejected);
 * console.log(await loss.item(), await chosenScores.toArray(), spans[0]);
 * ```
 *
 * @param chosenRewards [B, T] per-token rewards of the chosen rows.
 * @param rejectedRewards [B, T] per-token rewards of the rejected rows.
 * @param chosen Scored token rows of the chosen members.
 * @param rejected Scored token rows of the rejected members.
 * @param options Where scores are read.
 */
export function tokenPairLoss(
  chosenRewards: Tensor,
  rejectedRewards: Tensor,
  chosen: readonly (readonly number[])[],
  rejected: readonly (readonly number[])[],
  options: TokenPairLossOptions = {},
): TokenPairLoss {
  const b = chosen.length;
  const t = chosenRewards.shape[1];
  if (
    chosenRewards.rank !== 2 || chosenRewards.shape[0] !== b || rejected.length !== b ||
    rejectedRewards.shape[0] !== b || rejectedRewards.shape[1] !== t
  ) {
    throw new Error(
      `tokenPairLoss: rewards must be [${b}, T] for ${b} pairs, got [${chosenRewards.shape}] ` +
        `and [${rejectedRewards.shape}] for ${chosen.length} / ${rejected.length} rows`,
    );
  }
  const scoreAt = options.scoreAt ?? "span_end";
  const spans = chosen.map((c, i) => pairSpan(c, rejected[i]));
  const weights = new Float32Array(b * t);
  const pickChosen = new Float32Array(b * t), pickRejected = new Float32Array(b * t);
  const hasSpan = new Float32Array(b);
  let identicalPairs = 0;
  spans.forEach((span, i) => {
    if (span.end > t) {
      throw new Error(
        `tokenPairLoss: pair ${i} ends at ${span.end} but the rewards cover ${t} positions`,
      );
    }
    if (span.identical) {
      identicalPairs++;
      // No span: the pair's score is the reward at its last token, for both members.
      if (span.end > 0) {
        pickChosen[i * t + span.end - 1] = 1;
        pickRejected[i * t + span.end - 1] = 1;
      }
      return;
    }
    hasSpan[i] = 1;
    // Mean over the span, then (outside) the sum over pairs divided by B: trlX's loss / bs.
    const w = 1 / ((span.end - span.start) * b);
    for (let p = span.start; p < span.end; p++) weights[i * t + p] = w;
    const lastChosen = scoreAt === "span_end" ? span.end : chosen[i].length;
    const lastRejected = scoreAt === "span_end" ? span.end : rejected[i].length;
    if (lastChosen > 0) pickChosen[i * t + lastChosen - 1] = 1;
    if (lastRejected > 0) pickRejected[i * t + lastRejected - 1] = 1;
  });
  const backend = chosenRewards.backend.name;
  const on = (data: Float32Array, shape: number[]) => tensor(data, shape, { backend });
  const nll = neg(logSigmoid(sub(chosenRewards, rejectedRewards)));
  const loss = sum(mul(nll, on(weights, [b, t])));
  const chosenScores = sum(mul(chosenRewards, on(pickChosen, [b, t])), { axis: 1 });
  const rejectedScores = sum(mul(rejectedRewards, on(pickRejected, [b, t])), { axis: 1 });
  return {
    loss,
    chosenScores,
    rejectedScores,
    hasSpan: on(hasSpan, [b]),
    spans,
    identicalPairs,
  };
}

/**
 * Pairs with a span whose chosen score is strictly higher ([B] of 0/1; 0 for identical pairs).
 *
 * @param result What {@link tokenPairLoss} returned.
 */
export function tokenPairCorrect(result: TokenPairLoss): Tensor {
  return mul(greater(result.chosenScores, result.rejectedScores), result.hasSpan);
}
