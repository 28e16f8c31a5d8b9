/**
 * The update half of an online step, shared by PPO, GRPO and RLOO: passes (epochs) over a fixed
 * rollout in shuffled minibatches, gradient accumulation, clipping, the optimizer and scheduler
 * steps, and the non-finite loss guard. The algorithm supplies only the loss of a minibatch.
 *
 * @module
 */

import { detach, keep, optim, type Tensor, tidy } from "../../core/mod.ts";
import { NonFiniteLossError } from "./nonfinite.ts";

/** An optimizer as the update drives it. */
export interface StepOptimizer {
  /** Applies one update from the accumulated gradients. */
  step(): void;
  /** Clears the gradients. */
  zeroGrad(): void;
}

/** The loss of one minibatch, computed with gradients on. */
export interface MinibatchLoss {
  /** What backward runs on (already scaled for accumulation as the algorithm defines it). */
  loss: Tensor;
  /** Scalar statistics (constants), read back once at the end of the step. */
  stats: Record<string, Tensor>;
}

/** How the passes over a rollout of `rows` samples go. */
export interface MinibatchPlan {
  /** Samples in the rollout. */
  rows: number;
  /** Passes over it (PPO's `ppoEpochs`, GRPO's and RLOO's `numIterations`). */
  epochs: number;
  /** Samples per forward/backward. */
  miniBatchSize: number;
  /** Minibatches whose gradients add up before an optimizer step. */
  gradientAccumulationSteps: number;
  /** The sample order of each pass (a permutation of 0 … rows − 1). */
  order: (epoch: number) => readonly number[];
  /** Clip the global gradient norm to this before each optimizer step (null: no clipping). */
  maxGradNorm: number | null;
}

/** What the update runs with. */
export interface MinibatchUpdate {
  /** Names the trainer and the loss in a non-finite-loss error. */
  where: string;
  /** The step being taken (1-based), for that error. */
  step: number;
  /** Metrics of the last good step, for that error. */
  lastStats: Readonly<Record<string, number>>;
  /** The trained parameters (gradients clipped over them). */
  params: Tensor[];
  /** The optimizer. */
  optimizer: StepOptimizer;
  /** Stepped after each optimizer step, if given. */
  scheduler?: { step(): void };
  /** The loss of the minibatch of these rollout rows (called inside a scope, grads on). */
  loss: (rows: readonly number[], epoch: number) => MinibatchLoss;
  /**
   * Asked after each pass with the last minibatch's statistics; `true` stops the passes
   * (PPO's early stopping). It may read values back.
   */
  stopAfterEpoch?: (lastStats: Record<string, Tensor>) => Promise<boolean>;
}

/** What {@link runMinibatches} returns; its tensors are kept until the caller frees them. */
export interface MinibatchResult {
  /** The statistics of every minibatch, in order. */
  stats: Record<string, Tensor>[];
  /** The global gradient norm before clipping, per optimizer step (with `maxGradNorm` only). */
  gradNorms: Tensor[];
  /** Optimizer steps taken. */
  updates: number;
}

/**
 * Run the passes. On backends that read synchronously (CPU) each minibatch's loss is checked
 * before its backward pass, so a non-finite loss throws {@link NonFiniteLossError} with
 * `afterUpdate` telling whether an update of this step was already applied; other backends find
 * it in the step's single readback.
 *
 * Every tensor it keeps (statistics, gradient norms) is pushed to `held` as well, so the
 * caller frees them also when it throws.
 *
 * @param plan Sizes and order.
 * @param update Loss, optimizer and guard.
 * @param held Receives the kept tensors.
 */
export async function runMinibatches(
  plan: MinibatchPlan,
  update: MinibatchUpdate,
  held: Tensor[],
): Promise<MinibatchResult> {
  const { miniBatchSize: mbs, gradientAccumulationSteps: accum, rows: B } = plan;
  const result: MinibatchResult = { stats: [], gradNorms: [], updates: 0 };
  for (let epoch = 0; epoch < plan.epochs; epoch++) {
    const order = plan.order(epoch);
    let last: Record<string, Tensor> | null = null;
    for (let start = 0; start < B; start += mbs * accum) {
      try {
        for (let m = 0; m < accum && start + m * mbs < B; m++) {
          const rows = order.slice(start + m * mbs, start + (m + 1) * mbs);
          const stats = tidy(() => {
            const out = update.loss(rows, epoch);
            if (out.loss.backend.readSync) {
              const value = out.loss.itemSync();
              if (!Number.isFinite(value)) {
                throw new NonFiniteLossError(
                  update.where,
                  update.step,
                  value,
                  update.lastStats,
                  result.updates > 0,
                );
              }
            }
            out.loss.backward();
            const kept: Record<string, Tensor> = {};
            for (const [k, v] of Object.entries(out.stats)) kept[k] = keep(detach(v));
            return kept;
          });
          result.stats.push(stats);
          held.push(...Object.values(stats));
          last = stats;
        }
        if (plan.maxGradNorm !== null) {
          const norm = keep(optim.clipGradNorm(update.params, plan.maxGradNorm));
          result.gradNorms.push(norm);
          held.push(norm);
        }
        update.optimizer.step();
        update.scheduler?.step();
        result.updates++;
      } finally {
        update.optimizer.zeroGrad();
      }
    }
    if (last && update.stopAfterEpoch && await update.stopAfterEpoch(last)) break;
  }
  return result;
}
