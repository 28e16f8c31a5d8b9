/** `LayerNorm` over the last axis, with a learned scale and shift. */

import { ones, zeros } from "../ops/create.ts";
import { layerNorm } from "../ops/layer_norm.ts";
import type { Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** Options of `LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance inside the square root (default 1e-5, as torch). */
  eps?: number;
  /** Backend of the weights (default: the current backend). */
  backend?: string;
}

/** torch.nn.LayerNorm(dim): weight ones [dim], bias zeros [dim]. */
export class LayerNorm extends Module {
  /** Scale, [dim]. */
  readonly weight: Tensor;
  /** Shift, [dim]. */
  readonly bias: Tensor;
  /** Variance epsilon. */
  readonly eps: number;

  /** Creates the layer for inputs whose last axis has size `dim`. */
  constructor(readonly dim: number, opts: LayerNormOptions = {}) {
    super();
    if (!Number.isInteger(dim) || dim <= 0) {
      throw new Error(`LayerNorm: dim must be a positive integer, got ${dim}`);
    }
    this.eps = opts.eps ?? 1e-5;
    this.weight = this.registerParameter("weight", ones([dim], { backend: opts.backend }));
    this.bias = this.registerParameter("bias", zeros([dim], { backend: opts.backend }));
  }

  /** Normalizes x [..., dim] over its last axis. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}
