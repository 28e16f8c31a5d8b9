/**
 * SYNTHETIC preference and SFT data in the synthetic review grammar, for offline DPO, SFT and
 * ReST demos on tiny checkpoints whose tokenizer knows only that grammar's words. It is not real
 * data and says nothing about human preferences: a prompt is the opening words of a review
 * ("honestly, the plot was"), the chosen completion continues it positively (" superb. i loved
 * the music."), the rejected one negatively (" dull. 2 out of 10."). Both completions share the
 * first clause's shape (same intensifier, an adjective of the other polarity), so length alone
 * does not tell them apart.
 *
 * @module
 */

import { Dataset, type TrainTestSplit } from "../dataset.ts";
import { Rng } from "../random.ts";
import { SYNTHETIC_ADJECTIVES, SYNTHETIC_SUBJECTS, writeSyntheticReview } from "./reviews.ts";
import { SyntheticWordTokenizer } from "./word_tokenizer.ts";

/** One SYNTHETIC preference pair; completions start with a space, as hh-rlhf's replies do. */
export interface SyntheticPreference {
  /** Opening words of a review, e.g. `the acting was`. */
  prompt: string;
  /** A positive continuation. */
  chosen: string;
  /** A negative continuation; never equal to `chosen`. */
  rejected: string;
}

/** One SYNTHETIC SFT example: a review opening and a positive continuation. */
export interface SyntheticSftExample {
  /** Opening words of a review. */
  prompt: string;
  /** A positive continuation, starting with a space. */
  completion: string;
}

/** Options of the synthetic preference and SFT generators. */
export interface SyntheticPreferenceOptions {
  /** Seed; the same seed gives the same rows (default 0). */
  seed?: number;
  /**
   * Most tokens (words and punctuation marks) in a completion (default 14, at least 3): the
   * first clause always fits, a follow-up review sentence is added only when it fits too.
   */
  maxCompletionTokens?: number;
}

// A polarity-free subset of the review grammar's subjects, in the grammar's order.
const SUBJECTS = SYNTHETIC_SUBJECTS.filter((s) =>
  !["camera work", "action scenes"].includes(s.words)
);

const OPENERS = ["honestly ,", "overall ,", "i think", "for me ,", "frankly ,", "i have to say"];

const INTENSIFIERS = ["very", "really", "truly", "so", "quite", "absolutely"];

// The review grammar's adjectives without the ones the preference prompts leave out, in order.
const LEFT_OUT = new Set([
  "moving",
  "fresh",
  "powerful",
  "touching",
  "flat",
  "silly",
  "confusing",
  "lifeless",
]);
const ADJECTIVES = {
  chosen: SYNTHETIC_ADJECTIVES.positive.filter((word) => !LEFT_OUT.has(word)),
  rejected: SYNTHETIC_ADJECTIVES.negative.filter((word) => !LEFT_OUT.has(word)),
};

/** Every word the preference grammar writes beyond the review generator's, for the vocab test. */
export const SYNTHETIC_PREFERENCE_WORDS: readonly string[] = Object.freeze([
  ...new Set(
    [
      ...SUBJECTS.map((s) => s.words),
      ...OPENERS,
      ...INTENSIFIERS,
      ...ADJECTIVES.chosen,
      ...ADJECTIVES.rejected,
      "the was were .",
    ].flatMap((phrase) => phrase.split(" ")),
  ),
].sort());

const TOKENIZER = new SyntheticWordTokenizer();

function tokenCount(text: string): number {
  return TOKENIZER.tokenize(text).length;
}

/** A follow-up review of the given label that fits in `room` tokens, or "" (none drawn). */
function followUp(rng: Rng, label: 0 | 1, room: number): string {
  if (room <= 0 || !rng.chance(0.6)) return "";
  for (let attempt = 0; attempt < 8; attempt++) {
    const text = writeSyntheticReview(rng, label).text;
    if (tokenCount(text) <= room) return ` ${text}`;
  }
  return "";
}

function checkMaxTokens(where: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 3)) {
    throw new RangeError(`${where}: maxCompletionTokens must be an integer >= 3, got ${value}`);
  }
}

/**
 * Write one SYNTHETIC preference pair.
 *
 * @param rng Generator to draw from.
 * @param maxCompletionTokens Most tokens per completion (default 14, at least 3).
 */
