/**
 * Per-token rewards of TRL 0.7.4's PPO: a KL penalty against the reference model on every token,
 * plus the sequence score on the last response token.
 */

import {
  abs,
  add,
  exp,
  expand,
  logSoftmax,
  mul,
  reshape,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
} from "../../core/mod.ts";

/** How the per-token KL between policy and reference is estimated. */
export type KlPenalty = "kl" | "abs" | "mse" | "full";

/** Logits for the `full` estimator, which needs whole next-token distributions. */
export interface FullKlInputs {
  /** Policy logits [B, T, V]. */
  logits: Tensor;
  /** Reference logits [B, T, V]. */
  refLogits: Tensor;
}

/**
 * The per-token KL estimate k[b,t] (SPEC A.4): `kl` lp − rp, `abs` |lp − rp|, `mse` ½(lp − rp)²,
 * `full` Σ_v p(v)·(log p(v) − log p_ref(v)) from the full distributions.
 */
export function klPenalty(
  logprobs: Tensor,
  refLogprobs: Tensor,
  mode: KlPenalty,
  full?: FullKlInputs,
): Tensor {
  switch (mode) {
    case "kl":
      return sub(logprobs, refLogprobs);
    case "abs":
      return abs(sub(logprobs, refLogprobs));
    case "mse":
      return mul(square(sub(logprobs, refLogprobs)), 0.5);
    case "full": {
      if (!full) {
        throw new Error(
          "klPenalty: kl_penalty 'full' needs the policy and reference logits ({ logits, refLogits })",
        );
      }
      const lp = logSoftmax(full.logits), rp = logSoftmax(full.refLogits);
      return sum(mul(exp(lp), sub(lp, rp)), { axis: -1 });
    }
    default:
      throw new Error(
        `klPenalty: unknown kl_penalty '${mode as string}'; use one of kl, abs, mse, full`,
      );
  }
}

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
