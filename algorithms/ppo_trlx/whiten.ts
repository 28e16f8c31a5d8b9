/** trlX's `whiten` (TRLX `trlx/utils/modeling.py`): standardise a whole tensor, padding included. */

import { add, mean, mul, rsqrt, sub, type Tensor, variance } from "../../core/mod.ts";

/** Options of {@link whiten}. */
export interface WhitenOptions {
  /** Subtract the mean (default true); false scales only and adds the mean back. */
  shiftMean?: boolean;
}

/**
 * `(xs − μ) · rsqrt(σ² + 1e-8)` with μ and the unbiased variance σ² taken over EVERY element of
 * `xs` (torch's `var_mean`): unlike TRL's `masked_whiten`, padding zeros of a right-padded
 * minibatch count. With `shiftMean: false` the mean is added back.
 *
 * @example
 * ```ts
 * import { tensor } from "@tether/rlhf/core";
 * import { whiten } from "./whiten.ts";
 * const w = whiten(tensor([[1, 2, 0], [3, 0, 0]]));
 * ```
 *
 * @param xs Any tensor (trlX passes [B, T] advantages).
 * @param options Whether to shift the mean.
 */
export function whiten(xs: Tensor, options: WhitenOptions = {}): Tensor {
  const mu = mean(xs);
  const whitened = mul(sub(xs, mu), rsqrt(add(variance(xs), 1e-8)));
  return options.shiftMean === false ? add(whitened, mu) : whitened;
}
