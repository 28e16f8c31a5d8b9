/**
 * Masked statistics exactly as TRL defines them (`trl.core.masked_mean`, `masked_var`,
 * `masked_whiten`): means over the positions where the mask is 1, used to whiten advantages and
 * average per-token losses over response tokens only.
 */

import { fmtShape, shapesEqual } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { add, div, mul, rsqrt, square, sub } from "./elementwise.ts";
import { sum } from "./reduce.ts";

function checkMask(op: string, values: Tensor, mask: Tensor): void {
  values.assertLive(op);
  mask.assertLive(op);
  if (!shapesEqual(values.shape, mask.shape)) {
    throw new Error(
      `${op}: mask ${fmtShape(mask.shape)} must have the shape of values ${fmtShape(values.shape)}`,
    );
  }
}

/**
 * Σ(values·mask) / Σmask, over everything (a scalar) or along `axis`.
 * An all-zero mask gives NaN, as in TRL.
 */
export function maskedMean(values: Tensor, mask: Tensor, axis?: number): Tensor {
  checkMask("maskedMean", values, mask);
  const opts = axis === undefined ? {} : { axis };
  return div(sum(mul(values, mask), opts), sum(mask, opts));
}

/**
 * maskedMean((values − maskedMean(values))², mask), times n/(n − 1) with n = Σmask when
 * `unbiased` (the default). An all-zero mask raises an error when the mask is readable on the host
 * (CPU backends), as TRL raises; n = 1 with `unbiased` divides by zero, as in TRL.
 */
export function maskedVar(values: Tensor, mask: Tensor, unbiased = true): Tensor {
  checkMask("maskedVar", values, mask);
  const centered = sub(values, maskedMean(values, mask));
  const variance = maskedMean(square(centered), mask);
  if (!unbiased) return variance;
  const n = sum(mask);
  if (n.backend.readSync && n.itemSync() === 0) {
    throw new Error(
      "maskedVar: the mask sums to zero, so there is no value to take a variance of (with PPO " +
        "this happens when a minibatch holds no response token, e.g. miniBatchSize 1)",
    );
  }
  return mul(variance, div(n, sub(n, 1)));
}

/**
 * (values − μ) · rsqrt(σ² + 1e-8) with μ = maskedMean and σ² = maskedVar (unbiased), applied to
 * every element, masked or not; with `shiftMean` false μ is added back (scale only).
 */
export function maskedWhiten(values: Tensor, mask: Tensor, shiftMean = true): Tensor {
  checkMask("maskedWhiten", values, mask);
  const mean = maskedMean(values, mask);
  const variance = maskedVar(values, mask);
  const whitened = mul(sub(values, mean), rsqrt(add(variance, 1e-8)));
  return shiftMean ? whitened : add(whitened, mean);
}
