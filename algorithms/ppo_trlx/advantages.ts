/**
 * trlX's `PPOConfig.get_advantages_and_returns` (TRLX `trlx/models/modeling_ppo.py`): GAE on
 * response-aligned, right-padded [B, T] arrays (index 0 = first response token, padding 0.0 as
 * `ppo_collate_fn` pads), with no mask. trlX calls it inside `loss()`, once per minibatch, from the
 * values and rewards stored at rollout time.
 */

import {
  add,
  concat,
  detach,
  matmul,
  mul,
  slice,
  sub,
  type Tensor,
  tensor,
  zeros,
} from "../../core/mod.ts";
import { whiten } from "./whiten.ts";

/** Options of {@link getAdvantagesAndReturns}. */
export interface TrlxAdvantageOptions {
  /** Discount γ. */
  gamma: number;
  /** GAE λ. */
  lam: number;
  /** Whiten the advantages over the whole minibatch, padding included (default true). */
  useWhitening?: boolean;
}

/** Advantages and returns, each [B, T]. */
export interface TrlxAdvantages {
  /** GAE advantages (whitened unless `useWhitening` is false); constants. */
  advantages: Tensor;
  /** Un-whitened advantages + values; constants. */
  returns: Tensor;
}

/**
 * δ_t = r_t + γ·V_{t+1} − V_t with V_T = 0, A_t = Σ_{s≥t} (γλ)^{s−t} δ_s, returns = A + V, then
 * (by default) `whiten(A)` over all B·T elements. Padding positions hold value 0 and reward 0, so
 * GAE bootstraps with 0 after each row's last stored token, and the padding's zero advantages
 * take part in the whitening statistics, exactly as trlX computes them.
 *
 * The backward recursion runs as one matmul with an upper-triangular discount matrix.
 *
 * @param values Stored rollout values [B, T].
 * @param rewards Stored per-token rewards [B, T].
 * @param options γ, λ and whitening.
 */
export function getAdvantagesAndReturns(
  values: Tensor,
  rewards: Tensor,
  options: TrlxAdvantageOptions,
): TrlxAdvantages {
  if (
    values.rank !== 2 || rewards.rank !== 2 || values.shape.some((d, i) => d !== rewards.shape[i])
  ) {
    throw new Error(
      `getAdvantagesAndReturns: values [${values.shape}] and rewards [${rewards.shape}] must both ` +
        `be [batch, response_length]`,
    );
  }
  const [B, T] = values.shape;
  const v = detach(values), r = detach(rewards);
  const backend = v.backend.name;
  const vNext = concat([slice(v, [0, 1], [B, T - 1]), zeros([B, 1], { backend })], 1);
  const delta = sub(add(r, mul(vNext, options.gamma)), v);
  const gae = matmul(delta, discountMatrix(T, options.gamma * options.lam, backend));
  const returns = add(gae, v);
  const advantages = options.useWhitening === false ? gae : whiten(gae);
  return { advantages, returns };
}

/** D[s, t] = c^{s−t} for s ≥ t, else 0, so (δ·D)[t] = Σ_{s≥t} c^{s−t} δ_s. */
function discountMatrix(T: number, c: number, backend: string): Tensor {
  const d = new Float64Array(T * T);
  for (let s = 0; s < T; s++) for (let t = 0; t <= s; t++) d[s * T + t] = Math.pow(c, s - t);
  return tensor(d, [T, T], { backend });
}