export function writeSyntheticPreference(rng: Rng, maxCompletionTokens = 14): SyntheticPreference {
  checkMaxTokens("writeSyntheticPreference", maxCompletionTokens);
  const subject = rng.pick(SUBJECTS);
  const opener = rng.chance(0.3) ? `${rng.pick(OPENERS)} ` : "";
  const prompt = `${opener}the ${subject.words} ${subject.plural ? "were" : "was"}`
    .replace(/ ,/g, ",");
  const intensifier = maxCompletionTokens >= 4 && rng.chance(0.3)
    ? `${rng.pick(INTENSIFIERS)} `
    : "";
  const clause = (adjective: string) => ` ${intensifier}${adjective}.`;
  const chosenClause = clause(rng.pick(ADJECTIVES.chosen));
  const rejectedClause = clause(rng.pick(ADJECTIVES.rejected));
  const chosen = chosenClause +
    followUp(rng, 1, maxCompletionTokens - tokenCount(chosenClause));
  const rejected = rejectedClause +
    followUp(rng, 0, maxCompletionTokens - tokenCount(rejectedClause));
  return { prompt, chosen, rejected };
}

/**
 * A SYNTHETIC preference set of `count` pairs (prompt, positive chosen, negative rejected).
 *
 * @example
 * ```ts
 * import { generateSyntheticPreferences } from "@tether/rlhf/data";
 * const pairs = generateSyntheticPreferences(200, { seed: 1 });
 * console.log(pairs.get(0)); // { prompt: "the plot was", chosen: " superb.", rejected: " dull." } (for example)
 * ```
 *
 * @param count Number of pairs.
 * @param options Seed and completion length.
 */
export function generateSyntheticPreferences(
  count: number,
  options: SyntheticPreferenceOptions = {},
): Dataset<SyntheticPreference> {
  const { seed = 0, maxCompletionTokens = 14 } = options;
  checkMaxTokens("generateSyntheticPreferences", maxCompletionTokens);
  const rng = new Rng(seed);
  return Dataset.from(
    Array.from({ length: count }, () => writeSyntheticPreference(rng, maxCompletionTokens)),
  );
}

/**
 * A SYNTHETIC SFT set: the chosen side of {@link generateSyntheticPreferences} with the same
 * seed, as prompt → completion.
 *
 * @param count Number of examples.
 * @param options Seed and completion length.
 */
export function generateSyntheticSft(
  count: number,
  options: SyntheticPreferenceOptions = {},
): Dataset<SyntheticSftExample> {
  return generateSyntheticPreferences(count, options).map((p) => ({
    prompt: p.prompt,
    completion: p.chosen,
  }));
}

/**
 * Disjoint train and test preference sets: a test pair never repeats a training pair's prompt
 * with the same chosen or the same rejected completion (it is redrawn), so held-out accuracy
 * measures generalisation rather than recall.
 *
 * @param trainCount Training pairs.
 * @param testCount Held-out pairs.
 * @param options Seed and completion length.
 */
export function syntheticPreferenceSplit(
  trainCount: number,
  testCount: number,
  options: SyntheticPreferenceOptions = {},
): TrainTestSplit<SyntheticPreference> {
  const { seed = 0, maxCompletionTokens = 14 } = options;
  checkMaxTokens("syntheticPreferenceSplit", maxCompletionTokens);
  const rng = new Rng(seed);
  const train = Array.from(
    { length: trainCount },
    () => writeSyntheticPreference(rng, maxCompletionTokens),
  );
  const seen = new Set(train.flatMap((p) => [p.prompt + p.chosen, p.prompt + p.rejected]));
  const test: SyntheticPreference[] = [];
  for (let draws = 0; test.length < testCount; draws++) {
    if (draws >= 100 * (testCount + 1)) {
      throw new Error(
        `syntheticPreferenceSplit: could not draw ${testCount} held-out pairs unseen in ` +
          `${trainCount} training pairs (maxCompletionTokens ${maxCompletionTokens}); raise ` +
          "maxCompletionTokens or lower the counts",
      );
    }
    const pair = writeSyntheticPreference(rng, maxCompletionTokens);
    if (seen.has(pair.prompt + pair.chosen) || seen.has(pair.prompt + pair.rejected)) continue;
    test.push(pair);
  }
  return { train: Dataset.from(train), test: Dataset.from(test) };
}

/**
 * Disjoint train and test SFT sets: the chosen sides of {@link syntheticPreferenceSplit}.
 *
 * @param trainCount Training examples.
 * @param testCount Held-out examples.
 * @param options Seed and completion length.
 */
export function syntheticSftSplit(
  trainCount: number,
  testCount: number,
  options: SyntheticPreferenceOptions = {},
): TrainTestSplit<SyntheticSftExample> {
  const { train, test } = syntheticPreferenceSplit(trainCount, testCount, options);
  const toSft = (p: SyntheticPreference) => ({ prompt: p.prompt, completion: p.chosen });
  return { train: train.map(toSft), test: test.map(toSft) };
}
