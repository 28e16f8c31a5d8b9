/** Stochastic gradient descent with torch.optim.SGD semantics, running the in-place `sgd` op. */

import type { Tensor } from "../tensor.ts";
import { Optimizer, type ParamGroup, type ParamsInput, type ParamState } from "./optimizer.ts";
import { runInPlace } from "./update_op.ts";

/** Hyperparameters of SGD (torch names, camelCased). */
export interface SgdHyperparams {
  [key: string]: unknown;
  /** Learning rate. */
  lr: number;
  /** Momentum factor (0: plain SGD, no state). */
  momentum: number;
  /** Dampening of the momentum accumulation (not applied on the first step, as in torch). */
  dampening: number;
  /** Nesterov momentum: step along `g + momentum·buf` instead of `buf`. */
  nesterov: boolean;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
}

/** Options of SGD: `lr` is required (as in torch 1.13), the rest default to 0 / false. */
export type SgdOptions = Partial<SgdHyperparams> & { lr: number };

/**
 * SGD (torch.optim.SGD): `d = g + wd·p`; with momentum `buf = momentum·buf + (1−dampening)·d`
 * (`buf = d` on the first step) and `d = buf`, or `d + momentum·buf` with nesterov; `p ← p − lr·d`.
 * State buffer (with momentum): `momentumBuffer`.
 */
export class SGD extends Optimizer<SgdHyperparams> {
  /** Optimizes `params` (a list, or groups with their own hyperparameters). */
  constructor(params: ParamsInput<SgdHyperparams>, opts: SgdOptions) {
    super("SGD", params, {
      momentum: 0,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
      ...opts,
    });
  }

  protected validate(g: ParamGroup<SgdHyperparams>, index: number): void {
    const where = `SGD (group ${index})`;
    if (typeof g.lr !== "number" || !(g.lr >= 0)) {
      throw new Error(`${where}: lr must be a number >= 0, got ${g.lr}`);
    }
    if (!(g.momentum >= 0)) throw new Error(`${where}: momentum must be >= 0, got ${g.momentum}`);
    if (!(g.weightDecay >= 0)) {
      throw new Error(`${where}: weightDecay must be >= 0, got ${g.weightDecay}`);
    }
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new Error(
        `${where}: nesterov needs momentum > 0 and dampening 0, got momentum ${g.momentum}, ` +
          `dampening ${g.dampening}`,
      );
    }
  }

  protected update(
    param: Tensor,
    grad: Tensor,
    state: ParamState,
    g: ParamGroup<SgdHyperparams>,
  ): void {
    const attrs = {
      lr: g.lr,
      momentum: g.momentum,
      dampening: g.dampening,
      nesterov: g.nesterov,
      weightDecay: g.weightDecay,
      first: false,
    };
    if (g.momentum === 0) {
      runInPlace("sgd", [param, grad], [param], attrs);
      return;
    }
    let buf = state.buffers.momentumBuffer;
    if (!buf) {
      buf = state.buffers.momentumBuffer = this.newBuffer(param, "momentumBuffer");
      attrs.first = true;
    }
    runInPlace("sgd", [param, grad, buf], [param, buf], attrs);
  }
}
