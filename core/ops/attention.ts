/**
 * Scaled dot-product attention over [B, H, T, D] with optional causal and key-padding masks:
 * `attentionComposed` is the readable definition from matmul, where and softmax; `attention` runs
 * a fused kernel (no [Tq, Tk] score tensor is stored) where the backend has one, else the
 * composed version. Both agree to rounding, values and gradients.
 */

import { findKernel } from "../backend.ts";
import { engine, registerGrad } from "../engine.ts";
import { fmtShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { tensor } from "./create.ts";
import { mul, where } from "./elementwise.ts";
import { matmul } from "./matmul.ts";
import { reshape } from "./shape.ts";
import { softmax } from "./softmax.ts";

/** Options of `attention` and `attentionComposed`. */
export interface AttentionOptions {
  /**
   * Hide future keys: query i sees key j only when j <= i + (Tk − Tq), so with a KV cache the
   * last query row sees every key (Hugging Face's alignment; the same as PyTorch's when Tq = Tk).
   */
  causal?: boolean;
  /** [B, Tk] key padding mask: 1 keeps a key, 0 hides it from every query. */
  mask?: Tensor;
  /** Multiplier of q·k (default 1/sqrt(D)). */
  scale?: number;
}

/**
 * The logit given to hidden keys before softmax: the lowest finite f32, as Hugging Face models use
 * (`torch.finfo(float32).min`). Finite, so a row with every key hidden gets a uniform distribution
 * over the keys instead of NaN; such rows (padding queries) never feed an unmasked position.
 */
export const MASKED_LOGIT: number = -3.4028234663852886e38;

interface Checked {
  d: number;
  scale: number;
}

function check(op: string, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): Checked {
  for (const t of [q, k, v]) t.assertLive(op);
  const shapes = `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new Error(`${op}: q, k and v must be [B, H, T, D], got ${shapes}`);
  }
  const [b, h, , d] = q.shape;
  if (
    k.shape[0] !== b || k.shape[1] !== h || k.shape[3] !== d || v.shape[0] !== b ||
    v.shape[1] !== h || v.shape[2] !== k.shape[2]
  ) {
    throw new Error(
      `${op}: ${shapes} disagree; k must be [B, H, Tk, D] and v [B, H, Tk, Dv] for q [B, H, Tq, D]`,
    );
  }
  const tk = k.shape[2];
  if (opts.mask) {
    opts.mask.assertLive(op);
    const m = opts.mask.shape;
    if (m.length !== 2 || m[0] !== b || m[1] !== tk) {
      throw new Error(`${op}: mask must be [B, Tk] = [${b},${tk}], got ${fmtShape(m)}`);
    }
  }
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  if (!Number.isFinite(scale)) throw new Error(`${op}: scale must be finite, got ${scale}`);
  return { d, scale };
}

/** 1 where query i may see key j under the causal rule, as a [Tq, Tk] tensor. */
function causalKeep(tq: number, tk: number, backend: string): Tensor {
  const keep = new Float32Array(tq * tk);
  const shift = tk - tq;
  for (let i = 0; i < tq; i++) {
    for (let j = 0; j <= Math.min(tk - 1, i + shift); j++) keep[i * tk + j] = 1;
  }
  return tensor(keep, [tq, tk], { backend });
}

/**
 * softmax(scale · q kᵀ with hidden keys set to `MASKED_LOGIT`) v, built from matmul, where and
 * softmax: the reference definition the fused kernel is tested against.
 * @param q [B, H, Tq, D]
 * @param k [B, H, Tk, D]
 * @param v [B, H, Tk, Dv]
 * @returns [B, H, Tq, Dv]
 */
export function attentionComposed(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionOptions = {},
): Tensor {
  const { scale } = check("attentionComposed", q, k, v, opts);
  const [b, , tq] = q.shape, tk = k.shape[2];
  let scores = mul(matmul(q, k, { transB: true }), scale);
  let keep: Tensor | null = null;
  if (opts.causal) keep = causalKeep(tq, tk, q.backend.name);
  if (opts.mask) {
    const m = reshape(opts.mask, [b, 1, 1, tk]);
    keep = keep ? mul(keep, m) : m;
  }
  if (keep) scores = where(keep, scores, MASKED_LOGIT);
  return matmul(softmax(scores, -1), v);
}

/**
 * Scaled dot-product attention, softmax(scale · q kᵀ) v over [B, H, T, D] with optional causal
 * and key-padding masks (see `AttentionOptions`, `MASKED_LOGIT`). Fused on backends with an
 * `attention` kernel, else `attentionComposed`; the two agree in values and gradients.
 * @param q [B, H, Tq, D]
 * @param k [B, H, Tk, D]
 * @param v [B, H, Tk, Dv]
 * @returns [B, H, Tq, Dv]
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const { scale } = check("attention", q, k, v, opts);
  const backend = q.backend.name;
  if (!findKernel("attention", backend) || !findKernel("attentionGrad", backend)) {
    return attentionComposed(q, k, v, opts);
  }
  const [b, h, tq] = q.shape;
  const inputs = opts.mask ? [q, k, v, opts.mask] : [q, k, v];
  const attrs = { causal: !!opts.causal, scale, hasMask: !!opts.mask };
  return engine.run("attention", inputs, attrs, {
    outShapes: [[b, h, tq, v.shape[3]], [b, h, tq]],
    visible: 1,
  })[0];
}

registerGrad("attention", ([dy], node) => {
  const [q, k, v, mask] = node.inputs;
  const inputs = mask ? [q, k, v, mask, node.saved[0], dy!] : [q, k, v, node.saved[0], dy!];
  const [dq, dk, dv] = engine.run("attentionGrad", inputs, node.attrs, {
    outShapes: [q.shape, k.shape, v.shape],
  });
  return mask ? [dq, dk, dv, null] : [dq, dk, dv];
});
