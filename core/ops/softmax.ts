/** Softmax and log-softmax over one axis as fused kernels, with fused backward kernels. */

import { engine, registerGrad } from "../engine.ts";
import { normalizeAxis } from "../shape.ts";
import type { Tensor } from "../tensor.ts";

function run(op: string, x: Tensor, axis: number): Tensor {
  x.assertLive(op);
  if (x.rank === 0) throw new Error(`${op}: needs a tensor of rank >= 1, got a scalar`);
  const a = normalizeAxis(op, axis, x.rank);
  return engine.run(op, [x], { axis: a }, { outShapes: [x.shape] })[0];
}

/**
 * exp(x) / Σ exp(x) along `axis` (default: the last), computed stably.
 * @example
 * ```ts
 * import { softmax, tensor } from "@tether/rlhf/core";
 * const p = softmax(tensor([[1, 2, 3]]));
 * console.log(await p.toArray()); // [0.090, 0.245, 0.665]: the row sums to 1
 * ```
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return run("softmax", x, axis);
}

/** x − log Σ exp(x) along `axis` (default: the last), computed stably. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return run("logSoftmax", x, axis);
}

for (const op of ["softmax", "logSoftmax"]) {
  registerGrad(op, ([dy], node) => {
    const y = node.outputs[0];
    return [engine.run(`${op}Grad`, [y, dy!], node.attrs, { outShapes: [y.shape] })[0]];
  });
}
