/**
 * How an optimizer changes a parameter without replacing it: the update runs as one registered
 * in-place op (`adamw`, `sgd`) whose kernel writes the new values into the storages of its
 * inputs (the parameter and its state buffers) and allocates nothing. The parameter stays the
 * same Tensor object on the same storage, so modules, tied weights and views of it all see the
 * update, and memory stays flat across steps.
 *
 * In-place writes are only safe on contiguous tensors: the engine hands kernels contiguous
 * copies of strided inputs, and a write into such a copy would be lost. `runInPlace` refuses
 * them. Like torch's in-place ops, an update invalidates tape nodes still holding the old values
 * (a graph kept with retainGraph): run backward before stepping.
 */

import { engine, noGrad } from "../engine.ts";
import { fmtShape, shapesEqual } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { assertWritable } from "../nn/assign.ts";
import "./kernels.ts";

/**
 * Runs the in-place op `op` on `inputs`; the tensors in `written` (a subset of the inputs) are
 * updated through their storage. Not recorded on the tape.
 */
export function runInPlace(
  op: string,
  inputs: readonly Tensor[],
  written: readonly Tensor[],
  attrs: Record<string, unknown>,
): void {
  for (const t of written) assertWritable(op, t);
  noGrad(() => engine.run(op, inputs, attrs, { outShapes: [] }));
}

/** Throws unless `grad` matches the parameter it belongs to. */
export function checkGrad(op: string, param: Tensor, grad: Tensor): void {
  grad.assertLive(`${op} (gradient of ${describe(param)})`);
  if (!shapesEqual(param.shape, grad.shape)) {
    throw new Error(
      `${op}: gradient of ${describe(param)} has shape ${fmtShape(grad.shape)}, expected ` +
        `${fmtShape(param.shape)}`,
    );
  }
}

/** `parameter 'name' [shape]` or `parameter #id [shape]` for error messages. */
export function describe(p: Tensor): string {
  return `parameter ${p.name ? `'${p.name}'` : `#${p.id}`} ${fmtShape(p.shape)}`;
}
