/**
 * RLOO's loss (TRL 1.9, SPEC D.4): the clipped importance-weighted advantage of each whole
 * completion, with one ratio per sequence, averaged over the completions.
 *
 * @module
 */

import {
  clamp,
  div,
  exp,
  greater,
  less,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  sub,
  sum,
  type Tensor,
} from "../../core/mod.ts";

/** Inputs of {@link rlooLoss}: a micro-batch of b completions over T positions. */
export interface RlooLossInputs {
  /** Current log-probs of the completion tokens [b, T] (with gradients). */
  logprobs: Tensor;
  /** Σ_t log π_old over each completion's tokens when it was sampled [b] (constants). */
  oldSequenceLogprobs: Tensor;
  /** One advantage per completion [b] (constants). */
  advantages: Tensor;
  /** 1 on the completion tokens [b, T]. */
  mask: Tensor;
}

/** How {@link rlooLoss} clips and scales. */
export interface RlooLossSettings {
  /** Lower clip ε. */
  epsilonLow: number;
  /** Upper clip ε_high. */
  epsilonHigh: number;
  /** Micro-batches per optimizer step (the loss is divided by it). */
  gradientAccumulationSteps: number;
}

/** The loss and its pieces. */
export interface RlooLossOutput {
  /** What backward runs on. */
  loss: Tensor;
  /** ρ_i = exp(Σ_t log π − Σ_t log π_old) per completion [b]. */
  ratio: Tensor;
  /** Per-completion clip indicators [b] (`clip_ratio/low`, `/high`, `/region`). */
  stats: Record<string, Tensor>;
}

/**
 * RLOO's loss: ρ_i = exp(Σ_t (log π − log π_old)·m); loss = mean_i −min(ρ_i·A_i,
 * clip(ρ_i, 1 − ε_low, 1 + ε_high)·A_i), divided by the accumulation steps.
 *
 * @param x Log-probs, advantages, mask.
 * @param s Clipping and accumulation.
 */
export function rlooLoss(x: RlooLossInputs, s: RlooLossSettings): RlooLossOutput {
  const seq = sum(mul(x.logprobs, x.mask), { axis: 1 });
  const ratio = exp(sub(seq, x.oldSequenceLogprobs));
  const A = x.advantages;
  const clipped = clamp(ratio, 1 - s.epsilonLow, 1 + s.epsilonHigh);
  const perSequence = neg(minimum(mul(ratio, A), mul(clipped, A)));
  const loss = div(mean(perSequence), s.gradientAccumulationSteps);
  const low = mul(less(ratio, 1 - s.epsilonLow), less(A, 0));
  const high = mul(greater(ratio, 1 + s.epsilonHigh), greater(A, 0));
  return {
    loss,
    ratio,
    stats: {
      "clip_ratio/low": low,
      "clip_ratio/high": high,
      "clip_ratio/region": maximum(low, high),
    },
  };
}
