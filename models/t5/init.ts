/**
 * transformers' initialisation of a fresh T5 (`T5PreTrainedModel._init_weights`), scaled by
 * `initializer_factor`: embeddings and an untied head N(0, 1); attention `q` N(0, 1/(d_model·d_kv)),
 * `k`/`v` and the position-bias table N(0, 1/d_model), `o` N(0, 1/(H·d_kv)); feed-forward inputs
 * N(0, 1/d_model), `wo` N(0, 1/d_ff); norms at 1. The small `q` variance stands in for the
 * 1/√d_kv score scaling T5 leaves out.
 *
 * @module
 */

import { full, noGrad, tensor } from "../../core/mod.ts";
import { assign, type Module } from "../../core/nn/mod.ts";
import type { Generator } from "../../core/random.ts";
import type { T5Config } from "./config.ts";

function stdOf(name: string, c: T5Config): number {
  const f = c.initializer_factor;
  const last = name.split(".").slice(-2, -1)[0];
  if (name === "shared.weight" || name === "lm_head.weight") return f;
  if (name.endsWith("relative_attention_bias.weight")) return f * c.d_model ** -0.5;
  switch (last) {
    case "q":
      return f * (c.d_model * c.d_kv) ** -0.5;
    case "k":
    case "v":
    case "wi":
    case "wi_0":
    case "wi_1":
      return f * c.d_model ** -0.5;
    case "o":
      return f * (c.num_heads * c.d_kv) ** -0.5;
    case "wo":
      return f * c.d_ff ** -0.5;
  }
  throw new Error(`initT5Weights: no initialisation rule for '${name}'`);
}

/** Draws every parameter of a T5 model (names as transformers') in place from `g`. */
export function initT5Weights(model: Module, config: T5Config, g: Generator): void {
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      if (/\.lora_[AB]\./.test(name) || name.startsWith("v_head.")) continue;
      const drawn = /layer_norm\.weight$/.test(name)
        ? full(p.shape, config.initializer_factor, { backend: p.backend.name })
        : tensor(g.normal(p.size, 0, stdOf(name, config)), p.shape, { backend: p.backend.name });
      assign(p, drawn, name);
      drawn.dispose();
    }
  });
}
