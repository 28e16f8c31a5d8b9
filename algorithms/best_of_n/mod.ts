/**
 * Best-of-n sampling: generate n samples per prompt, score them with any reward function, keep
 * the best (TRL's `BestOfNSampler` semantics), with every candidate ranked for inspection.
 *
 * @example
 * ```ts
 * import { bestOfN } from "@tether/rlhf/best-of-n";
 * import { generate, loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 * import { keywordReward } from "@tether/rlhf/reward";
 *
 * // The examples' tiny offline GPT-2 (SYNTHETIC reviews); any causal LM or Hub id works.
 * const model = await loadCausalLM("examples/assets/tiny-imdb/policy");
 * const tokenizer = await loadTokenizer("examples/assets/tiny-imdb/policy");
 * const [result] = await bestOfN([tokenizer.encode("the acting was")], {
 *   // Sampled (not greedy) continuations; bestOfN wants prompt + new tokens per row.
 *   generate: async (rows, maxNewTokens) => {
 *     const { tokens } = await generate(model, rows, { maxNewTokens, doSample: true, seed: 0 });
 *     return rows.map((row, i) => [...row, ...tokens[i]]);
 *   },
 *   decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
 *   reward: keywordReward({ great: 1, superb: 1, stunning: 1, dull: -1, awful: -1 }),
 *   sampleSize: 16,
 *   maxNewTokens: 16,
 * });
 * console.log(result.best[0]); // the highest-scoring of the 16 samples
 * console.log(result.ranked.map((c) => c.score)); // every sample, best first
 * ```
 * @module
 */

export {
  BEST_OF_N_CONFIG,
  bestOfN,
  type BestOfNInput,
  type BestOfNOptions,
  type BestOfNResult,
  type Candidate,
  type GenerateFn,
} from "./sampler.ts";
export type { RewardFunction } from "../common/reward_functions.ts";
export type { SampleRow } from "../../report/samples.ts";
export type { ConfigParser, SnakeCased } from "../common/config_schema.ts";
// What those types mention in turn, so this page resolves every type it shows.
export type {
  ConfigNames,
  ObjectSchema,
  SnakeCase,
  UnsupportedSetting,
} from "../common/config_schema.ts";
