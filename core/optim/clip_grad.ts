/** Gradient clipping by global norm, with torch.nn.utils.clip_grad_norm_ semantics. */

import { keep, noGrad, tidy } from "../engine.ts";
import { scalar } from "../ops/create.ts";
import { abs, add, clamp, div, mul, pow, sqrt, square } from "../ops/elementwise.ts";
import { max, sum } from "../ops/reduce.ts";
import { stack } from "../ops/shape.ts";
import type { Tensor } from "../tensor.ts";

/**
 * Scales the gradients of `params` so their joint `normType`-norm is at most `maxNorm`, and
 * returns the norm before clipping as a scalar tensor (the caller owns it).
 *
 * As torch 1.13: `coef = min(maxNorm / (total + 1e-6), 1)` and every gradient is multiplied by
 * `coef` unconditionally, so nothing is read back to the host. `normType` may be `Infinity`.
 * Each gradient is replaced by a new, kept tensor (gradients have no identity to preserve); the
 * old one is disposed.
 */
export function clipGradNorm(
  params: Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
): Tensor {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  if (!(normType > 0)) {
    throw new Error(`clipGradNorm: normType must be > 0 (or Infinity), got ${normType}`);
  }
  const withGrad = [...params].filter((p) => p.grad);
  const grads = [...new Set(withGrad.map((p) => p.grad!))];
  if (grads.length === 0) return scalar(0);
  return tidy(() =>
    noGrad(() => {
      const total = globalNorm(grads, normType);
      const coef = clamp(div(maxNorm, add(total, 1e-6)), undefined, 1);
      const scaled = new Map<Tensor, Tensor>();
      for (const g of grads) scaled.set(g, keep(mul(g, coef)));
      for (const p of withGrad) p.grad = scaled.get(p.grad!)!;
      for (const g of grads) g.dispose();
      return total;
    })
  );
}

function globalNorm(grads: Tensor[], normType: number): Tensor {
  if (normType === Infinity) {
    const perGrad = grads.map((g) => max(abs(g)));
    return perGrad.length === 1 ? perGrad[0] : max(stack(perGrad));
  }
  if (normType === 2) return sqrt(sum(stack(grads.map((g) => sum(square(g))))));
  const total = sum(stack(grads.map((g) => sum(pow(abs(g), normType)))));
  return pow(total, 1 / normType);
}
