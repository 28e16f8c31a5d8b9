/**
 * A SYNTHETIC movie-review corpus: a small seeded grammar that writes positive and negative
 * reviews with their labels. It is not real data. It exists so tiny GPT-2s and reward models
 * can be trained offline in seconds, on a vocabulary of about two hundred words where the
 * sentiment is learnable but not trivial:
 *
 * - every sentence of a review carries the review's polarity;
 * - polarity comes from adjectives, verbs, closers and ratings, with intensifiers as noise;
 * - negation always flips: "not boring" appears only in positive reviews, "not good" only in
 *   negative ones, so "not" alone says nothing;
 * - a contrast sentence ("the music was dull, but the acting was superb.") puts an opposite
 *   adjective first and the review's polarity after "but".
 *
 * @module
 */

import { Dataset } from "../dataset.ts";
import { Rng } from "../random.ts";

/** One SYNTHETIC review. */
export interface SyntheticReview {
  /** Lowercase review text, punctuation attached to the preceding word. */
  text: string;
  /** 1 = positive, 0 = negative. */
  label: 0 | 1;
}

/** What a review sentence talks about, and whether it takes "were". */
export interface SyntheticSubject {
  /** The subject's words ("camera work"). */
  words: string;
  /** Plural subjects take "were". */
  plural: boolean;
}

/** The grammar's subjects, in the order the generator draws from. */
export const SYNTHETIC_SUBJECTS: readonly SyntheticSubject[] = [
  { words: "acting", plural: false },
  { words: "plot", plural: false },
  { words: "music", plural: false },
  { words: "ending", plural: false },
  { words: "story", plural: false },
  { words: "script", plural: false },
  { words: "dialogue", plural: false },
  { words: "cast", plural: false },
  { words: "pacing", plural: false },
  { words: "soundtrack", plural: false },
  { words: "direction", plural: false },
  { words: "camera work", plural: false },
  { words: "humor", plural: false },
  { words: "villain", plural: false },
  { words: "lead actor", plural: false },
  { words: "final scene", plural: false },
  { words: "characters", plural: true },
  { words: "visuals", plural: true },
  { words: "special effects", plural: true },
  { words: "action scenes", plural: true },
  { words: "jokes", plural: true },
  { words: "costumes", plural: true },
];

const MOVIE_NOUNS = ["movie", "film", "picture", "story"] as const;

/** The grammar's adjectives by polarity, in the order the generator draws from. */
export const SYNTHETIC_ADJECTIVES = {
  positive: [
    "great",
    "wonderful",
    "brilliant",
    "excellent",
    "superb",
    "beautiful",
    "charming",
    "delightful",
    "gripping",
    "moving",
    "clever",
    "fresh",
    "stunning",
    "memorable",
    "powerful",
    "touching",
    "lovely",
    "amazing",
    "fantastic",
    "enjoyable",
    "good",
    "fun",
  ],
  negative: [
    "terrible",
    "awful",
    "boring",
    "dull",
    "weak",
    "bad",
    "poor",
    "bland",
    "clumsy",
    "forgettable",
    "painful",
    "stupid",
    "lazy",
    "messy",
    "predictable",
    "flat",
    "tedious",
    "silly",
    "horrible",
    "annoying",
    "confusing",
    "lifeless",
  ],
} as const;

const INTENSIFIERS = [
  "very",
  "really",
  "truly",
  "so",
  "quite",
  "incredibly",
  "extremely",
  "pretty",
  "absolutely",
  "genuinely",
] as const;

const OPENERS = [
  "honestly ,",
  "overall ,",
  "to be fair ,",
  "in my opinion ,",
  "i have to say",
  "i think",
  "frankly ,",
  "for me ,",
  "without a doubt ,",
] as const;

const VERBS = {
  positive: ["loved", "enjoyed", "adored", "liked", "admired"],
  negative: ["hated", "disliked", "regretted", "resented", "endured"],
} as const;

