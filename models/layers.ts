/**
 * Small building blocks the causal architectures share: a list of blocks named "0", "1", ...
 * (`h.0`, `model.layers.0`), the output projection that may share the embedding's weight, and
 * attention with dropout on its probabilities (training only).
 *
 * @module
 */

import {
  dropout,
  MASKED_LOGIT,
  matmul,
  mul,
  reshape,
  softmax,
  type Tensor,
  tensor,
  where,
} from "../core/mod.ts";
import { Module } from "../core/nn/mod.ts";
import type { Generator } from "../core/random.ts";

/** Blocks registered as children "0", "1", ... (torch's `nn.ModuleList`). */
export class ModuleList<M extends Module> extends Module {
  /** The blocks in order. */
  readonly items: readonly M[];

  /** Registers each block under its index. */
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.registerModule(String(i), m));
  }
}

/** The output projection (`lm_head`, no bias); its weight is the embedding's when tied. */
export class LMHead extends Module {
  /** [vocab_size, hidden]. */
  readonly weight: Tensor;
  /** Wraps `weight` (registered as this module's parameter, shared when tied). */
  constructor(weight: Tensor) {
    super();
    this.weight = this.registerParameter("weight", weight);
  }
  /** hidden [..., D] → logits [..., V]. */
  forward(hidden: Tensor): Tensor {
    return matmul(hidden, this.weight, { transB: true });
  }
}

/**
 * softmax(scale · q kᵀ) v with causal and key-padding masks and dropout on the probabilities:
 * the composed path for training with attention dropout (the fused kernel keeps no
 * probabilities to drop).
 * @param q [B, H, Tq, D]
 * @param k [B, H, Tk, D]
 * @param v [B, H, Tk, D]
 * @param mask [B, Tk] key mask.
 */
export function attentionWithDropout(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor,
  scale: number,
  p: number,
  generator?: Generator,
): Tensor {
  const [b, , tq] = q.shape, tk = k.shape[2];
  const causal = new Float32Array(tq * tk);
  for (let i = 0; i < tq; i++) {
    for (let j = 0; j <= Math.min(tk - 1, i + tk - tq); j++) causal[i * tk + j] = 1;
  }
  const keep = mul(
    tensor(causal, [tq, tk], { backend: q.backend.name }),
    reshape(mask, [b, 1, 1, tk]),
  );
  const scores = where(keep, mul(matmul(q, k, { transB: true }), scale), MASKED_LOGIT);
  const probs = dropout(softmax(scores, -1), p, { generator });
  return matmul(probs, v);
}
