/** Adam and AdamW with torch.optim semantics, both running the fused in-place `adamw` op. */

import type { Tensor } from "../tensor.ts";
import { Optimizer, type ParamGroup, type ParamsInput, type ParamState } from "./optimizer.ts";
import { runInPlace } from "./update_op.ts";

/** Hyperparameters of Adam and AdamW (torch names, camelCased). */
export interface AdamHyperparams {
  [key: string]: unknown;
  /** Learning rate. */
  lr: number;
  /** Decay rates of the first and second moment averages. */
  betas: readonly [number, number];
  /** Added to the denominator outside the square root, as in torch. */
  eps: number;
  /** Weight decay: decoupled for AdamW, an L2 term added to the gradient for Adam. */
  weightDecay: number;
}

/** Options of Adam/AdamW; anything left out takes torch's default. */
export type AdamOptions = Partial<AdamHyperparams>;

abstract class AdamBase extends Optimizer<AdamHyperparams> {
  protected abstract readonly decoupled: boolean;

  protected validate(g: ParamGroup<AdamHyperparams>, index: number): void {
    const where = `${this.name} (group ${index})`;
    if (!(g.lr >= 0)) throw new Error(`${where}: lr must be >= 0, got ${g.lr}`);
    if (!(g.eps >= 0)) throw new Error(`${where}: eps must be >= 0, got ${g.eps}`);
    if (!(g.weightDecay >= 0)) {
      throw new Error(`${where}: weightDecay must be >= 0, got ${g.weightDecay}`);
    }
    if (!Array.isArray(g.betas) || g.betas.length !== 2) {
      throw new Error(`${where}: betas must be a pair [beta1, beta2], got ${String(g.betas)}`);
    }
    g.betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1)) throw new Error(`${where}: betas[${i}] must be in [0, 1), got ${b}`);
    });
  }

  protected update(
    param: Tensor,
    grad: Tensor,
    state: ParamState,
    g: ParamGroup<AdamHyperparams>,
  ): void {
    const m = state.buffers.expAvg ??= this.newBuffer(param, "expAvg");
    const v = state.buffers.expAvgSq ??= this.newBuffer(param, "expAvgSq");
    runInPlace("adamw", [param, grad, m, v], [param, m, v], {
      lr: g.lr,
      beta1: g.betas[0],
      beta2: g.betas[1],
      eps: g.eps,
      weightDecay: g.weightDecay,
      step: state.step,
      decoupled: this.decoupled,
    });
  }
}

/**
 * AdamW (torch.optim.AdamW): `p ← p·(1 − lr·wd)`, then the bias-corrected Adam step
 * `p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps)`. Defaults: lr 1e-3, betas [0.9, 0.999],
 * eps 1e-8, weightDecay 1e-2. State buffers: `expAvg`, `expAvgSq`.
 *
 * @example
 * ```ts
 * import { mean, optim, randn, square, tidy } from "@tether/rlhf/core";
 * const w = randn([3], { requiresGrad: true });
 * const opt = new optim.AdamW([w], { lr: 3e-4 });
 * tidy(() => mean(square(w)).backward());
 * opt.step();
 * opt.zeroGrad();
 * ```
 */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  /** Optimizes `params` (a list, or groups with their own hyperparameters). */
  constructor(params: ParamsInput<AdamHyperparams>, opts: AdamOptions = {}) {
    super("AdamW", params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 1e-2,
      ...opts,
    });
  }
}

/**
 * Adam (torch.optim.Adam): weight decay is an L2 term added to the gradient before the moments.
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.
 */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  /** Optimizes `params` (a list, or groups with their own hyperparameters). */
  constructor(params: ParamsInput<AdamHyperparams>, opts: AdamOptions = {}) {
    super("Adam", params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...opts });
  }
}
