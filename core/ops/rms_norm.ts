/**
 * Root-mean-square normalization over the last axis (T5's layer norm, Llama's RMSNorm): one
 * fused forward kernel and one fused backward where the backend has them (the CPU backends; the
 * f32 one splits rows across its threads), the composition of elementwise ops elsewhere.
 */

import { findKernel } from "../backend.ts";
import { engine, registerGrad } from "../engine.ts";
import { fmtShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { add, mul, rsqrt } from "./elementwise.ts";
import { mean } from "./reduce.ts";

/**
 * x / sqrt(mean(x²) + eps) · weight over the last axis: no mean subtracted, no bias, eps inside
 * the square root, as transformers' `T5LayerNorm` and `LlamaRMSNorm` compute it. Built from
 * elementwise ops where the backend has no `rmsNorm` kernel, so every backend runs it.
 * @param x [..., D]
 * @param weight [D]
 * @example
 * ```ts
 * import { ones, rmsNorm, tensor } from "@tether/rlhf/core";
 * const y = rmsNorm(tensor([[3, 4]]), ones([2]), 0); // [[3, 4] / sqrt(12.5)]
 * ```
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  for (const t of [x, weight]) t.assertLive("rmsNorm");
  const d = x.shape[x.rank - 1];
  if (x.rank === 0 || weight.rank !== 1 || weight.shape[0] !== d) {
    throw new Error(
      `rmsNorm: x ${fmtShape(x.shape)} normalizes its last axis, so weight must be ` +
        `[${x.rank ? d : "D"}], got ${fmtShape(weight.shape)}`,
    );
  }
  if (!(eps >= 0)) throw new Error(`rmsNorm: eps must be >= 0, got ${eps}`);
  if (findKernel("rmsNorm", x.backend.name)) {
    const rows = x.size / Math.max(d, 1);
    return engine.run("rmsNorm", [x, weight], { eps }, {
      outShapes: [x.shape, [rows]],
      visible: 1,
    })[0];
  }
  const meanSquare = mean(mul(x, x), { axis: -1, keepDims: true });
  return mul(mul(x, rsqrt(add(meanSquare, eps))), weight);
}

registerGrad("rmsNorm", ([dy], node) => {
  const [x, weight] = node.inputs;
  const [rstd] = node.saved;
  return engine.run("rmsNormGrad", [x, weight, rstd, dy!], {}, {
    outShapes: [x.shape, weight.shape],
  });
});
