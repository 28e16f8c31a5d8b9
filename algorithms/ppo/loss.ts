/** The clipped PPO objective of TRL 0.7.4's `PPOTrainer.loss` (SPEC A.6), with its statistics. */

import { entropyFromLogits } from "../common/rollout.ts";

export { entropyFromLogits };
import {
  add,
  clamp,
  exp,
  greater,
  maskedMean,
  maskedVar,
  maximum,
  minimum,
  mul,
  neg,
  square,
  sub,
  type Tensor,
  where,
} from "../../core/mod.ts";

/** Inputs of `ppoLoss`, each [B, T] unless noted. */
export interface PpoLossInputs {
  /** Log-probs of the sampled tokens at rollout time. */
  oldLogprobs: Tensor;
  /** Value predictions at rollout time (masked). */
  values: Tensor;
  /** Current logits [B, T, V], for the entropy statistic (optional; `entropy` wins). */
  logits?: Tensor;
  /** Current per-token entropies [B, T], for the entropy statistic (optional). */
  entropy?: Tensor;
  /** Current value predictions. */
  vpreds: Tensor;
  /** Current log-probs of the sampled tokens. */
  logprobs: Tensor;
  /** 1 on response tokens. */
  mask: Tensor;
  /** Whitened advantages (constants). */
  advantages: Tensor;
  /** Returns (constants). */
  returns: Tensor;
}

/** Clipping and weighting of `ppoLoss`. */
export interface PpoLossConfig {
  /** Policy ratio clip c. */
  cliprange: number;
  /** Value clip c_v. */
  cliprangeValue: number;
  /** Weight of the value loss. */
  vfCoef: number;
  /** Batches whose mean ratio exceeds this contribute zero loss. */
  ratioThreshold: number;
}

/** Loss terms (differentiable) and statistics (scalar tensors, read back once per step). */
export interface PpoLossOutput {
  /** pg_loss + vf_coef·vf_loss: what backward runs on. */
  loss: Tensor;
  /** Statistics under TRL's names (`loss/policy`, `policy/clipfrac`, `val/error`, ...). */
  stats: Record<string, Tensor>;
}

/** TRL's `loss`: clipped policy-gradient and clipped value losses, and their statistics. */
export function ppoLoss(x: PpoLossInputs, cfg: PpoLossConfig): PpoLossOutput {
  const { mask, advantages: A, returns: R } = x;
  const vClip = minimum(
    maximum(x.vpreds, sub(x.values, cfg.cliprangeValue)),
    add(x.values, cfg.cliprangeValue),
  );
  const vfLosses1 = square(sub(x.vpreds, R));
  const vfLosses2 = square(sub(vClip, R));
  const vfLoss = mul(maskedMean(maximum(vfLosses1, vfLosses2), mask), 0.5);
  const vfClipfrac = maskedMean(greater(vfLosses2, vfLosses1), mask);

  const logRatio = sub(x.logprobs, x.oldLogprobs);
  const ratio = exp(logRatio);
  const pgLosses = mul(neg(A), ratio);
  const pgLosses2 = mul(neg(A), clamp(ratio, 1 - cfg.cliprange, 1 + cfg.cliprange));
  const pgLoss = maskedMean(maximum(pgLosses, pgLosses2), mask);
  const pgClipfrac = maskedMean(greater(pgLosses2, pgLosses), mask);

  // TRL zeroes the whole loss when the mean ratio explodes; decided on device, no readback.
  const avgRatio = maskedMean(ratio, mask);
  const keep = where(greater(avgRatio, cfg.ratioThreshold), 0, 1);
  const pg = mul(pgLoss, keep), vf = mul(vfLoss, keep);
  const loss = add(pg, mul(vf, cfg.vfCoef));

  const stats: Record<string, Tensor> = {
    "loss/policy": pg,
    "loss/value": vf,
    "loss/total": loss,
    "policy/approxkl": mul(maskedMean(square(logRatio), mask), 0.5),
    "policy/policykl": maskedMean(neg(logRatio), mask),
    "policy/clipfrac": pgClipfrac,
    "policy/advantages_mean": maskedMean(A, mask),
    "returns/mean": maskedMean(R, mask),
    "returns/var": maskedVar(R, mask),
    "val/vpred": maskedMean(x.vpreds, mask),
    "val/error": maskedMean(vfLosses1, mask),
    "val/clipfrac": vfClipfrac,
    "val/mean": maskedMean(x.values, mask),
    "val/var": maskedVar(x.values, mask),
  };
  const entropy = x.entropy ?? (x.logits ? entropyFromLogits(x.logits) : null);
  if (entropy) stats["policy/entropy"] = maskedMean(entropy, mask);
  return { loss, stats };
}
