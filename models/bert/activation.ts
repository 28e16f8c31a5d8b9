/** The feed-forward activations a BERT-family config may name, mapped to core ops. */

import { gelu, geluTanh, relu, type Tensor } from "../../core/mod.ts";
import type { HiddenAct } from "./config.ts";

/**
 * Applies `act` as transformers' ACT2FN does: `gelu` is the exact erf form, `gelu_new` and
 * `gelu_pytorch_tanh` the tanh approximation.
 */
export function hiddenActivation(x: Tensor, act: HiddenAct): Tensor {
  switch (act) {
    case "gelu":
      return gelu(x);
    case "relu":
      return relu(x);
    case "gelu_new":
    case "gelu_pytorch_tanh":
      return geluTanh(x);
  }
}
