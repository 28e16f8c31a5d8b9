/** The Bradley–Terry pairwise reward loss and its accuracy (SPEC C). */

import { add, greater, logSigmoid, mean, mul, neg, square, sub, type Tensor } from "../core/mod.ts";

/** Options of `bradleyTerryLoss`. */
export interface BradleyTerryOptions {
  /** Per-pair margin the chosen reward should exceed the rejected one by ([B] or [B, 1]). */
  margin?: Tensor;
  /** Weight of mean((r_c + r_r)²), which keeps rewards centred (TRL ≥ 0.10; off by default). */
  centerRewardsCoefficient?: number;
}

/** −mean log σ(r_c − r_r − margin) (+ the centring term), as TRL's RewardTrainer computes it. */
export function bradleyTerryLoss(
  rewardsChosen: Tensor,
  rewardsRejected: Tensor,
  opts: BradleyTerryOptions = {},
): Tensor {
  let diff = sub(rewardsChosen, rewardsRejected);
  if (opts.margin) diff = sub(diff, opts.margin);
  let loss = neg(mean(logSigmoid(diff)));
  if (opts.centerRewardsCoefficient) {
    loss = add(
      loss,
      mul(mean(square(add(rewardsChosen, rewardsRejected))), opts.centerRewardsCoefficient),
    );
  }
  return loss;
}

/** Fraction of pairs with r_c > r_r (strict: a tie counts as wrong). */
export function pairwiseAccuracy(rewardsChosen: Tensor, rewardsRejected: Tensor): Tensor {
  return mean(greater(rewardsChosen, rewardsRejected));
}
