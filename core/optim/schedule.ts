/**
 * Learning-rate schedules: torch's LambdaLR driving the multipliers of transformers'
 * `get_constant_schedule`, `get_constant_schedule_with_warmup`, `get_linear_schedule_with_warmup`
 * and `get_cosine_schedule_with_warmup`.
 */

import type { Hyperparams, Optimizer } from "./optimizer.ts";

/** Maps the step count (0 at construction) to a multiplier of each group's initial lr. */
export type LrLambda = (step: number) => number;

/** A scheduler's resumable state. */
export interface SchedulerState {
  /** Steps taken (0 right after construction). */
  lastStep: number;
  /** The initial lr of each group. */
  baseLrs: number[];
}

/**
 * torch.optim.lr_scheduler.LambdaLR: `group.lr = baseLr · lambda(step)`. Construction applies
 * step 0; call `step()` after each `optimizer.step()`.
 */
export class LambdaLR {
  /** Steps taken so far (0 right after construction). */
  lastStep = 0;
  /** The initial lr of each group. */
  baseLrs: number[];
  readonly #lambdas: LrLambda[];

  /** Schedules `optimizer` with one lambda for every group, or one per group. */
  constructor(readonly optimizer: Optimizer<Hyperparams>, lambdas: LrLambda | LrLambda[]) {
    const groups = optimizer.paramGroups;
    this.baseLrs = groups.map((g, i) => {
      if (typeof g.lr !== "number") {
        throw new Error(`LambdaLR: group ${i} of ${optimizer.name} has no numeric lr`);
      }
      return g.lr;
    });
    if (Array.isArray(lambdas) && lambdas.length !== groups.length) {
      throw new Error(
        `LambdaLR: got ${lambdas.length} lambdas for ${groups.length} parameter groups`,
      );
    }
    this.#lambdas = Array.isArray(lambdas) ? lambdas : groups.map(() => lambdas);
    this.#apply();
  }

  /** Advances one step and sets each group's lr. */
  step(): void {
    this.lastStep++;
    this.#apply();
  }

  /** The lr of each group as last set. */
  lastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr as number);
  }

  /** The step count and initial lrs, for checkpoints. */
  stateDict(): SchedulerState {
    return { lastStep: this.lastStep, baseLrs: [...this.baseLrs] };
  }

  /** Restores a saved state and sets the lrs it implies. */
  loadStateDict(state: SchedulerState): void {
    if (state.baseLrs.length !== this.baseLrs.length) {
      throw new Error(
        `LambdaLR.loadStateDict: the state has ${state.baseLrs.length} groups, the optimizer ` +
          `${this.baseLrs.length}`,
      );
    }
    this.lastStep = state.lastStep;
    this.baseLrs = [...state.baseLrs];
    this.#apply();
  }

  #apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.baseLrs[i] * this.#lambdas[i](this.lastStep);
    });
  }
}

function warmup(step: number, warmupSteps: number): number {
  return step / Math.max(1, warmupSteps);
}

function checkSteps(what: string, warmupSteps: number, totalSteps?: number): void {
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 0)) {
    throw new Error(`${what}: warmupSteps must be an integer >= 0, got ${warmupSteps}`);
  }
  if (totalSteps !== undefined && !(Number.isInteger(totalSteps) && totalSteps >= 0)) {
    throw new Error(`${what}: totalSteps must be an integer >= 0, got ${totalSteps}`);
  }
}

/** The schedules' multipliers as plain functions of the step. */
export const lrLambdas = {
  /** Always 1. */
  constant: (): LrLambda => () => 1,
  /** Linear from 0 to 1 over `warmupSteps`, then 1. */
  constantWithWarmup: (warmupSteps: number): LrLambda => {
    checkSteps("constantWithWarmup", warmupSteps);
    return (s) => (s < warmupSteps ? warmup(s, warmupSteps) : 1);
  },
  /** Linear warmup to 1, then linear decay to 0 at `totalSteps`. */
  linearWithWarmup: (warmupSteps: number, totalSteps: number): LrLambda => {
    checkSteps("linearWithWarmup", warmupSteps, totalSteps);
    return (s) =>
      s < warmupSteps
        ? warmup(s, warmupSteps)
        : Math.max(0, (totalSteps - s) / Math.max(1, totalSteps - warmupSteps));
  },
  /** Linear warmup to 1, then a cosine over `numCycles` periods (0.5: down to 0 at the end). */
  cosineWithWarmup: (warmupSteps: number, totalSteps: number, numCycles = 0.5): LrLambda => {
    checkSteps("cosineWithWarmup", warmupSteps, totalSteps);
    return (s) => {
      if (s < warmupSteps) return warmup(s, warmupSteps);
      const progress = (s - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
    };
  },
};

/** A constant lr (transformers' get_constant_schedule). */
export function constantSchedule(optimizer: Optimizer<Hyperparams>): LambdaLR {
  return new LambdaLR(optimizer, lrLambdas.constant());
}

/** Linear warmup, then constant (transformers' get_constant_schedule_with_warmup). */
export function constantScheduleWithWarmup(
  optimizer: Optimizer<Hyperparams>,
  warmupSteps: number,
): LambdaLR {
  return new LambdaLR(optimizer, lrLambdas.constantWithWarmup(warmupSteps));
}

/** Linear warmup, then linear decay to 0 (transformers' get_linear_schedule_with_warmup). */
export function linearScheduleWithWarmup(
  optimizer: Optimizer<Hyperparams>,
  warmupSteps: number,
  totalSteps: number,
): LambdaLR {
  return new LambdaLR(optimizer, lrLambdas.linearWithWarmup(warmupSteps, totalSteps));
}

/** Linear warmup, then cosine decay (transformers' get_cosine_schedule_with_warmup). */
export function cosineScheduleWithWarmup(
  optimizer: Optimizer<Hyperparams>,
  warmupSteps: number,
  totalSteps: number,
  numCycles = 0.5,
): LambdaLR {
  return new LambdaLR(optimizer, lrLambdas.cosineWithWarmup(warmupSteps, totalSteps, numCycles));
}
