/**
 * Per-token rewards of TRL 0.7.4's PPO: a KL penalty against the reference model on every token,
 * plus the sequence score on the last response token.
 */

import { add, expand, mul, reshape, type Tensor, tensor } from "../../core/mod.ts";
import { type FullKlInputs, type KlPenalty, klPenalty } from "../common/kl.ts";

export { type FullKlInputs, type KlPenalty, klPenalty };

/** One-hot [B, T] marking each row's last response token (`lastIndex[b]`). */
export function lastTokenOneHot(lastIndex: readonly number[], T: number, backend: string): Tensor {
  const v = new Float32Array(lastIndex.length * T);
  lastIndex.forEach((t, b) => {
    if (!(t >= 0 && t < T)) {
      throw new Error(
        `lastTokenOneHot: row ${b} has last response position ${t}, outside [0, ${T}); ` +
          `is its response empty?`,
      );
    }
    v[b * T + t] = 1;
  });
  return tensor(v, [lastIndex.length, T], { backend });
}

/** Rewards [B, T] and the KL part alone (`non_score_reward`). */
export interface TokenRewards {
  /** −β·k on every token, plus the score on each row's last response token. */
  rewards: Tensor;
  /** −β·k on every token. */
  nonScoreReward: Tensor;
}

/**
 * TRL's `compute_rewards`: `non_score_reward = −β·k`; `reward = non_score_reward` plus `score[b]` at
 * the last response token of row b (`lastIndex[b]`, the last t with mask 1).
 */
export function computeRewards(
  scores: Tensor,
  logprobs: Tensor,
  refLogprobs: Tensor,
  lastIndex: readonly number[],
  klCoef: number,
  mode: KlPenalty = "kl",
  full?: FullKlInputs,
): TokenRewards {
  return rewardsFromKl(scores, klPenalty(logprobs, refLogprobs, mode, full), lastIndex, klCoef);
}

/** `computeRewards` from a per-token KL estimate k [B, T] already computed (e.g. per chunk). */
export function rewardsFromKl(
  scores: Tensor,
  k: Tensor,
  lastIndex: readonly number[],
  klCoef: number,
): TokenRewards {
  const [B, T] = k.shape;
  if (scores.size !== B) {
    throw new Error(`computeRewards: ${scores.size} scores for a batch of ${B} rows`);
  }
  const nonScoreReward = mul(k, -klCoef);
  const last = lastTokenOneHot(lastIndex, T, k.backend.name);
  const scoreAtLast = mul(last, expand(reshape(scores, [B, 1]), [B, T]));
  return { rewards: add(nonScoreReward, scoreAtLast), nonScoreReward };
}
