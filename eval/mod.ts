/**
 * Evaluation metrics for generated text. ROUGE with the semantics of Google's `rouge_score` as
 * Hugging Face `evaluate` calls it: the same tokenizer and nltk Porter stemmer, rougeN, rougeL,
 * rougeLsum, multiple references, and `evaluate`'s bootstrap aggregation with its seed.
 *
 * @example
 * ```ts
 * import { computeRouge } from "@tether/rlhf/eval";
 * const result = computeRouge(
 *   ["my girlfriend wants to move in but it is too soon"],
 *   ["girlfriend wants to move in together; i think it is too soon"],
 * );
 * console.log(result); // { rouge1: …, rouge2: …, rougeL: …, rougeLsum: … }
 * ```
 * @module
 */

export {
  computeRouge,
  DEFAULT_ROUGE_TYPES,
  type RougeAggregate,
  type RougeOptions,
  type RougeScores,
} from "./rouge/compute.ts";
export {
  fmeasure,
  parseRougeType,
  rougeL,
  rougeLsum,
  rougeN,
  type RougeScore,
  rougeSentences,
  scoreRouge,
  scoreRougeMulti,
} from "./rouge/score.ts";
export { rougeTokenize, type RougeTokenizer } from "./rouge/tokenize.ts";
export { porterStem } from "./rouge/porter.ts";
export {
  type AggregateScore,
  bootstrapAggregate,
  type BootstrapOptions,
} from "./rouge/bootstrap.ts";
export { MersenneTwister } from "./rouge/mt19937.ts";
