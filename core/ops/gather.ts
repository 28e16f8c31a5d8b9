/** Index-driven reads: torch.gather along an axis and embedding row lookup, with their gradients. */

import { engine, registerGrad } from "../engine.ts";
import { fmtShape, normalizeAxis } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { checkIndices } from "./index_check.ts";

/**
 * torch.gather: out[..., i, ...] = x[..., index[..., i, ...], ...] along `axis`. `index` has the
 * rank of `x`, no larger than `x` on the other axes, and gives the output shape. Indices are
 * numbers in [0, x.shape[axis]); on CPU backends a bad one raises an error naming it.
 * @example
 * ```ts
 * import { gather, tensor } from "@tether/rlhf/core";
 * const picked = gather(tensor([[1, 2], [3, 4]]), tensor([[1], [0]]), 1);
 * console.log(await picked.toArray()); // [2, 3]: row 0 takes column 1, row 1 column 0
 * ```
 */
export function gather(x: Tensor, index: Tensor, axis: number): Tensor {
  x.assertLive("gather");
  index.assertLive("gather");
  if (x.rank === 0) throw new Error("gather: x must have rank >= 1, got a scalar");
  const a = normalizeAxis("gather", axis, x.rank);
  const bad = index.rank !== x.rank ||
    index.shape.some((n, d) => d !== a && n > x.shape[d]);
  if (bad) {
    throw new Error(
      `gather: index ${fmtShape(index.shape)} must have the rank of x ${fmtShape(x.shape)} and ` +
        `be no larger on every axis but ${a}`,
    );
  }
  checkIndices(
    "gather: index",
    index,
    x.shape[a],
    `indices along axis ${a} must be in [0, ${x.shape[a]})`,
  );
  return engine.run("gather", [x, index], { axis: a }, { outShapes: [index.shape] })[0];
}

registerGrad("gather", ([dy], node) => {
  const [x, index] = node.inputs;
  const dx = engine.run("scatterAdd", [index, dy!], node.attrs, { outShapes: [x.shape] })[0];
  return [dx, null];
});

/**
 * Rows of `weight` picked by `ids`: [V, D] and [...] give [..., D]. On CPU backends an id outside
 * [0, V) raises an error naming it and V.
 */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  weight.assertLive("embedding");
  ids.assertLive("embedding");
  if (weight.rank !== 2) {
    throw new Error(`embedding: weight must be [V, D], got ${fmtShape(weight.shape)}`);
  }
  const [v, d] = weight.shape;
  checkIndices("embedding: id", ids, v, `the table has V = ${v} rows`);
  return engine.run("embedding", [weight, ids], {}, { outShapes: [[...ids.shape, d]] })[0];
}

registerGrad("embedding", ([dy], node) => {
  const [weight, ids] = node.inputs;
  const dw = engine.run("embeddingGrad", [ids, dy!], {}, { outShapes: [weight.shape] })[0];
  return [dw, null];
});
