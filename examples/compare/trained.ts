/**
 * What each algorithm's run hands to the evaluation: the tuned policy and how much training it
 * did within its budget.
 *
 * @module
 */

import type { CausalLM } from "../../models/mod.ts";

/** A finished training run. */
export interface TrainedPolicy {
  /** The tuned policy (the caller evaluates, then disposes it). */
  model: CausalLM;
  /** Units of work completed. */
  steps: number;
  /** What one unit is, e.g. `PPO step (16 rollouts × 4 epochs)`. */
  stepUnit: string;
  /** Wall-clock seconds spent training (model loading excluded). */
  trainSeconds: number;
  /** Anything a reader should know about this run. */
  notes: string[];
}
