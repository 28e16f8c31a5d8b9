/** Reductions over axes (sum, mean, max, min, var, argmax) and their gradient rules. */

import { engine, registerGrad } from "../engine.ts";
import { normalizeAxes, normalizeAxis, reducedShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { div, equal, mul, neg, square, sub } from "./elementwise.ts";
import { expand, reshape } from "./shape.ts";

/** Which axes to reduce (default all) and whether to keep them as size-1 dimensions. */
export interface ReduceOptions {
  /** Axis or axes; negative values count from the end. */
  axis?: number | readonly number[];
  /** Keep reduced axes with size 1. */
  keepDims?: boolean;
}

function reduce(op: string, x: Tensor, opts: ReduceOptions): Tensor {
  x.assertLive(op);
  const axes = normalizeAxes(op, opts.axis, x.rank);
  const keepDims = !!opts.keepDims;
  const outShape = reducedShape(x.shape, axes, keepDims);
  return engine.run(op, [x], { axes, keepDims }, { outShapes: [outShape] })[0];
}

/** Sum over axes. */
export function sum(x: Tensor, opts: ReduceOptions = {}): Tensor {
  return reduce("sum", x, opts);
}

/** Max over axes (amax: the gradient is shared evenly among tied maxima). */
export function max(x: Tensor, opts: ReduceOptions = {}): Tensor {
  return reduce("max", x, opts);
}

/** Min over axes. */
export function min(x: Tensor, opts: ReduceOptions = {}): Tensor {
  return neg(max(neg(x), opts));
}

/** Number of elements a reduction with these options averages over. */
function countOf(x: Tensor, opts: ReduceOptions): number {
  return normalizeAxes("mean", opts.axis, x.rank).reduce((n, a) => n * x.shape[a], 1);
}

/** Mean over axes. */
export function mean(x: Tensor, opts: ReduceOptions = {}): Tensor {
  return div(sum(x, opts), countOf(x, opts));
}

/** Variance over axes; `correction` 1 (default, unbiased) as in `torch.var`. */
export function variance(
  x: Tensor,
  opts: ReduceOptions & { correction?: number } = {},
): Tensor {
  const n = countOf(x, opts);
  const correction = opts.correction ?? 1;
  const centered = sub(x, mean(x, { axis: opts.axis, keepDims: true }));
  return div(sum(square(centered), opts), Math.max(n - correction, 0));
}

/** Index of the largest value along an axis (returned as f32 values; no gradient). */
export function argmax(x: Tensor, axis = -1, keepDims = false): Tensor {
  const a = normalizeAxis("argmax", axis, x.rank);
  return engine.run("argmax", [x], { axis: a }, {
    outShapes: [reducedShape(x.shape, [a], keepDims)],
    noGrad: true,
  })[0];
}

/** The reduced gradient reshaped back to broadcast against the input. */
function restore(dy: Tensor, x: Tensor, attrs: Record<string, unknown>): Tensor {
  const axes = attrs.axes as number[];
  return reshape(dy, reducedShape(x.shape, axes, true));
}

registerGrad("sum", ([dy], node) => {
  const x = node.inputs[0];
  return [expand(restore(dy!, x, node.attrs), x.shape)];
});

registerGrad("max", ([dy], node) => {
  const x = node.inputs[0];
  const y = restore(node.outputs[0], x, node.attrs);
  const hits = equal(x, y);
  const count = sum(hits, { axis: node.attrs.axes as number[], keepDims: true });
  return [mul(div(hits, count), restore(dy!, x, node.attrs))];
});
