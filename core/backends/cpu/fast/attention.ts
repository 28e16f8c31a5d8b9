/**
 * The f32 `cpu` backend's attention: heads split across threads, each head computed whole inside
 * the WebAssembly module (range_attention_heads.ts). Other precisions, a non-positive scale (the
 * masks are applied as −∞ before scaling) or a missing WebAssembly runtime take the reference
 * kernel.
 */

import type { Attrs, Backend, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";
import { type AttentionAttrs, attentionGradKernel, attentionKernel } from "../kernels/attention.ts";
import { parallelFor } from "./parallel.ts";
import "./range_attention_heads.ts";
import { wasmKernels } from "./wasm_module.ts";

/** Score elements worth handing one thread. */
const GRAIN_SCORES = 1 << 15;

const f32 = (...xs: ArrayLike<number>[]) => xs.every((x) => x instanceof Float32Array);

function usable(attrs: Attrs, ...xs: ArrayLike<number>[]): boolean {
  return (attrs.scale as number) > 0 && wasmKernels() !== null && f32(...xs);
}

/** attention: out and the per-row log-sum-exp. */
export function fastAttention(
  inputs: readonly KernelTensor[],
  [out, lse]: readonly KernelTensor[],
  attrs: Attrs,
  backend: Backend,
): void {
  const [q, k, v, mask] = inputs;
  const m = attrs.hasMask ? mask : null;
  const Q = data(q), K = data(k), V = data(v), O = data(out), L = data(lse);
  const M = m ? data(m) : null;
  const a = attrs as unknown as AttentionAttrs;
  if (!usable(attrs, Q, K, V, O, L, ...(M ? [M] : []))) {
    return attentionKernel(q, k, v, m, out, lse, a, backend);
  }
  const [b, h, tq, d] = q.shape, tk = k.shape[2], dv = v.shape[3];
  parallelFor(
    "attentionHeadsForward",
    [Q, K, V, O, L, tq, tk, d, dv, h, a.causal, a.scale, M],
    b * h,
    { grain: Math.max(1, Math.ceil(GRAIN_SCORES / (tq * tk))), writes: [3, 4] },
  );
}

/** attentionGrad: dq, dk, dv. */
export function fastAttentionGrad(
  inputs: readonly KernelTensor[],
  [dq, dk, dvOut]: readonly KernelTensor[],
  attrs: Attrs,
  backend: Backend,
): void {
  const [q, k, v] = inputs;
  const mask = attrs.hasMask ? inputs[3] : null;
  const [lse, dy] = inputs.slice(attrs.hasMask ? 4 : 3);
  const a = attrs as unknown as AttentionAttrs;
  const Q = data(q), K = data(k), V = data(v), L = data(lse), DY = data(dy);
  const DQ = data(dq), DK = data(dk), DV = data(dvOut), M = mask ? data(mask) : null;
  if (!usable(attrs, Q, K, V, L, DY, DQ, DK, DV, ...(M ? [M] : []))) {
    return attentionGradKernel(q, k, v, mask, lse, dy, dq, dk, dvOut, a, backend);
  }
  const [b, h, tq, d] = q.shape, tk = k.shape[2], dv = v.shape[3];
  parallelFor(
    "attentionHeadsBackward",
    [Q, K, V, L, DY, DQ, DK, DV, tq, tk, d, dv, h, a.causal, a.scale, M],
    b * h,
    { grain: Math.max(1, Math.ceil(GRAIN_SCORES / (tq * tk))), writes: [5, 6, 7] },
  );
}
