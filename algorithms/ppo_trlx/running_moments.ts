/**
 * trlX's `RunningMoments` (TRLX `trlx/utils/modeling.py`): the running mean and std of the
 * per-sample summed scores, which `scale_reward: "running"` divides by.
 *
 * The update rule is TRL's (SPEC A.2), but TRL rounds every step to float32 while trlX computes
 * in the dtype of the scores it is given; this class computes in float64, matching trlX's
 * function on float64 inputs exactly and its float32 runs to ~1e-7 relative. (TRL's class in
 * `algorithms/ppo/running_moments.ts` keeps TRL's float32 rounding.)
 */

/** The batch's own mean and unbiased std, returned by `update`. */
export interface TrlxBatchMoments {
  /** Mean of the batch. */
  mean: number;
  /** Unbiased std of the batch (NaN for a single value, as torch gives). */
  std: number;
}

/** Saved state of {@link TrlxRunningMoments}. */
export interface TrlxRunningMomentsState {
  /** Running mean. */
  mean: number;
  /** Running population variance. */
  var: number;
  /** Running unbiased std. */
  std: number;
  /** Values seen (starts at 1e-24). */
  count: number;
}

/** Parallel-algorithm running moments over every batch seen. */
export class TrlxRunningMoments {
  /** Running mean. */
  mean = 0;
  /** Running population variance. */
  var = 1;
  /** Running unbiased std: √(var·count/(count − 1)). */
  std = 1;
  /** Values seen (starts at a tiny positive count, as trlX does). */
  count = 1e-24;

  /**
   * Folds in a batch; returns that batch's own mean and unbiased std.
   *
   * @param xs The batch (trlX passes each sample's summed score).
   */
  update(xs: readonly number[]): TrlxBatchMoments {
    const n = xs.length;
    if (n === 0) throw new Error("TrlxRunningMoments.update: empty batch");
    let s = 0;
    for (const x of xs) s += x;
    const batchMean = s / n;
    let ss = 0;
    for (const x of xs) ss += (x - batchMean) ** 2;
    const batchVar = ss / n;

    const delta = batchMean - this.mean;
    const total = this.count + n;
    const oldSum = this.var * this.count + (delta ** 2 * this.count * n) / total;
    this.mean += (delta * n) / total;
    this.var = (oldSum + batchVar * n) / total;
    this.std = Math.sqrt((this.var * total) / (total - 1));
    this.count = total;
    return { mean: batchMean, std: Math.sqrt((batchVar * n) / (n - 1)) };
  }

  /** State for checkpoints. */
  stateDict(): TrlxRunningMomentsState {
    return { mean: this.mean, var: this.var, std: this.std, count: this.count };
  }

  /**
   * Restores `stateDict()` output.
   *
   * @param state A saved state.
   */
  loadStateDict(state: TrlxRunningMomentsState): void {
    this.mean = state.mean;
    this.var = state.var;
    this.std = state.std;
    this.count = state.count;
  }
}
