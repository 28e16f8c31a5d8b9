/**
 * torch's `CosineAnnealingLR` and `LinearLR` (the schedulers trlX configs name
 * `cosine_annealing` and `linear`), as closed forms of the step count on top of
 * {@link LambdaLR}. torch computes them recursively from the previous lr; the closed forms are
 * the same values up to rounding (torch documents both), and resume from a step count alone.
 */

import type { Hyperparams, Optimizer } from "./optimizer.ts";
import { LambdaLR } from "./schedule.ts";

/** Options of {@link CosineAnnealingLR} (torch's `T_max`, `eta_min`). */
export interface CosineAnnealingOptions {
  /** Half-period of the cosine, in steps (torch's `T_max`). */
  tMax: number;
  /** The lowest lr (torch's `eta_min`, default 0). */
  etaMin?: number;
}

/**
 * torch.optim.lr_scheduler.CosineAnnealingLR:
 * `lr_t = η_min + (base − η_min)·(1 + cos(π·t/T_max))/2`, which after T_max climbs back along the
 * same cosine (torch's restart-free continuation).
 *
 * @example
 * ```ts
 * import { AdamW, CosineAnnealingLR } from "./mod.ts";
 * import { zeros } from "../mod.ts";
 * const opt = new AdamW([zeros([2], { requiresGrad: true })], { lr: 1e-3 });
 * const sched = new CosineAnnealingLR(opt, { tMax: 100, etaMin: 1e-5 });
 * sched.step(); // after each opt.step()
 * ```
 */
export class CosineAnnealingLR extends LambdaLR {
  /**
   * Sets each group's lr for step 0 (its current lr).
   *
   * @param optimizer Its groups' current lrs are the base lrs.
   * @param options `tMax` and `etaMin`.
   */
  constructor(optimizer: Optimizer<Hyperparams>, options: CosineAnnealingOptions) {
    const { tMax } = options;
    const etaMin = options.etaMin ?? 0;
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax (T_max) must be > 0, got ${tMax}`);
    if (!(etaMin >= 0)) {
      throw new Error(`CosineAnnealingLR: etaMin (eta_min) must be >= 0, got ${etaMin}`);
    }
    super(
      optimizer,
      optimizer.paramGroups.map((g, i) => {
        const base = g.lr as number;
        if (base === 0 && etaMin !== 0) {
          throw new Error(
            `CosineAnnealingLR: group ${i} has lr 0, so its schedule cannot be a multiple of it; ` +
              `give it an lr > 0 or etaMin 0`,
          );
        }
        if (base === etaMin) return () => 1;
        return (s: number) =>
          (etaMin + (base - etaMin) * (1 + Math.cos((Math.PI * s) / tMax)) / 2) / base;
      }),
    );
  }
}

/** Options of {@link LinearLR} (torch's defaults: 1/3, 1, 5). */
export interface LinearLROptions {
  /** Multiplier at step 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** Multiplier from `totalIters` on, in [0, 1] (default 1). */
  endFactor?: number;
  /** Steps over which the multiplier moves linearly (default 5). */
  totalIters?: number;
}

/**
 * torch.optim.lr_scheduler.LinearLR: the multiplier moves linearly from `startFactor` to
 * `endFactor` over `totalIters` steps, then stays.
 */
export class LinearLR extends LambdaLR {
  /**
   * Sets each group's lr for step 0 (`startFactor` × its current lr).
   *
   * @param optimizer Its groups' current lrs are the base lrs.
   * @param options Start and end factors and the number of steps.
   */
  constructor(optimizer: Optimizer<Hyperparams>, options: LinearLROptions = {}) {
    const start = options.startFactor ?? 1 / 3;
    const end = options.endFactor ?? 1;
    const total = options.totalIters ?? 5;
    if (!(start > 0 && start <= 1)) {
      throw new Error(`LinearLR: startFactor (start_factor) must be in (0, 1], got ${start}`);
    }
    if (!(end >= 0 && end <= 1)) {
      throw new Error(`LinearLR: endFactor (end_factor) must be in [0, 1], got ${end}`);
    }
    if (!(Number.isInteger(total) && total >= 0)) {
      throw new Error(`LinearLR: totalIters (total_iters) must be an integer >= 0, got ${total}`);
    }
    // With totalIters 0 torch keeps the start factor (its recursion never moves).
    super(
      optimizer,
      (s) => (total === 0 ? start : start + ((end - start) * Math.min(total, s)) / total),
    );
  }
}
