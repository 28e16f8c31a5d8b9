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

import { z } from "zod";
import { type RewardFunction, scoreTexts } from "../common/reward_functions.ts";
import { type ConfigParser, type SnakeCased, strictConfig } from "../common/config_schema.ts";
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

/**
 * What `bestOfN` accepts: {@link BestOfNOptions}, whose settings also answer to their snake_case
 * spellings (TRL's `sample_size`, `n_candidates`, `length_sampler`), and TRL's
 * `queries_to_scores` for `reward` (untyped: TypeScript callers write `reward`).
 */
export type BestOfNInput =
  & BestOfNOptions
  & Partial<SnakeCased<Omit<BestOfNOptions, "generate" | "decode" | "reward">>>;

const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>((v) => typeof v === "function").describe(what);

/** Validates `bestOfN`'s options under the one config rule (`config_schema.ts`). */
export const BEST_OF_N_CONFIG: ConfigParser<Partial<BestOfNOptions>> = strictConfig<
  Partial<BestOfNOptions>
>(
  "bestOfN",
  z.object({
    generate: fn("a function (rows, maxNewTokens) => rows of prompt + new tokens").optional(),
    decode: fn("a function (tokens) => text").optional(),
    reward: fn("a reward function (texts) => scores").optional(),
    sampleSize: z.number().int().min(1).describe("an integer >= 1").optional(),
    nCandidates: z.number().int().min(1).describe("an integer >= 1").optional(),
    lengthSampler: fn("a function () => max new tokens (e.g. a LengthSampler's sample)")
      .optional(),
    maxNewTokens: z.number().int().min(1).describe("an integer >= 1").optional(),
    logSamples: fn("a function (step, rows) => void").optional(),
    logSamplesEvery: z.number().int().min(0).describe("an integer >= 0").optional(),
    logSamplesCount: z.number().int().min(1).describe("an integer >= 1").optional(),
  }),
  {
    trlNames: { queries_to_scores: "reward" },
    unsupported: {
      seed: {
        reason: "sampling is the generate callback's: seed it there (generate(model, rows, " +
          "{ seed }))",
      },
      generation_config: {
        reason: "sampling settings are the generate callback's (doSample, topK, topP, ...)",
        accepts: [null],
      },
    },
  },
);

/**
 * Best-of-n over a list of queries; each query's samples are generated as one batch. The options
 * follow the one config rule: TRL's snake_case names are accepted, an unknown key is refused
 * naming it and the closest valid name.
 *
 * @param queries Token ids of each query.
 * @param options Generation, decoding, the reward function and TRL's settings.
 */
export async function bestOfN(
  queries: readonly (readonly number[])[],
  options: BestOfNInput,
): Promise<BestOfNResult[]> {
  const opts = BEST_OF_N_CONFIG.parse(options) as BestOfNOptions;
  for (const field of ["generate", "decode", "reward"] as const) {
    if (opts[field] === undefined) {
      throw new Error(`bestOfN: ${field} is required (see BestOfNOptions)`);
    }
  }
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
