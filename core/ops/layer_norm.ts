/** Layer normalization over the last axis: one fused forward kernel and one fused backward. */

import { engine, registerGrad } from "../engine.ts";
import { fmtShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";

/**
 * (x − mean) / sqrt(var + eps) · weight + bias over the last axis, with PyTorch's biased
 * variance and eps inside the square root (`F.layer_norm`).
 * @param x [..., D]
 * @param weight [D]
 * @param bias [D]
 */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  for (const t of [x, weight, bias]) t.assertLive("layerNorm");
  const d = x.shape[x.rank - 1];
  if (
    x.rank === 0 || weight.rank !== 1 || bias.rank !== 1 || weight.shape[0] !== d ||
    bias.shape[0] !== d
  ) {
    throw new Error(
      `layerNorm: x ${fmtShape(x.shape)} normalizes its last axis, so weight and bias must be ` +
        `[${x.rank ? d : "D"}], got weight ${fmtShape(weight.shape)} and bias ${
          fmtShape(bias.shape)
        }`,
    );
  }
  if (!(eps >= 0)) throw new Error(`layerNorm: eps must be >= 0, got ${eps}`);
  const rows = x.size / Math.max(d, 1);
  return engine.run("layerNorm", [x, weight, bias], { eps }, {
    outShapes: [x.shape, [rows], [rows]],
    visible: 1,
  })[0];
}

registerGrad("layerNorm", ([dy], node) => {
  const [x, weight, bias] = node.inputs;
  const [mean, rstd] = node.saved;
  return engine.run("layerNormGrad", [x, weight, mean, rstd, dy!], {}, {
    outShapes: [x.shape, weight.shape, bias.shape],
  });
});
