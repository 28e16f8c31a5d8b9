/** `Dropout`: active in training mode only, drawing its masks from a seeded generator. */

import { dropout } from "../ops/dropout.ts";
import type { Generator } from "../random.ts";
import type { Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** Zeroes each value with probability `p` and scales the rest by 1/(1−p) while training. */
export class Dropout extends Module {
  /** Creates the layer; without a generator the masks come from the global one. */
  constructor(readonly p = 0.5, readonly generator?: Generator) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }

  /** Applies dropout in training mode; the identity in eval mode. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.generator });
  }
}
