/** `Sequential`: layers applied one after another, registered as children "0", "1", .... */

import type { Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** A module whose forward maps one tensor to one tensor. */
export interface Layer extends Module {
  /** Applies the layer. */
  forward(x: Tensor): Tensor;
}

/** Chains layers; parameters are named `0.weight`, `2.bias`, ... as in torch. */
export class Sequential extends Module {
  /** The layers in order. */
  readonly layers: readonly Layer[];

  /** Registers each layer under its index. */
  constructor(...layers: Layer[]) {
    super();
    layers.forEach((l, i) => {
      if (typeof l?.forward !== "function") {
        throw new Error(`Sequential: layer ${i} has no forward(x) method`);
      }
      this.registerModule(String(i), l);
    });
    this.layers = layers;
  }

  /** Runs the layers in order. */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const l of this.layers) y = l.forward(y);
    return y;
  }
}
