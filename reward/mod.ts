/**
 * Pairwise (Bradley–Terry) reward modelling: the loss TRL's RewardTrainer minimises,
 * −log σ(r_chosen − r_rejected − margin), with the optional centring term, and pairwise accuracy
 * with strict comparison (a tie counts as wrong).
 *
 * @example
 * ```ts
 * import { bradleyTerryLoss, pairwiseAccuracy } from "@tether/rlhf/reward";
 * const loss = bradleyTerryLoss(rewardsChosen, rewardsRejected);
 * ```
 * @module
 */

export { bradleyTerryLoss, type BradleyTerryOptions, pairwiseAccuracy } from "./loss.ts";
// Types the API mentions (Tensor and what it references), so the docs resolve them.
export type * from "../core/mod.ts";
