/**
 * The affine map of `nn.Linear` and GPT-2's `Conv1D` as one op: x·Wᵀ + b (or x·W + b), with the
 * bias added into the product's own output. As a composition the product and the sum are two
 * tensors the size of the output, both kept until the scope ends; fused, there is one. Backends
 * without a `linear` kernel run the composition.
 */

import { findKernel } from "../backend.ts";
import { engine, registerGrad } from "../engine.ts";
import { fmtShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { add } from "./elementwise.ts";
import { matmul } from "./matmul.ts";
import { reshape, sumTo } from "./shape.ts";

/** Options of `linear`. */
export interface LinearOpOptions {
  /** Weight stored [out, in] and used transposed, as torch's Linear (default true). */
  transB?: boolean;
}

/**
 * x·Wᵀ + b for `weight` [out, in] (torch's `F.linear`), or x·W + b for [in, out] with
 * `transB: false` (GPT-2's `Conv1D`); `bias` [out] may be null.
 *
 * @example
 * ```ts
 * import { linear, ones, tensor } from "@tether/rlhf/core";
 * const y = linear(ones([2, 3]), ones([4, 3]), tensor([0, 1, 2, 3])); // [2, 4]
 * ```
 *
 * @param x [..., in]
 * @param weight [out, in] (or [in, out] with `transB: false`)
 * @param bias [out], or null
 * @returns [..., out]
 */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  opts: LinearOpOptions = {},
): Tensor {
  const transB = opts.transB ?? true;
  for (const t of bias ? [x, weight, bias] : [x, weight]) t.assertLive("linear");
  const inF = transB ? weight.shape[1] : weight.shape[0];
  const outF = transB ? weight.shape[0] : weight.shape[1];
  if (weight.rank !== 2 || x.rank < 1 || x.shape[x.rank - 1] !== inF) {
    throw new Error(
      `linear: x ${fmtShape(x.shape)} needs a weight ${transB ? "[out, in]" : "[in, out]"} ` +
        `whose in = ${x.rank ? x.shape[x.rank - 1] : "?"}, got ${fmtShape(weight.shape)}`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new Error(`linear: bias must be [${outF}], got ${fmtShape(bias.shape)}`);
  }
  if (!bias) return matmul(x, weight, { transB });
  if (!findKernel("linear", x.backend.name)) return add(matmul(x, weight, { transB }), bias);
  const rows = x.size / inF;
  const flat = reshape(x, [rows, inF]);
  const y =
    engine.run("linear", [flat, weight, bias], { transB }, { outShapes: [[rows, outF]] })[0];
  return reshape(y, [...x.shape.slice(0, -1), outF]);
}

registerGrad("linear", ([dy], node) => {
  const [x, weight, bias] = node.inputs;
  const transB = node.attrs.transB as boolean;
  const g = dy!;
  const wants = (t: Tensor) => t.requiresGrad || t.node !== null;
  // dX = dY·W (or dY·Wᵀ); dW = dYᵀ·X (or Xᵀ·dY); db = Σ_rows dY.
  const dx = wants(x) ? matmul(g, weight, { transB: !transB }) : null;
  const dw = !wants(weight)
    ? null
    : transB
    ? matmul(g, x, { transA: true })
    : matmul(x, g, { transA: true });
  const db = wants(bias) ? sumTo(g, bias.shape) : null;
  return [dx, dw, db];
});
