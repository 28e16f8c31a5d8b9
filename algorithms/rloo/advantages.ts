/**
 * RLOO's advantages (TRL 1.9, SPEC D.4): each completion's reward, less β times its sequence KL
 * to the reference, compared with the mean reward of the other completions of its prompt (the
 * leave-one-out baseline). Host-side float64, a pure function of the rewards and KLs.
 *
 * @module
 */

import { groupsOf, nanMean, nanStd, weightedRewards } from "../common/groups.ts";

/** Options of {@link rlooAdvantages}. */
export interface RlooAdvantageOptions {
  /** Completions per prompt (consecutive rows form a group). */
  numGenerations: number;
  /** Weight of each reward function (default all 1). */
  weights?: readonly number[];
  /** KL coefficient β (default 0: no penalty). */
  beta?: number;
  /** Σ_t (log π_old − log π_ref) over each completion's tokens; needed when β ≠ 0. */
  sequenceKl?: readonly number[];
  /** Clip the summed reward to [min, max] before the KL penalty (default: no clipping). */
  rewardClipRange?: readonly [number, number] | null;
  /** Whiten the advantages over the batch (default false). */
  normalizeAdvantages?: boolean;
}

/** What {@link rlooAdvantages} returns, one entry per completion. */
export interface RlooAdvantages {
  /** The advantages (0 for an unscorable completion). */
  advantages: number[];
  /** The weighted reward after clipping and the KL penalty (NaN when unscorable). */
  rewards: number[];
  /** The weighted reward before clipping and the KL penalty (what TRL logs as `reward`). */
  scores: number[];
  /** Whether the group's reward standard deviation is 0 (TRL's `is_std_zero`). */
  stdZero: boolean[];
}

/**
 * RLOO's advantages: r_i = Σ_f w_f·r_f (clipped if asked) − β·KL_i; baseline_i = the mean of
 * the other scorable rewards of the group, (Σ_j r_j − r_i)/(k − 1); A_i = r_i − baseline_i;
 * with `normalizeAdvantages`, A ← (A − mean A)/(std A + 1e−4) over the scorable completions.
 * An unscorable completion (NaN) is left out of its group's baseline and gets A = 0.
 *
 * @example
 * ```ts
 * import { rlooAdvantages } from "@tether/rlhf/rloo";
 * const { advantages } = rlooAdvantages([[1, 0, 0.5, 0.5]], { numGenerations: 4 });
 * // [0.6667, -0.6667, 0, 0]
 * ```
 *
 * @param perFunction Rewards `[function][completion]`, NaN for a function's `null`.
 * @param options Group size, weights, β and KLs, clipping, normalisation.
 */
export function rlooAdvantages(
  perFunction: readonly (readonly number[])[],
  options: RlooAdvantageOptions,
): RlooAdvantages {
  const G = options.numGenerations;
  const beta = options.beta ?? 0;
  const scores = weightedRewards(perFunction, options.weights ?? perFunction.map(() => 1));
  let rewards = scores;
  const clip = options.rewardClipRange;
  if (clip) rewards = rewards.map((r) => Math.min(Math.max(r, clip[0]), clip[1]));
  if (beta !== 0) {
    const kl = options.sequenceKl;
    if (!kl || kl.length !== rewards.length) {
      throw new Error(
        `rlooAdvantages: beta is ${beta} but ${kl?.length ?? 0} sequence KLs were given for ` +
          `${rewards.length} completions`,
      );
    }
    rewards = rewards.map((r, i) => r - beta * kl[i]);
  }
  const groups = groupsOf(rewards, G);
  let advantages = groups.flatMap((g) => {
    if (G < 2) return g.map(() => 0);
    const scorable = g.filter((r) => !Number.isNaN(r));
    const sum = scorable.reduce((a, b) => a + b, 0);
    return g.map((r) => r - (sum - r) / (scorable.length - 1));
  });
  if (options.normalizeAdvantages) {
    const m = nanMean(advantages), s = nanStd(advantages);
    advantages = advantages.map((a) => (a - m) / (s + 1e-4));
  }
  const stdZero = groups.flatMap((g) => {
    const s = G > 1 ? nanStd(g) : 0;
    return g.map(() => Math.abs(s) <= 1e-8);
  });
  return {
    advantages: advantages.map((a) => (Number.isFinite(a) ? a : 0)),
    rewards,
    scores,
    stdZero,
  };
}
