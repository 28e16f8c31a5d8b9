/**
 * Where the per-token pairwise loss of trlX's summarization reward model (`GPTRewardModel` in
 * `examples/summarize_rlhf`) looks in a pair: from the first position where the chosen and the
 * rejected token rows differ, up to the later of the two ends.
 *
 * A row holds the tokens that are scored: in trlX's layout, the `<|startoftext|>` text, post and
 * summary, cut to `max_length`; the appended `<|endoftext|>` is not part of it, so a row's end
 * is its length (trlX's "index of the first pad token", since the pad is the EOS), or
 * `max_length` when truncation left no room for the EOS.
 *
 * @module
 */

/** The span of one pair, or why it has none. */
export type PairSpan =
  | {
    /** The rows differ: the loss covers positions [start, end). */
    identical: false;
    /** First position where the rows differ (a shorter row "differs" at its end). */
    start: number;
    /** The later of the two ends (exclusive). */
    end: number;
  }
  | {
    /** Same tokens, same length (e.g. both summaries cut off by truncation): no span. */
    identical: true;
    /** Both rows' end. */
    end: number;
  };

/**
 * The span of a pair: `start` = the first index where the rows differ (the shorter length when
 * one row is a prefix of the other), `end` = the longer length; identical rows have none.
 *
 * @example
 * ```ts
 * import { pairSpan } from "@tether/rlhf/reward";
 * pairSpan([5, 6, 7, 8], [5, 6, 9]); // { identical: false, start: 2, end: 4 }
 * pairSpan([5, 6], [5, 6, 1]); // { identical: false, start: 2, end: 3 }
 * pairSpan([5, 6], [5, 6]); // { identical: true, end: 2 }
 * ```
 *
 * @param chosen Scored tokens of the preferred text.
 * @param rejected Scored tokens of the other text.
 */
export function pairSpan(chosen: readonly number[], rejected: readonly number[]): PairSpan {
  const shorter = Math.min(chosen.length, rejected.length);
  const end = Math.max(chosen.length, rejected.length);
  let start = 0;
  while (start < shorter && chosen[start] === rejected[start]) start++;
  if (start === end) return { identical: true, end };
  return { identical: false, start, end };
}
