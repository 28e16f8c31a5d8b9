/** Generalized advantage estimation as TRL 0.7.4's `compute_advantages` does it (SPEC A.5). */

import {
  add,
  concat,
  maskedWhiten,
  matmul,
  mul,
  slice,
  sub,
  type Tensor,
  tensor,
  zeros,
} from "../../core/mod.ts";

/** Options of `computeAdvantages`. */
export interface AdvantageOptions {
  /** Discount γ. */
  gamma: number;
  /** GAE λ. */
  lam: number;
  /** Whiten the rewards (scale only; the mean is kept) before GAE. */
  whitenRewards?: boolean;
}

/** Masked values, whitened advantages and returns, each [B, T]. */
export interface Advantages {
  /** values ⊙ mask. */
  values: Tensor;
  /** GAE advantages, whitened over the masked positions of the whole batch. */
  advantages: Tensor;
  /** Un-whitened advantages + masked values. */
  returns: Tensor;
}

/**
 * δ_t = r_t + γ·V_{t+1} − V_t (V_T = 0) and A_t = Σ_{s≥t} (γλ)^{s−t} δ_s, the closed form of the
 * backward recursion `lastgae = δ_t + γλ·lastgae`. It runs as one matmul with an upper-triangular
 * discount matrix, so a GPU does one dispatch instead of T.
 */
export function computeAdvantages(
  values: Tensor,
  rewards: Tensor,
  mask: Tensor,
  opts: AdvantageOptions,
): Advantages {
  const [B, T] = values.shape;
  const v = mul(values, mask);
  let r = mul(rewards, mask);
  if (opts.whitenRewards) r = maskedWhiten(r, mask, false);
  const vNext = concat(
    [slice(v, [0, 1], [B, T - 1]), zeros([B, 1], { backend: v.backend.name })],
    1,
  );
  const delta = sub(add(r, mul(vNext, opts.gamma)), v);
  const gae = matmul(delta, discountMatrix(T, opts.gamma * opts.lam, v.backend.name));
  return { values: v, advantages: maskedWhiten(gae, mask, true), returns: add(gae, v) };
}

/** D[s, t] = c^{s−t} for s ≥ t, else 0, so (δ·D)[t] = Σ_{s≥t} c^{s−t} δ_s. */
function discountMatrix(T: number, c: number, backend: string): Tensor {
  const d = new Float64Array(T * T);
  for (let s = 0; s < T; s++) for (let t = 0; t <= s; t++) d[s * T + t] = Math.pow(c, s - t);
  return tensor(d, [T, T], { backend });
}
