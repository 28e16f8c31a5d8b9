/** Parameter-free activation layers, for use inside `Sequential`. */

import { gelu, geluTanh, relu, sigmoid, tanh } from "../ops/elementwise.ts";
import type { Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** max(x, 0). */
export class ReLU extends Module {
  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** GELU, exact (`approximate: "none"`, torch's default) or tanh-approximated (GPT-2's). */
export class GELU extends Module {
  /** Chooses the variant, as torch.nn.GELU(approximate=...). */
  constructor(readonly approximate: "none" | "tanh" = "none") {
    super();
    if (approximate !== "none" && approximate !== "tanh") {
      throw new Error(`GELU: approximate must be "none" or "tanh", got ${approximate}`);
    }
  }
  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return this.approximate === "tanh" ? geluTanh(x) : gelu(x);
  }
}

/** Hyperbolic tangent. */
export class Tanh extends Module {
  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Logistic sigmoid. */
export class Sigmoid extends Module {
  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}
