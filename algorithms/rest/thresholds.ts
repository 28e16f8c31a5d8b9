/**
 * ReST's Improve-step filters as pure functions over rewards grouped by prompt:
 *
 * - fixed thresholds τ_1 < τ_2 < … < τ_I, keep R(x, y) > τ_i (Gulcehre et al. 2023, Algorithm 1);
 * - a percentile schedule (trlX's `AccelerateRFTTrainer`): Improve step i (1-based) of I uses the
 *   percentile p_i = start + (end − start)/I · (i − 1); each prompt's threshold is the linear
 *   quantile p_i of that prompt's rewards; the thresholds are clipped to
 *   [min over prompts + 0.001, max over prompts − 0.001]; keep R(x, y) ≥ threshold.
 *
 * @module
 */

/** trlX's rising-percentile schedule: the first Improve step uses `startPercentile`. */
export interface PercentileSchedule {
  /** Percentile (in [0, 1]) of Improve step 1 (trlX default 0.7). */
  startPercentile: number;
  /** Percentile the schedule rises towards; step I uses start + (end − start)·(I − 1)/I (0.95). */
  endPercentile: number;
}

/** Fixed thresholds τ_1 < … < τ_I (one per Improve step), or a percentile schedule. */
export type ThresholdSchedule = readonly number[] | PercentileSchedule;

/** How a reward is compared with its threshold. */
export type ThresholdComparison = ">" | ">=";

/** The thresholds one Improve step applies. */
export interface StepThresholds {
  /** The percentile of a percentile schedule (null for fixed thresholds). */
  percentile: number | null;
  /** Per-prompt thresholds before clipping (percentile schedule) or τ_i for every prompt. */
  raw: number[];
  /** The thresholds applied, one per prompt. */
  thresholds: number[];
  /** `>` for fixed thresholds (the paper), `>=` for the percentile schedule (trlX). */
  comparison: ThresholdComparison;
}

/**
 * Check that fixed thresholds are finite and strictly increasing; errors name the index and
 * the values.
 *
 * @param where Caller, for messages.
 * @param thresholds τ_1, τ_2, … in Improve-step order.
 */
export function checkFixedThresholds(where: string, thresholds: readonly number[]): void {
  thresholds.forEach((t, i) => {
    if (typeof t !== "number" || !Number.isFinite(t)) {
      throw new Error(`${where}: thresholds[${i}] must be a finite number, got ${t}`);
    }
    if (i > 0 && !(t > thresholds[i - 1])) {
      throw new Error(
        `${where}: thresholds must be strictly increasing (τ_1 < τ_2 < …), but thresholds[${i}] ` +
          `= ${t} is not above thresholds[${i - 1}] = ${thresholds[i - 1]}`,
      );
    }
  });
}

/**
 * Check a percentile schedule: both percentiles in [0, 1], start ≤ end.
 *
 * @param where Caller, for messages.
 * @param schedule The schedule.
 */
export function checkPercentileSchedule(where: string, schedule: PercentileSchedule): void {
  for (const field of ["startPercentile", "endPercentile"] as const) {
    const v = schedule[field];
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
      throw new Error(`${where}: thresholds.${field} must be a number in [0, 1], got ${v}`);
    }
  }
  if (schedule.startPercentile > schedule.endPercentile) {
    throw new Error(
      `${where}: thresholds.startPercentile (${schedule.startPercentile}) must not exceed ` +
        `endPercentile (${schedule.endPercentile}); the thresholds rise from one Improve step to the next`,
    );
  }
}

/**
 * The q-quantile of `values` with linear interpolation between order statistics (numpy's
 * default `quantile` method).
 *
 * @param values At least one number.
 * @param q Quantile in [0, 1].
 */
