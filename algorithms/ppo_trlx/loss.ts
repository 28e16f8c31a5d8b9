/**
 * trlX's PPO objective (`PPOConfig.loss`, TRLX `trlx/models/modeling_ppo.py`) and its statistics
 * under trlX's names. The clipped losses are TRL's, written as Σ(x·m)/n; the approximate-KL
 * statistic differs (the k3 estimator, averaged over every element, padding included), and there
 * is no ratio threshold.
 */

import {
  abs,
  add,
  clamp,
  detach,
  div,
  exp,
  greater,
  maskedMean,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  noGrad,
  sqrt,
  square,
  sub,
  sum,
  type Tensor,
  where,
} from "../../core/mod.ts";

/** Inputs of {@link trlxPpoLoss}, each [B, T] on response-aligned, right-padded positions. */
export interface TrlxLossInputs {
  /** Current log-probs of the sampled tokens (differentiable). */
  logprobs: Tensor;
  /** Current value predictions (differentiable). */
  values: Tensor;
  /** Log-probs stored at rollout time. */
  oldLogprobs: Tensor;
  /** Values stored at rollout time. */
  oldValues: Tensor;
  /** Advantages from {@link getAdvantagesAndReturns} (constants). */
  advantages: Tensor;
  /** Returns from {@link getAdvantagesAndReturns} (constants). */
  returns: Tensor;
  /** 1 on the response tokens trained on, 0 on padding. */
  mask: Tensor;
}

/** Clipping and weighting of {@link trlxPpoLoss} (trlX's `PPOConfig` fields). */
export interface TrlxLossConfig {
  /** Policy ratio clip: ratios outside [1 − c, 1 + c] are clipped. */
  cliprange: number;
  /** Value clip around the stored values. */
  cliprangeValue: number;
  /** Weight of the value loss (trlX's default is 1). */
  vfCoef: number;
}

/** The loss and its statistics. */
export interface TrlxLossOutput {
  /** pg_loss + vf_coef·vf_loss: what backward runs on. */
  loss: Tensor;
  /**
   * Scalar statistics under trlX's flattened names: `losses/{total_loss,policy_loss,value_loss}`,
   * `values/{mean,min,max,std,values_error,values_mape_error,clipfrac}`,
   * `old_values/{mean,min,max,std}`, `returns/{mean,min,max,std}`,
   * `policy/{approx_kl,clipfrac}`, `ratio`, `padding_percentage`. None carries a gradient.
   */
  stats: Record<string, Tensor>;
}

/**
 * trlX's loss, with n = Σmask:
 *
 * ```
 * v_clip    = clamp(values, old_values − c_v, old_values + c_v)
 * vf_loss   = ½ · Σ(max((values − R)², (v_clip − R)²)·m) / n
 * log_ratio = (logprobs − old_logprobs)·m;   ratio = exp(log_ratio)
 * pg_loss   = Σ(max(−A·ratio, −A·clamp(ratio, 1 − c, 1 + c))·m) / n
 * loss      = pg_loss + vf_coef · vf_loss
 * ```
 *
 * @param x Current and stored log-probs and values, advantages, returns and the mask.
 * @param config `cliprange`, `cliprangeValue` and `vfCoef`.
 */
export function trlxPpoLoss(x: TrlxLossInputs, config: TrlxLossConfig): TrlxLossOutput {
  const { mask, advantages: A, returns: R } = x;
  const n = sum(mask);
  // trlX writes Σ(x·m)/n: the core's masked mean.
  const meanOverMask = (t: Tensor) => maskedMean(t, mask);

  const vClip = minimum(
    maximum(x.values, sub(x.oldValues, config.cliprangeValue)),
    add(x.oldValues, config.cliprangeValue),
  );
  const vfLoss1 = square(sub(x.values, R));
  const vfLoss2 = square(sub(vClip, R));
  const vfLoss = mul(meanOverMask(maximum(vfLoss1, vfLoss2)), 0.5);

  const logRatio = mul(sub(x.logprobs, x.oldLogprobs), mask);
  const ratio = exp(logRatio);
  const pgLoss1 = mul(neg(A), ratio);
  const pgLoss2 = mul(neg(A), clamp(ratio, 1 - config.cliprange, 1 + config.cliprange));
  const pgLoss = meanOverMask(maximum(pgLoss1, pgLoss2));
  const loss = add(pgLoss, mul(vfLoss, config.vfCoef));

  const stats = noGrad(() => {
    const values = detach(x.values), ratioC = detach(ratio), logRatioC = detach(logRatio);
    return {
      "losses/total_loss": detach(loss),
      "losses/policy_loss": detach(pgLoss),
      "losses/value_loss": detach(vfLoss),
      ...tensorStats("values", values, mask, n),
      "values/values_error": div(sum(square(mul(sub(values, R), mask))), n),
      "values/values_mape_error": div(
        sum(div(mul(abs(sub(values, R)), mask), abs(add(mul(R, mask), 1e-2)))),
        n,
      ),
      "values/clipfrac": meanOverMask(greater(detach(vfLoss2), detach(vfLoss1))),
      ...tensorStats("old_values", x.oldValues, mask, n),
      ...tensorStats("returns", R, mask, n),
      // k3 = (ratio − 1) − log ratio, averaged over all B·T elements (padding gives 0 there).
      "policy/approx_kl": mean(sub(sub(ratioC, 1), logRatioC)),
      "policy/clipfrac": meanOverMask(greater(detach(pgLoss2), detach(pgLoss1))),
      "ratio": meanOverMask(ratioC),
      "padding_percentage": sub(1, div(n, mask.size)),
    };
  });
  return { loss, stats };
}

/** trlX's `get_tensor_stats`: masked mean, min, max and (population) std. */
function tensorStats(
  prefix: string,
  xs: Tensor,
  mask: Tensor,
  n: Tensor,
): Record<string, Tensor> {
  const real = greater(mask, 0);
  const mu = maskedMean(xs, mask);
  return {
    [`${prefix}/mean`]: mu,
    [`${prefix}/min`]: min(where(real, xs, Infinity)),
    [`${prefix}/max`]: max(where(real, xs, -Infinity)),
    [`${prefix}/std`]: sqrt(div(sum(square(mul(sub(xs, mu), mask))), n)),
  };
}
