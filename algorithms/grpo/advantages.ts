/**
 * GRPO's advantages (TRL 1.9, SPEC D.5): each completion's reward compared with the other
 * completions of its prompt, scaled by the group's (or the batch's) standard deviation. Host-side
 * float64, a pure function of the rewards.
 *
 * @module
 */

import { groupsOf, nanMean, nanStd, weightedRewards } from "../common/groups.ts";

/** How rewards are scaled (TRL's `scale_rewards`). */
export type ScaleRewards = "group" | "batch" | "none";

/** The scalings, for messages. */
export const SCALE_REWARDS: readonly ScaleRewards[] = ["group", "batch", "none"];

/** How several reward functions combine (TRL's `multi_objective_aggregation`). */
export type MultiObjectiveAggregation = "sum_then_normalize" | "normalize_then_sum";

/** The aggregations, for messages. */
export const MULTI_OBJECTIVE_AGGREGATIONS: readonly MultiObjectiveAggregation[] = [
  "sum_then_normalize",
  "normalize_then_sum",
];

/** Options of {@link grpoAdvantages}. */
export interface GrpoAdvantageOptions {
  /** Completions per prompt (consecutive rows form a group). */
  numGenerations: number;
  /** Weight of each reward function (default all 1). */
  weights?: readonly number[];
  /** Scaling (default `group`). */
  scaleRewards?: ScaleRewards;
  /** How functions combine (default `sum_then_normalize`). */
  aggregation?: MultiObjectiveAggregation;
}

/** What {@link grpoAdvantages} returns, one entry per completion. */
export interface GrpoAdvantages {
  /** The advantages (0 for an unscorable completion). */
  advantages: number[];
  /** The weighted reward summed over functions (NaN when unscorable). */
  rewards: number[];
  /** Whether the standard deviation used for the row is 0 (TRL's `is_std_zero`). */
  stdZero: boolean[];
}

/**
 * GRPO's advantages. With `sum_then_normalize` (TRL's default): r = Σ_f w_f·r_f;
 * A = r − mean_group(r), divided by std + 1e−4 where std is the group's (`group`), the whole
 * batch's (`batch`), or not at all (`none`). With `normalize_then_sum`: each function's
 * rewards are normalised within the group first, summed with weights, then normalised by the
 * batch mean and std. Means and stds skip unscorable completions (NaN), whose advantage is 0.
 *
 * @example
 * ```ts
 * import { grpoAdvantages } from "@tether/rlhf/grpo";
 * const { advantages } = grpoAdvantages([[1, 0, 0.5, 0.5]], { numGenerations: 4 });
 * // [1.2244, -1.2244, 0, 0]
 * ```
 *
 * @param perFunction Rewards `[function][completion]`, NaN for a function's `null`.
 * @param options Group size, weights, scaling, aggregation.
 */
export function grpoAdvantages(
  perFunction: readonly (readonly number[])[],
  options: GrpoAdvantageOptions,
): GrpoAdvantages {
  const G = options.numGenerations;
  const weights = options.weights ?? perFunction.map(() => 1);
  const scale = options.scaleRewards ?? "group";
  const rewards = weightedRewards(perFunction, weights);
  let advantages: number[], std: number[];
  if ((options.aggregation ?? "sum_then_normalize") === "sum_then_normalize") {
    const groups = groupsOf(rewards, G);
    const means = groups.flatMap((g) => g.map(() => nanMean(g)));
    if (scale === "batch") {
      const s = rewards.length > 1 ? nanStd(rewards) : 0;
      std = rewards.map(() => s);
    } else {
      std = groups.flatMap((g) => g.map(() => (G > 1 ? nanStd(g) : 0)));
    }
    advantages = rewards.map((r, i) => {
      const a = r - means[i];
      return scale === "none" ? a : a / (std[i] + 1e-4);
    });
  } else {
    const normalized = perFunction.map((scores) =>
      groupsOf(scores, G).flatMap((g) => {
        const m = nanMean(g), s = G > 1 ? nanStd(g) : 0;
        return g.map((x) => (x - m) / (s + 1e-4));
      })
    );
    const summed = weightedRewards(normalized, weights).map((r, i) =>
      Number.isNaN(rewards[i]) ? NaN : r
    );
    const s = summed.length > 1 ? nanStd(summed) : 0;
    const m = nanMean(summed);
    std = summed.map(() => s);
    advantages = summed.map((r) => (r - m) / (s + 1e-4));
  }
  return {
    advantages: advantages.map((a) => (Number.isNaN(a) ? 0 : a)),
    rewards,
    // torch.isclose(std, 0): |std| <= 1e-8 (NaN is not close to anything).
    stdZero: std.map((s) => Math.abs(s) <= 1e-8),
  };
}