const CLOSERS = {
  positive: [
    "i would recommend it to anyone .",
    "i would definitely watch it again .",
    "do not miss it .",
    "it is worth every minute .",
    "a must see !",
    "i can not wait to see it again .",
  ],
  negative: [
    "i would not recommend it .",
    "do not waste your time .",
    "avoid this one .",
    "what a waste of time .",
    "i want those two hours back .",
    "i could not wait for it to end .",
  ],
} as const;

const RATINGS = { positive: [7, 8, 9, 10], negative: [1, 2, 3, 4] } as const;

type Polarity = "positive" | "negative";

/**
 * The grammar's polar words (adjectives and verbs) by polarity: what a rule-based reading of
 * SYNTHETIC text counts, with no model involved.
 */
export const SYNTHETIC_POLAR_WORDS: Readonly<Record<"positive" | "negative", readonly string[]>> =
  Object.freeze({
    positive: Object.freeze([...SYNTHETIC_ADJECTIVES.positive, ...VERBS.positive]),
    negative: Object.freeze([...SYNTHETIC_ADJECTIVES.negative, ...VERBS.negative]),
  });

const PUNCTUATION = new Set([".", ",", "!", "?"]);

/**
 * Every word and punctuation mark the SYNTHETIC grammar can write, sorted. The synthetic word
 * tokenizer builds its vocabulary from this list.
 */
export const SYNTHETIC_REVIEW_WORDS: readonly string[] = Object.freeze((() => {
  const words = new Set<string>();
  const add = (phrase: string) => phrase.split(" ").forEach((word) => words.add(word));
  SYNTHETIC_SUBJECTS.forEach((subject) => add(subject.words));
  [
    ...MOVIE_NOUNS,
    ...SYNTHETIC_ADJECTIVES.positive,
    ...SYNTHETIC_ADJECTIVES.negative,
    ...INTENSIFIERS,
    ...OPENERS,
    ...VERBS.positive,
    ...VERBS.negative,
    ...CLOSERS.positive,
    ...CLOSERS.negative,
  ].forEach(add);
  [...RATINGS.positive, ...RATINGS.negative].forEach((n) => words.add(String(n)));
  // The templates in sentence() use these words directly rather than through the tables.
  add("the was were not at all i it a an what but and out of 10 . , ! ?");
  return [...words].sort();
})());

function maybe(rng: Rng, p: number, text: string): string {
  return rng.chance(p) ? `${text} ` : "";
}

/** Intensifiers that read well after "what a" / "it was a". */
const ATTRIBUTIVE_INTENSIFIERS = ["really", "truly", "incredibly", "extremely", "genuinely"];

function otherSubject(rng: Rng, subject: SyntheticSubject): SyntheticSubject {
  let other = rng.pick(SYNTHETIC_SUBJECTS);
  while (other === subject) other = rng.pick(SYNTHETIC_SUBJECTS);
  return other;
}

function nounPhrase(rng: Rng, polarity: Polarity): string {
  const intensifier = rng.chance(0.35) ? rng.pick(ATTRIBUTIVE_INTENSIFIERS) : "";
  const adjective = rng.pick(SYNTHETIC_ADJECTIVES[polarity]);
  const first = intensifier === "" ? adjective : intensifier;
  const words = intensifier === "" ? adjective : `${intensifier} ${adjective}`;
  return `${/^[aeiou]/.test(first) ? "an" : "a"} ${words} ${rng.pick(MOVIE_NOUNS)}`;
}

