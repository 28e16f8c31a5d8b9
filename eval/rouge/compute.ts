/**
 * `computeRouge`: what `evaluate.load("rouge").compute(...)` returns, computed as Google's
 * `rouge_score` (0.1.2) does, with the per-pair scores available too.
 *
 * @module
 */

import { bootstrapAggregate } from "./bootstrap.ts";
import { parseRougeType, type RougeScore, scoreRouge, scoreRougeMulti } from "./score.ts";
import { rougeTokenize, type RougeTokenizer } from "./tokenize.ts";

/** `evaluate`'s default ROUGE types. */
export const DEFAULT_ROUGE_TYPES: readonly string[] = Object.freeze([
  "rouge1",
  "rouge2",
  "rougeL",
  "rougeLsum",
]);

/** Options of {@link computeRouge} (`evaluate`'s arguments, camelCased). */
export interface RougeOptions {
  /** Types to compute: `rouge1` … `rouge9`, `rougeL`, `rougeLsum` (default: the four above). */
  rougeTypes?: readonly string[];
  /** Porter-stem tokens longer than 3 characters (default false, as `evaluate`). */
  useStemmer?: boolean;
  /**
   * true (default, as `evaluate`): one number per type, the bootstrap median of the mean
   * F-measure. false: per pair and per type `{ precision, recall, fmeasure }`.
   */
  useAggregator?: boolean;
  /**
   * Seed of the bootstrap (default 42: what `evaluate.load("rouge")` takes after
   * `np.random.seed(42)` or `transformers.set_seed(42)` with no numpy draws before it).
   */
  seed?: number;
  /** Replaces the whole default tokenization (the stemmer is then not used), as `evaluate`. */
  tokenizer?: RougeTokenizer;
}

/** Per-type scores of one pair. */
export type RougeScores = Record<string, RougeScore>;

/** Aggregated result: per type, the bootstrap's mid F-measure. */
export type RougeAggregate = Record<string, number>;

/** {@link computeRouge} with the aggregator (the default): one number per type. */
export function computeRouge(
  predictions: readonly string[],
  references: readonly string[] | readonly (readonly string[])[],
  options?: RougeOptions & { useAggregator?: true },
): RougeAggregate;
/** {@link computeRouge} without the aggregator: per pair, per type `{ precision, recall, fmeasure }`. */
export function computeRouge(
  predictions: readonly string[],
  references: readonly string[] | readonly (readonly string[])[],
  options: RougeOptions & { useAggregator: false },
): RougeScores[];
/** {@link computeRouge} either way, as `options.useAggregator` says. */
export function computeRouge(
  predictions: readonly string[],
  references: readonly string[] | readonly (readonly string[])[],
  options?: RougeOptions,
): RougeAggregate | RougeScores[];
/**
 * ROUGE of predictions against references with the semantics of `rouge_score` as `evaluate`
 * calls it: its tokenizer (lowercase, `[a-z0-9]+` words, optional nltk Porter stemming of words
 * longer than 3 characters), clipped n-gram counts, LCS, summary-level LCS over `"\n"`-separated
 * sentences for rougeLsum, and, with the aggregator, the median of 1000 bootstrap means (numpy's
 * legacy MT19937 under `seed`). A list of references per prediction takes, per type, the
 * reference with the best F-measure.
 *
 * @example
 * ```ts
 * import { computeRouge } from "@tether/rlhf";
 * const scores = computeRouge(["the cat sat on the mat"], ["a cat sat on a mat"]);
 * console.log(scores.rouge1, scores.rougeL); // mid F-measures, as evaluate reports them
 * const perPair = computeRouge(["the cat sat"], ["a cat sat"], { useAggregator: false });
 * console.log(perPair[0].rouge2.precision);
 * ```
 *
 * @param predictions Predicted summaries.
 * @param references One reference per prediction, or a list of references per prediction.
 * @param options Types, stemming, aggregation, seed, tokenizer.
 */
export function computeRouge(
  predictions: readonly string[],
  references: readonly string[] | readonly (readonly string[])[],
  options: RougeOptions = {},
): RougeAggregate | RougeScores[] {
  if (!Array.isArray(predictions) || !Array.isArray(references)) {
    throw new TypeError("computeRouge: predictions and references must be arrays of strings");
  }
  if (predictions.length !== references.length) {
    throw new Error(
      `computeRouge: ${predictions.length} predictions but ${references.length} references; ` +
        `give one reference (or one list of references) per prediction`,
    );
  }
  if (predictions.length === 0) {
    throw new Error("computeRouge: no predictions to score (both lists are empty)");
  }
  const types = [...(options.rougeTypes ?? DEFAULT_ROUGE_TYPES)];
  if (types.length === 0) throw new Error("computeRouge: rougeTypes is empty");
  types.forEach(parseRougeType);
  const tokenize = options.tokenizer ??
    ((text: string) => rougeTokenize(text, { useStemmer: options.useStemmer ?? false }));
  // As evaluate: the first reference decides whether each prediction has a list of them.
  const multi = Array.isArray(references[0]);
  const perPair = predictions.map((prediction, i) => {
    const reference = references[i];
    if (typeof prediction !== "string") {
      throw new TypeError(`computeRouge: prediction ${i} is ${typeof prediction}, not a string`);
    }
    if (multi) {
      if (!Array.isArray(reference) || reference.some((r) => typeof r !== "string")) {
        throw new TypeError(
          `computeRouge: reference ${i} must be a list of strings (reference 0 is a list)`,
        );
      }
      return scoreRougeMulti(reference as readonly string[], prediction, types, tokenize);
    }
    if (typeof reference !== "string") {
      throw new TypeError(
        `computeRouge: reference ${i} is ${
          Array.isArray(reference) ? "a list" : typeof reference
        }, not a string (reference 0 is a string)`,
      );
    }
    return scoreRouge(reference, prediction, types, tokenize);
  });
  if (options.useAggregator === false) return perPair;
  const aggregate = bootstrapAggregate(perPair, { seed: options.seed ?? 42 });
  return Object.fromEntries(types.map((type) => [type, aggregate[type].mid.fmeasure]));
}
