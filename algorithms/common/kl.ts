/**
 * KL estimators between the policy and the reference from the log-probs of sampled tokens
 * (Schulman's k1, k2, k3), and the per-token penalties of TRL 0.7.4's PPO (`kl`, `abs`, `mse`,
 * `full`). One function serves PPO's rewards, GRPO's loss term and RLOO's sequence penalty.
 *
 * @module
 */

import { abs, exp, logSoftmax, mul, square, sub, sum, type Tensor } from "../../core/mod.ts";

/** Schulman's estimators of KL(π ‖ π_ref) from one sample, with r = log π_ref − log π. */
export type KlEstimator = "k1" | "k2" | "k3";

/** TRL 0.7.4 PPO's `kl_penalty` modes. */
export type KlPenalty = "kl" | "abs" | "mse" | "full";

/** Every name {@link klPenalty} accepts. */
export const KL_MODES: readonly (KlEstimator | KlPenalty)[] = [
  "k1",
  "k2",
  "k3",
  "kl",
  "abs",
  "mse",
  "full",
];

/** Logits for the `full` estimator, which needs whole next-token distributions. */
export interface FullKlInputs {
  /** Policy logits [B, T, V]. */
  logits: Tensor;
  /** Reference logits [B, T, V]. */
  refLogits: Tensor;
}

/**
 * The per-token KL estimate from log-probs of the sampled tokens (any shape, elementwise):
 * - `k1` = `kl`: log π − log π_ref (unbiased, can be negative);
 * - `k2` = `mse`: ½ (log π − log π_ref)²;
 * - `k3`: exp(log π_ref − log π) − (log π_ref − log π) − 1 (unbiased, never negative; GRPO's);
 * - `abs`: |log π − log π_ref|;
 * - `full`: Σ_v p(v)·(log p(v) − log p_ref(v)) from the full distributions (needs `full`).
 *
 * @example
 * ```ts
 * import { klPenalty } from "@tether/rlhf/common";
 * import { tensor } from "@tether/rlhf/core";
 *
 * const logprobs = tensor([[-1, -2]]), refLogprobs = tensor([[-1.5, -1]]);
 * console.log(klPenalty(logprobs, refLogprobs, "k1").toArraySync()); // [0.5, -1]
 * console.log(klPenalty(logprobs, refLogprobs, "k3").toArraySync()); // ≈ [0.1065, 0.7183], ≥ 0
 * ```
 *
 * @param logprobs Policy log-probs of the sampled tokens.
 * @param refLogprobs Reference log-probs of the same tokens.
 * @param mode Which estimator.
 * @param full Logits, for `full` only.
 */
export function klPenalty(
  logprobs: Tensor,
  refLogprobs: Tensor,
  mode: KlEstimator | KlPenalty,
  full?: FullKlInputs,
): Tensor {
  switch (mode) {
    case "k1":
    case "kl":
      return sub(logprobs, refLogprobs);
    case "k2":
    case "mse":
      return mul(square(sub(logprobs, refLogprobs)), 0.5);
    case "k3": {
      const r = sub(refLogprobs, logprobs);
      return sub(sub(exp(r), r), 1);
    }
    case "abs":
      return abs(sub(logprobs, refLogprobs));
    case "full": {
      if (!full) {
        throw new Error(
          "klPenalty: kl_penalty 'full' needs the policy and reference logits ({ logits, refLogits })",
        );
      }
      const lp = logSoftmax(full.logits), rp = logSoftmax(full.refLogits);
      return sum(mul(exp(lp), sub(lp, rp)), { axis: -1 });
    }
    default:
      throw new Error(
        `klPenalty: unknown kl_penalty '${mode as string}'; use one of ${KL_MODES.join(", ")}`,
      );
  }
}