function sentence(rng: Rng, polarity: Polarity): string {
  const opposite: Polarity = polarity === "positive" ? "negative" : "positive";
  const subject = rng.pick(SYNTHETIC_SUBJECTS);
  const be = (s: SyntheticSubject) => s.plural ? "were" : "was";
  const adjective = () => rng.pick(SYNTHETIC_ADJECTIVES[polarity]);
  const intense = () => maybe(rng, 0.35, rng.pick(INTENSIFIERS));
  const opener = maybe(rng, 0.25, rng.pick(OPENERS));
  const roll = rng.random();
  if (roll < 0.3) {
    return `${opener}the ${subject.words} ${be(subject)} ${intense()}${adjective()} .`;
  }
  if (roll < 0.45) {
    // Negating an opposite adjective keeps the sentence on the review's side.
    const atAll = rng.chance(0.3) ? " at all" : "";
    return `${opener}the ${subject.words} ${be(subject)} not ${
      rng.pick(SYNTHETIC_ADJECTIVES[opposite])
    }${atAll} .`;
  }
  if (roll < 0.6) return `${opener}i ${rng.pick(VERBS[polarity])} the ${subject.words} .`;
  if (roll < 0.7) return `what ${nounPhrase(rng, polarity)} !`;
  if (roll < 0.82) {
    const other = otherSubject(rng, subject);
    return `${opener}the ${subject.words} ${
      be(subject)
    } ${intense()}${adjective()} and the ${other.words} ${be(other)} ${adjective()} .`;
  }
  if (roll < 0.92) {
    const other = otherSubject(rng, subject);
    return `the ${subject.words} ${be(subject)} ${
      rng.pick(SYNTHETIC_ADJECTIVES[opposite])
    } , but the ${other.words} ${be(other)} ${intense()}${adjective()} .`;
  }
  return `${opener}it was ${nounPhrase(rng, polarity)} .`;
}

function closer(rng: Rng, polarity: Polarity): string {
  if (rng.chance(0.4)) return `${rng.pick(RATINGS[polarity])} out of 10 .`;
  return rng.pick(CLOSERS[polarity]);
}

/**
 * Join space-separated tokens into text: punctuation attaches to the word before it.
 *
 * @param tokens Words and punctuation marks.
 */
export function detokenizeWords(tokens: readonly string[]): string {
  let out = "";
  for (const token of tokens) {
    if (out === "" || PUNCTUATION.has(token)) out += token;
    else out += ` ${token}`;
  }
  return out;
}

/**
 * Write one SYNTHETIC review with the given label.
 *
 * @param rng Generator to draw from.
 * @param label 1 for positive, 0 for negative.
 */
export function writeSyntheticReview(rng: Rng, label: 0 | 1): SyntheticReview {
  const polarity: Polarity = label === 1 ? "positive" : "negative";
  const sentences = 1 + rng.int(4);
  const parts: string[] = [];
  for (let i = 0; i < sentences; i++) {
    const last = i === sentences - 1;
    parts.push(
      last && sentences > 1 && rng.chance(0.5) ? closer(rng, polarity) : sentence(rng, polarity),
    );
  }
  return { text: detokenizeWords(parts.join(" ").split(" ")), label };
}

/** Options for {@link generateSyntheticReviews}. */
export interface SyntheticReviewOptions {
  /** Seed; the same seed gives the same corpus (default 0). */
  seed?: number;
  /** Share of positive reviews (default 0.5); labels are drawn per review. */
  positiveFraction?: number;
}

/**
 * A SYNTHETIC corpus of `count` labeled movie reviews.
 *
 * @example
 * ```ts
 * import { generateSyntheticReviews } from "@tether/rlhf/data";
 * const reviews = generateSyntheticReviews(1000, { seed: 7 });
 * console.log(reviews.get(0)); // { text: "the plot was not boring.", label: 1 } (for example)
 * ```
 *
 * @param count Number of reviews.
 * @param options Seed and label balance.
 */
export function generateSyntheticReviews(
  count: number,
  options: SyntheticReviewOptions = {},
): Dataset<SyntheticReview> {
  const { seed = 0, positiveFraction = 0.5 } = options;
  if (!(positiveFraction >= 0 && positiveFraction <= 1)) {
    throw new RangeError(`positiveFraction must be in [0, 1], got ${positiveFraction}`);
  }
  const rng = new Rng(seed);
  const rows: SyntheticReview[] = [];
  for (let i = 0; i < count; i++) {
    rows.push(writeSyntheticReview(rng, rng.chance(positiveFraction) ? 1 : 0));
  }
  return Dataset.from(rows);
}
