/**
 * Running mean and standard deviation of scores, as TRL's `RunningMoments` keeps them for score
 * scaling (SPEC A.2). TRL computes in float32, so every step here rounds through `Math.fround`.
 */

const f = Math.fround;

/** The batch's own mean and unbiased std, returned by `update`. */
export interface BatchMoments {
  /** Mean of the batch. */
  mean: number;
  /** Unbiased std of the batch (NaN for a single value). */
  std: number;
}

/** Parallel-algorithm running moments over every batch seen. */
export class RunningMoments {
  /** Running mean. */
  mean = 0;
  /** Running population variance. */
  var = 1;
  /** Running unbiased std. */
  std = 1;
  /** Values seen (starts at a tiny positive count, as TRL does). */
  count = 1e-24;

  /** Folds in a batch; returns that batch's own mean and unbiased std. */
  update(xs: readonly number[]): BatchMoments {
    const n = xs.length;
    if (n === 0) throw new Error("RunningMoments.update: empty batch of scores");
    let s = 0;
    for (const x of xs) s = f(s + f(x));
    const batchMean = f(s / n);
    let ss = 0;
    for (const x of xs) ss = f(ss + f(f(f(x) - batchMean) ** 2));
    const batchVar = f(ss / n);
    // Left to right, each operation rounded to f32, as the torch expression evaluates.
    const delta = f(batchMean - this.mean);
    const total = this.count + n;
    const oldSum = f(
      f(this.var * f(this.count)) + f(f(f(f(delta * delta) * f(this.count)) * n) / f(total)),
    );
    const totSum = f(oldSum + f(batchVar * n));
    this.mean = f(this.mean + f(f(delta * n) / f(total)));
    this.var = f(totSum / f(total));
    this.std = f(Math.sqrt(f(f(this.var * f(total)) / f(total - 1))));
    this.count = total;
    return { mean: batchMean, std: f(Math.sqrt(f(f(batchVar * n) / (n - 1)))) };
  }

  /** State for checkpoints. */
  stateDict(): { mean: number; var: number; std: number; count: number } {
    return { mean: this.mean, var: this.var, std: this.std, count: this.count };
  }

  /** Restores `stateDict()` output. */
  loadStateDict(s: { mean: number; var: number; std: number; count: number }): void {
    Object.assign(this, s);
  }
}
