/**
 * Best-of-n sampling: generate n samples per prompt, score them with any reward function, keep
 * the best (TRL's `BestOfNSampler` semantics), with every candidate ranked for inspection.
 *
 * @example
 * ```ts
 * import { bestOfN } from "@tether/rlhf/best-of-n";
 * const [r] = await bestOfN([promptIds], {
 *   generate: (rows, n) => model.generate(rows, { maxNewTokens: n }),
 *   decode: (ids) => tokenizer.decode(ids),
 *   reward: sentimentReward,
 *   sampleSize: 16,
 *   maxNewTokens: 20,
 * });
 * console.log(r.best[0], r.ranked.map((c) => c.score));
 * ```
 * @module
 */

export {
  bestOfN,
  type BestOfNOptions,
  type BestOfNResult,
  type Candidate,
  type GenerateFn,
} from "./sampler.ts";
export type { RewardFunction } from "../common/reward_functions.ts";
