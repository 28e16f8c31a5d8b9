/** RMSprop with torch.optim.RMSprop semantics, running the in-place `rmsprop` op. */

import type { Tensor } from "../tensor.ts";
import { Optimizer, type ParamGroup, type ParamsInput, type ParamState } from "./optimizer.ts";
import { runInPlace } from "./update_op.ts";

/** Hyperparameters of RMSprop (torch names, camelCased). */
export interface RmspropHyperparams {
  [key: string]: unknown;
  /** Learning rate. */
  lr: number;
  /** Smoothing constant of the squared-gradient average. */
  alpha: number;
  /** Added to the denominator after the square root, as in torch. */
  eps: number;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
  /** Momentum factor (0: no momentum buffer). */
  momentum: number;
  /** Divide by an estimate of the gradient's variance instead of its second moment. */
  centered: boolean;
}

/** Options of RMSprop; anything left out takes torch's default. */
export type RmspropOptions = Partial<RmspropHyperparams>;

/**
 * RMSprop (torch.optim.RMSprop): `g ← g + wd·p`; `v ← α·v + (1−α)·g²`; the denominator is
 * `√v + eps`, or `√(v − ḡ²) + eps` when centered (`ḡ ← α·ḡ + (1−α)·g`); then `p ← p − lr·g/den`,
 * or with momentum `b ← μ·b + g/den`, `p ← p − lr·b`. Defaults: lr 1e-2, alpha 0.99, eps 1e-8,
 * weightDecay 0, momentum 0, centered false. State buffers: `squareAvg`, `momentumBuffer`
 * (momentum > 0), `gradAvg` (centered).
 *
 * @example
 * ```ts
 * import { mean, optim, randn, square, tidy } from "@tether/rlhf/core";
 * const w = randn([3], { requiresGrad: true });
 * const opt = new optim.RMSprop([w], { lr: 1e-3 });
 * tidy(() => mean(square(w)).backward());
 * opt.step();
 * opt.zeroGrad();
 * console.log(opt.stateOf(w)?.step); // 1
 * ```
 */
export class RMSprop extends Optimizer<RmspropHyperparams> {
  /** Optimizes `params` (a list, or groups with their own hyperparameters). */
  constructor(params: ParamsInput<RmspropHyperparams>, opts: RmspropOptions = {}) {
    super("RMSprop", params, {
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      momentum: 0,
      centered: false,
      ...opts,
    });
  }

  protected validate(g: ParamGroup<RmspropHyperparams>, index: number): void {
    const where = `RMSprop (group ${index})`;
    for (const key of ["lr", "alpha", "eps", "weightDecay", "momentum"] as const) {
      const v = g[key];
      if (typeof v !== "number" || !(v >= 0)) {
        throw new Error(`${where}: ${key} must be a number >= 0, got ${v}`);
      }
    }
    if (typeof g.centered !== "boolean") {
      throw new Error(`${where}: centered must be true or false, got ${String(g.centered)}`);
    }
  }

  protected update(
    param: Tensor,
    grad: Tensor,
    state: ParamState,
    g: ParamGroup<RmspropHyperparams>,
  ): void {
    const squareAvg = state.buffers.squareAvg ??= this.newBuffer(param, "squareAvg");
    const inputs = [param, grad, squareAvg];
    const written = [param, squareAvg];
    if (g.centered) {
      const gradAvg = state.buffers.gradAvg ??= this.newBuffer(param, "gradAvg");
      inputs.push(gradAvg);
      written.push(gradAvg);
    }
    if (g.momentum > 0) {
      const buf = state.buffers.momentumBuffer ??= this.newBuffer(param, "momentumBuffer");
      inputs.push(buf);
      written.push(buf);
    }
    runInPlace("rmsprop", inputs, written, {
      lr: g.lr,
      alpha: g.alpha,
      eps: g.eps,
      weightDecay: g.weightDecay,
      momentum: g.momentum,
      centered: g.centered,
    });
  }
}
