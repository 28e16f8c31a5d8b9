/**
 * `assign(dst, src)`: copies values into an existing tensor's storage so the tensor keeps its
 * identity (parameters loaded from a checkpoint, optimizer moments restored from a state dict).
 *
 * Same backend: the registered in-place op `assign` runs (inputs [dst, src], no outputs; the
 * kernel writes into `dst`'s storage, so a GPU backend can copy buffer to buffer). Across
 * backends (a CPU checkpoint into WebGPU weights, f64 into f32) the values go through the host
 * with `backend.write`.
 */

import { findKernel } from "../backend.ts";
import { data } from "../backends/cpu/backend.ts";
import { registerCpuKernel } from "../backends/cpu/register.ts";
import { engine, noGrad } from "../engine.ts";
import { fmtShape, shapesEqual } from "../shape.ts";
import type { Tensor } from "../tensor.ts";

/** Throws unless `t` can be updated in place (a live, contiguous tensor). */
export function assertWritable(op: string, t: Tensor): void {
  t.assertLive(op);
  if (!t.isContiguous) {
    throw new Error(
      `${op}: tensor #${t.id}${t.name ? ` '${t.name}'` : ""} ${fmtShape(t.shape)} is a strided ` +
        `view; in-place updates need a contiguous tensor (create it contiguous, e.g. contiguous())`,
    );
  }
}

/**
 * Copies `src`'s values into `dst` in place (no tape, no new tensor). Shapes must match.
 * `what` names the destination in error messages (a parameter or state name).
 */
export function assign(dst: Tensor, src: Tensor, what = "assign"): void {
  assertWritable(what, dst);
  src.assertLive(what);
  if (!shapesEqual(dst.shape, src.shape)) {
    throw new Error(
      `${what}: shape mismatch: destination ${fmtShape(dst.shape)}, source ${fmtShape(src.shape)}`,
    );
  }
  if (dst === src || dst.size === 0) return;
  if (dst.backend === src.backend && findKernel("assign", dst.backend.name)) {
    noGrad(() => engine.run("assign", [dst, src], {}, { outShapes: [] }));
    return;
  }
  if (!src.backend.readSync) {
    throw new Error(
      `${what}: cannot copy from backend '${src.backend.name}' into '${dst.backend.name}' ` +
        `synchronously; move the source with await toBackendAsync() first`,
    );
  }
  dst.backend.write(dst.storage.handle, src.toArraySync(), dst.offset);
}

registerCpuKernel("assign", ([dst, src]) => data(dst).set(data(src)));
