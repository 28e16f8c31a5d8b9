/**
 * The Improve step's data: the Grow set filtered by the step's threshold, de-duplicated, with a
 * clear error when nothing passes.
 *
 * @module
 */

import type { GrowSample } from "./grow.ts";
import {
  isFixed,
  keptIndices,
  type StepThresholds,
  type ThresholdSchedule,
  thresholdsForStep,
} from "./thresholds.ts";

/** What one Improve step trains on. */
export interface ImproveSelection {
  /** The thresholds applied. */
  thresholds: StepThresholds;
  /** Samples that passed, de-duplicated by (prompt, completion tokens), in Grow order. */
  kept: GrowSample[];
  /** Samples that passed before de-duplication. */
  passed: number;
  /** Samples scored in the Grow set. */
  scored: number;
}

/** No sample of a Grow set passed an Improve step's threshold. */
export class EmptyImproveSetError extends Error {
  /**
   * An error with the given message.
   *
   * @param message What was filtered and how to fix it.
   */
  constructor(message: string) {
    super(message);
    this.name = "EmptyImproveSetError";
  }
}

/**
 * Filter a Grow set for Improve step `step`: group rewards by prompt, take the step's
 * thresholds, keep what passes, drop repeated (prompt, completion) pairs.
 *
 * @param samples The scored Grow set.
 * @param promptCount Number of Grow prompts (samples' `promptIndex` is below it).
 * @param schedule Fixed thresholds or a percentile schedule.
 * @param improveSteps I.
 * @param step Improve step, 1..I.
 * @param growStep Grow step, for the error message.
 */
export function selectForImprove(
  samples: readonly GrowSample[],
  promptCount: number,
  schedule: ThresholdSchedule,
  improveSteps: number,
  step: number,
  growStep: number,
): ImproveSelection {
  const groups: GrowSample[][] = Array.from({ length: promptCount }, () => []);
  for (const s of samples) groups[s.promptIndex].push(s);
  const present = groups.filter((g) => g.length > 0);
  const rewards = present.map((g) => g.map((s) => s.reward));
  const thresholds = thresholdsForStep(schedule, improveSteps, step, rewards);
  const passing = keptIndices(rewards, thresholds.thresholds, thresholds.comparison)
    .flatMap((indices, p) => indices.map((i) => present[p][i]));
  const seen = new Set<string>();
  const kept = passing.filter((s) => {
    const key = `${s.promptIndex}:${s.completionIds.join(",")}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (kept.length === 0) {
    const max = samples.reduce((m, s) => Math.max(m, s.reward), -Infinity);
    const rule = isFixed(schedule)
      ? `reward > thresholds[${step - 1}] = ${schedule[step - 1]}`
      : `reward >= the per-prompt percentile-${thresholds.percentile} thresholds`;
    throw new EmptyImproveSetError(
      `ReST: Grow step ${growStep}, Improve step ${step}: no sample passed the filter ` +
        `(${rule}); ${samples.length} samples were scored and their max reward is ${max}. ` +
        `Lower the threshold or sample more (raise samplesPerPrompt, or add prompts).`,
    );
  }
  return { thresholds, kept, passed: passing.length, scored: samples.length };
}