export function quantileLinear(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error("quantileLinear: no values");
  if (!(q >= 0 && q <= 1)) throw new Error(`quantileLinear: q must be in [0, 1], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lo = Math.floor(position);
  const t = position - lo;
  if (lo + 1 >= sorted.length) return sorted[lo];
  const a = sorted[lo], b = sorted[lo + 1];
  // numpy interpolates from the nearer end, which keeps the result monotone in q.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/**
 * The percentile of Improve step `step` (1-based) of `improveSteps`.
 *
 * @param schedule Start and end percentiles.
 * @param improveSteps I, the number of Improve steps per Grow step.
 * @param step Improve step, 1..I.
 */
export function scheduledPercentile(
  schedule: PercentileSchedule,
  improveSteps: number,
  step: number,
): number {
  const { startPercentile: start, endPercentile: end } = schedule;
  return start + (end - start) / improveSteps * (step - 1);
}

/**
 * Per-prompt quantile thresholds, then clipped across prompts to
 * [min + 0.001, max − 0.001] (as numpy's `clip`: when the bounds cross, the upper one wins).
 *
 * @param rewardsPerPrompt Rewards of each prompt's samples (each non-empty).
 * @param percentile Quantile in [0, 1].
 */
export function percentileThresholds(
  rewardsPerPrompt: readonly (readonly number[])[],
  percentile: number,
): { raw: number[]; clipped: number[] } {
  const raw = rewardsPerPrompt.map((rewards, i) => {
    if (rewards.length === 0) throw new Error(`percentileThresholds: prompt ${i} has no rewards`);
    return quantileLinear(rewards, percentile);
  });
  const lo = Math.min(...raw) + 1e-3, hi = Math.max(...raw) - 1e-3;
  return { raw, clipped: raw.map((t) => Math.min(Math.max(t, lo), hi)) };
}

/**
 * The thresholds of Improve step `step` (1-based) under `schedule`.
 *
 * @param schedule Fixed thresholds (length `improveSteps`) or a percentile schedule.
 * @param improveSteps I.
 * @param step Improve step, 1..I.
 * @param rewardsPerPrompt Rewards of the Grow set, grouped by prompt.
 */
export function thresholdsForStep(
  schedule: ThresholdSchedule,
  improveSteps: number,
  step: number,
  rewardsPerPrompt: readonly (readonly number[])[],
): StepThresholds {
  if (isFixed(schedule)) {
    const tau = schedule[step - 1];
    if (tau === undefined) {
      throw new Error(
        `thresholdsForStep: Improve step ${step} has no threshold (${schedule.length} given)`,
      );
    }
    const all = rewardsPerPrompt.map(() => tau);
    return { percentile: null, raw: all, thresholds: [...all], comparison: ">" };
  }
  const percentile = scheduledPercentile(schedule, improveSteps, step);
  const { raw, clipped } = percentileThresholds(rewardsPerPrompt, percentile);
  return { percentile, raw, thresholds: clipped, comparison: ">=" };
}

/**
 * Indices of the samples that pass, per prompt.
 *
 * @param rewardsPerPrompt Rewards grouped by prompt.
 * @param thresholds One threshold for all prompts, or one per prompt.
 * @param comparison `>` (the paper's fixed thresholds) or `>=` (trlX's percentiles).
 */
export function keptIndices(
  rewardsPerPrompt: readonly (readonly number[])[],
  thresholds: number | readonly number[],
  comparison: ThresholdComparison,
): number[][] {
  if (typeof thresholds !== "number" && thresholds.length !== rewardsPerPrompt.length) {
    throw new Error(
      `keptIndices: ${thresholds.length} thresholds for ${rewardsPerPrompt.length} prompts`,
    );
  }
  return rewardsPerPrompt.map((rewards, p) => {
    const tau = typeof thresholds === "number" ? thresholds : thresholds[p];
    const kept: number[] = [];
    rewards.forEach((r, i) => {
      if (comparison === ">" ? r > tau : r >= tau) kept.push(i);
    });
    return kept;
  });
}

/**
 * Whether `schedule` is a list of fixed thresholds.
 *
 * @param schedule A threshold schedule.
 */
export function isFixed(schedule: ThresholdSchedule): schedule is readonly number[] {
  return Array.isArray(schedule);
}
