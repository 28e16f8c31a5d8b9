/**
 * GRPO's loss (TRL 1.9, SPEC D.5): the clipped importance-weighted advantage per token, plus
 * β times the k3 KL to the reference, aggregated over tokens as the `lossType` says.
 *
 * @module
 */

import {
  add,
  clamp,
  div,
  exp,
  expand,
  greater,
  less,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  reshape,
  sub,
  sum,
  type Tensor,
} from "../../core/mod.ts";
import { klPenalty } from "../common/kl.ts";

/** The token aggregations of TRL's `loss_type` this trainer implements. */
export const GRPO_LOSS_TYPES = ["grpo", "bnpo", "dr_grpo", "dapo"] as const;

/** One of {@link GRPO_LOSS_TYPES}. */
export type GrpoLossType = typeof GRPO_LOSS_TYPES[number];

/** Inputs of {@link grpoLoss}: a micro-batch of b completions over T positions. */
export interface GrpoLossInputs {
  /** Current log-probs of the completion tokens [b, T] (with gradients). */
  logprobs: Tensor;
  /** Log-probs when the completions were sampled [b, T] (constants). */
  oldLogprobs: Tensor;
  /** Reference log-probs [b, T] (constants), needed when β ≠ 0. */
  refLogprobs?: Tensor | null;
  /** One advantage per completion [b] (constants). */
  advantages: Tensor;
  /** 1 on the completion tokens that count [b, T]. */
  mask: Tensor;
}

/** How {@link grpoLoss} clips, penalises and aggregates. */
export interface GrpoLossSettings {
  /** Lower clip ε: ratios below 1 − ε are clipped. */
  epsilonLow: number;
  /** Upper clip: ratios above 1 + ε_high are clipped. */
  epsilonHigh: number;
  /** KL coefficient β (0: no KL term). */
  beta: number;
  /** Token aggregation. */
  lossType: GrpoLossType;
  /** Micro-batches per optimizer step (`grpo`, `bnpo`, `dr_grpo` divide by it). */
  gradientAccumulationSteps: number;
  /** `dr_grpo`'s constant length. */
  maxCompletionLength: number;
  /** `dapo`'s divisor: completion tokens (mask ones) of the whole generation batch. */
  numItemsInBatch: number;
}

/** The loss and its pieces. */
export interface GrpoLossOutput {
  /** What backward runs on (scaled for accumulation as TRL does). */
  loss: Tensor;
  /** −min(ρ·A, clip(ρ)·A) + β·KL per token [b, T]. */
  perTokenLoss: Tensor;
  /** ρ = exp(log π − log π_old) per token [b, T]. */
  ratio: Tensor;
  /** The k3 KL per token [b, T], or null when β = 0. */
  kl: Tensor | null;
  /** Statistics under TRL's names; the `*_seq` ones are per completion [b]. */
  stats: Record<string, Tensor>;
}

/**
 * Aggregate a per-token loss [b, T] over the tokens that count, as TRL's `loss_type`:
 * - `grpo`: mean over completions of (Σ_t ℓ·m / max(Σ_t m, 1)), / accumulation steps;
 * - `bnpo`: Σ ℓ·m / max(Σ m, 1), / accumulation steps;
 * - `dr_grpo`: Σ ℓ·m / (b · maxCompletionLength), / accumulation steps;
 * - `dapo`: Σ ℓ·m / max(numItemsInBatch, 1) (the generation batch's token count).
 *
 * @param perTokenLoss [b, T].
 * @param mask [b, T] of 0/1.
 * @param s Type and normalisers.
 */
export function aggregateTokenLoss(
  perTokenLoss: Tensor,
  mask: Tensor,
  s: Pick<
    GrpoLossSettings,
    "lossType" | "gradientAccumulationSteps" | "maxCompletionLength" | "numItemsInBatch"
  >,
): Tensor {
  const masked = mul(perTokenLoss, mask);
  const accum = s.gradientAccumulationSteps;
  switch (s.lossType) {
    case "grpo": {
      const perRow = div(sum(masked, { axis: 1 }), maximum(sum(mask, { axis: 1 }), 1));
      return div(mean(perRow), accum);
    }
    case "bnpo":
      return div(div(sum(masked), maximum(sum(mask), 1)), accum);
    case "dr_grpo":
      return div(sum(masked), perTokenLoss.shape[0] * s.maxCompletionLength * accum);
    case "dapo":
      return div(sum(masked), Math.max(s.numItemsInBatch, 1));
    default:
      throw new Error(
        `GRPO: unknown lossType '${s.lossType as string}'; use one of ${
          GRPO_LOSS_TYPES.join(", ")
        }`,
      );
  }
}

/**
 * GRPO's loss of a micro-batch: ρ_t = exp(log π_t − log π_old,t); per token
 * ℓ_t = −min(ρ_t·A, clip(ρ_t, 1 − ε_low, 1 + ε_high)·A) + β·KL_t with the k3 estimator
 * KL_t = exp(r_t − log π_t) − (r_t − log π_t) − 1 (r = log π_ref); then {@link aggregateTokenLoss}.
 * Statistics: `kl` and the clip ratios, masked means over tokens as TRL logs them.
 *
 * @param x Log-probs, advantages, mask.
 * @param s Clipping, β and aggregation.
 */
export function grpoLoss(x: GrpoLossInputs, s: GrpoLossSettings): GrpoLossOutput {
  const [b, T] = x.logprobs.shape;
  const A = expand(reshape(x.advantages, [b, 1]), [b, T]);
  const ratio = exp(sub(x.logprobs, x.oldLogprobs));
  const clipped = clamp(ratio, 1 - s.epsilonLow, 1 + s.epsilonHigh);
  let perTokenLoss = neg(minimum(mul(ratio, A), mul(clipped, A)));
  let kl: Tensor | null = null;
  if (s.beta !== 0) {
    if (!x.refLogprobs) {
      throw new Error("GRPO: beta is not 0 but no reference log-probs were given");
    }
    kl = klPenalty(x.logprobs, x.refLogprobs, "k3");
    perTokenLoss = add(perTokenLoss, mul(kl, s.beta));
  }
  const loss = aggregateTokenLoss(perTokenLoss, x.mask, s);
  const low = mul(less(ratio, 1 - s.epsilonLow), less(A, 0));
  const high = mul(greater(ratio, 1 + s.epsilonHigh), greater(A, 0));
  const region = maximum(low, high);
  const tokens = maximum(sum(x.mask), 1);
  const tokenMean = (t: Tensor) => div(sum(mul(t, x.mask)), tokens);
  const seqMean = (t: Tensor) => div(sum(mul(t, x.mask), { axis: 1 }), sum(x.mask, { axis: 1 }));
  const stats: Record<string, Tensor> = {
    "clip_ratio/low_mean": tokenMean(low),
    "clip_ratio/high_mean": tokenMean(high),
    "clip_ratio/region_mean": tokenMean(region),
    "clip_ratio/low_seq": seqMean(low),
    "clip_ratio/high_seq": seqMean(high),
  };
  if (kl) stats.kl = tokenMean(kl);
  return { loss, perTokenLoss, ratio, kl, stats };
}
