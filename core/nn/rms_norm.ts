/** `RMSNorm` over the last axis, with a learned scale and no shift. */

import { ones } from "../ops/create.ts";
import { rmsNorm } from "../ops/rms_norm.ts";
import type { Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** Options of `RMSNorm`. */
export interface RMSNormOptions {
  /** Added to the mean square inside the square root (default 1e-6). */
  eps?: number;
  /** Backend of the weights (default: the current backend). */
  backend?: string;
}

/** transformers' `T5LayerNorm` / `LlamaRMSNorm`: weight ones [dim], no bias. */
export class RMSNorm extends Module {
  /** Scale, [dim]. */
  readonly weight: Tensor;
  /** Epsilon inside the square root. */
  readonly eps: number;

  /** Creates the layer for inputs whose last axis has size `dim`. */
  constructor(readonly dim: number, opts: RMSNormOptions = {}) {
    super();
    if (!Number.isInteger(dim) || dim <= 0) {
      throw new Error(`RMSNorm: dim must be a positive integer, got ${dim}`);
    }
    this.eps = opts.eps ?? 1e-6;
    this.weight = this.registerParameter("weight", ones([dim], { backend: opts.backend }));
  }

  /** Normalizes x [..., dim] over its last axis. */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}
