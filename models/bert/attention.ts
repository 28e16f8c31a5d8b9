/**
 * Bidirectional multi-head self-attention as the BERT family computes it: heads split from the
 * hidden width, padding keys hidden, dropout on the attention probabilities while training.
 *
 * @module
 */

import {
  attention,
  dropout,
  type Generator,
  MASKED_LOGIT,
  matmul,
  mul,
  permute,
  reshape,
  softmax,
  type Tensor,
  where,
} from "../../core/mod.ts";

/** [B, T, H·Dh] → [B, H, T, Dh]. */
export function splitHeads(x: Tensor, numHeads: number): Tensor {
  const [b, t, d] = x.shape;
  return permute(reshape(x, [b, t, numHeads, d / numHeads]), [0, 2, 1, 3]);
}

/** [B, H, T, Dh] → [B, T, H·Dh]. */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, dh] = x.shape;
  return reshape(permute(x, [0, 2, 1, 3]), [b, t, h * dh]);
}

/** How attention probabilities are dropped. */
export interface AttentionDropout {
  /** Probability of dropping each attention weight. */
  p: number;
  /** Whether dropout is active. */
  training: boolean;
  /** Source of the masks (default: the global generator). */
  generator?: Generator;
}

/**
 * softmax(q kᵀ / √Dh, padding keys hidden) v over [B, H, T, Dh]. The fused kernel serves
 * inference; while training with attention dropout the probabilities are materialised so they
 * can be dropped, as transformers does.
 *
 * @param mask [B, T] keep-mask, or undefined for none.
 */
export function selfAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor | undefined,
  drop: AttentionDropout,
): Tensor {
  if (!drop.training || drop.p === 0) return attention(q, k, v, { mask });
  const [b, , , dh] = q.shape;
  const tk = k.shape[2];
  let scores = mul(matmul(q, k, { transB: true }), 1 / Math.sqrt(dh));
  if (mask) scores = where(reshape(mask, [b, 1, 1, tk]), scores, MASKED_LOGIT);
  const probs = dropout(softmax(scores, -1), drop.p, {
    training: true,
    generator: drop.generator,
  });
  return matmul(probs, v);
}
