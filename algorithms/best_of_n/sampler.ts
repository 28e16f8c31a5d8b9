/**
 * Best-of-n reward-guided generation with TRL 0.7.4's `BestOfNSampler` semantics (SPEC D.1): each
 * query is repeated `sampleSize` times, one max-new-tokens draw per query is shared by its samples,
 * the decoded texts (prompt included, as for decoder-only models) are scored, and candidates come
 * back in descending score order.
 *
 * Ties: TRL picks with `torch.topk`, which does not specify the order of equal scores. Here equal
 * scores keep their sampling order (the sort is stable), so when a tie straddles the
 * `nCandidates`-th place the earlier sample is kept. Compared with TRL, tied candidates agree
 * as a set, not necessarily in order.
 */

import { type RewardFunction, scoreTexts } from "../common/reward_functions.ts";
import { isSampleStep, resolveSampleLog, type SampleRow } from "../../report/samples.ts";

/** Generates continuations: rows of prompt tokens in, prompt + new tokens out. */
export type GenerateFn = (
  rows: number[][],
  maxNewTokens: number,
) => number[][] | Promise<number[][]>;

/** One scored sample. */
export interface Candidate {
  /** Decoded text (prompt included). */
  text: string;
  /** Token ids (prompt included). */
  tokens: number[];
  /** Reward of the text. */
  score: number;
}

/** Everything best-of-n found for one query. */
export interface BestOfNResult {
  /** The query's tokens. */
  query: number[];
  /** The `nCandidates` best texts, best first (TRL's return value). */
  best: string[];
  /** All samples, ranked by descending score (equal scores keep their sampling order). */
  ranked: Candidate[];
}

/** Options of `bestOfN`. */
export interface BestOfNOptions {
  /** Generation for a batch of rows. */
  generate: GenerateFn;
  /** Token ids → text. */
  decode: (tokens: number[]) => string;
  /** Scores the decoded texts. */
  reward: RewardFunction;
  /** Samples per query (TRL default 4). */
  sampleSize?: number;
  /** How many best texts to return per query (TRL default 1). */
  nCandidates?: number;
  /** Draws max new tokens once per query (e.g. a LengthSampler); else `maxNewTokens`. */
  lengthSampler?: () => number;
  /** Max new tokens when there is no length sampler. */
  maxNewTokens?: number;
  /**
   * Receives a sample table (e.g. a `RunWriter`'s `writeSamples`) every `logSamplesEvery`
   * queries, and at the first and the last: that query's candidates from best to worst, spread
   * over the ranking. Step = 1-based query number.
   */
  logSamples?: (step: number, rows: SampleRow[]) => void | Promise<void>;
  /** Queries between sample tables (default 1: every query; 0: none). */
  logSamplesEvery?: number;
  /** Rows per table (default 4). */
  logSamplesCount?: number;
}

/** Best-of-n over a list of queries; each query's samples are generated as one batch. */
export async function bestOfN(
  queries: readonly (readonly number[])[],
  opts: BestOfNOptions,
): Promise<BestOfNResult[]> {
  const sampleSize = opts.sampleSize ?? 4;
  const nCandidates = opts.nCandidates ?? 1;
  if (!Number.isInteger(sampleSize) || sampleSize < 1) {
    throw new Error(`bestOfN: sampleSize must be a positive integer, got ${sampleSize}`);
  }
  if (!Number.isInteger(nCandidates) || nCandidates < 1 || nCandidates > sampleSize) {
    throw new Error(
      `bestOfN: nCandidates must be an integer in [1, sampleSize = ${sampleSize}], got ${nCandidates}`,
    );
  }
  if (!opts.lengthSampler && opts.maxNewTokens === undefined) {
    throw new Error("bestOfN: pass lengthSampler or maxNewTokens");
  }
  const sampleLog = resolveSampleLog("bestOfN", opts.logSamplesEvery, opts.logSamplesCount, 1);
  const results: BestOfNResult[] = [];
  for (const [qi, query] of queries.entries()) {
    if (query.length === 0) throw new Error(`bestOfN: query ${qi} is empty`);
    const maxNew = opts.lengthSampler ? opts.lengthSampler() : opts.maxNewTokens!;
    const rows = Array.from({ length: sampleSize }, () => [...query]);
    const outputs = await opts.generate(rows, maxNew);
    const texts = outputs.map((t) => opts.decode(t));
    const scores = await scoreTexts(opts.reward, texts);
    const ranked = outputs
      .map((tokens, i) => ({ text: texts[i], tokens, score: scores[i], i }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .map(({ text, tokens, score }) => ({ text, tokens, score }));
    results.push({
      query: [...query],
      best: ranked.slice(0, nCandidates).map((c) => c.text),
      ranked,
    });
    if (opts.logSamples && isSampleStep(qi + 1, queries.length, sampleLog)) {
      const n = Math.min(sampleLog.count, ranked.length);
      const picks = Array.from(
        { length: n },
        (_, j) => ranked[n === 1 ? 0 : Math.round((j * (ranked.length - 1)) / (n - 1))],
      );
      const prompt = opts.decode([...query]);
      await opts.logSamples(
        qi + 1,
        picks.map((c) => ({
          prompt,
          completion: opts.decode(c.tokens.slice(query.length)),
          reward: c.score,
        })),
      );
    }
  }
  return results;
}
