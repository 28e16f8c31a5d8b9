/**
 * A rule-based reading of SYNTHETIC review text, independent of any trained model: it counts
 * the grammar's polar words (adjectives and verbs), flipping a word after "not", so checks of
 * the tiny policy's samples ("does it write both positive and negative text?") do not lean on
 * the reward model they are meant to feed.
 *
 * @module
 */

import { SYNTHETIC_POLAR_WORDS } from "../../data/synthetic/reviews.ts";

const POSITIVE = new Set(SYNTHETIC_POLAR_WORDS.positive);
const NEGATIVE = new Set(SYNTHETIC_POLAR_WORDS.negative);

/** Polar words found in a text. */
export interface PolarWordCounts {
  /** Positive words, plus negative ones after "not". */
  positive: number;
  /** Negative words, plus positive ones after "not". */
  negative: number;
}

/**
 * Count the polar words of a SYNTHETIC-style text. "not" flips the next polar word; in a
 * contrast ("the music was dull, but the acting was superb") only the part after "but" counts,
 * as the grammar puts the review's side there.
 *
 * @param text Lowercase review text.
 */
export function polarWordCounts(text: string): PolarWordCounts {
  const total = { positive: 0, negative: 0 };
  let sentence = { positive: 0, negative: 0 };
  let negated = false;
  const endSentence = () => {
    total.positive += sentence.positive;
    total.negative += sentence.negative;
    sentence = { positive: 0, negative: 0 };
  };
  for (const word of text.toLowerCase().match(/[a-z]+|[^\sa-z]/g) ?? []) {
    const sign = POSITIVE.has(word) ? 1 : NEGATIVE.has(word) ? -1 : 0;
    if (sign !== 0) {
      if ((sign > 0) !== negated) sentence.positive++;
      else sentence.negative++;
      negated = false;
    } else if (word === "not") negated = true;
    else if (word === "but") sentence = { positive: 0, negative: 0 };
    else if (word === "." || word === "!" || word === "?") {
      endSentence();
      negated = false;
    }
  }
  endSentence();
  return total;
}

/**
 * The side a text leans to: 1 when it has more positive than negative polar words, −1 for the
 * reverse, 0 for a tie (including none).
 *
 * @param text Lowercase review text.
 */
export function textPolarity(text: string): -1 | 0 | 1 {
  const { positive, negative } = polarWordCounts(text);
  return positive > negative ? 1 : negative > positive ? -1 : 0;
}
