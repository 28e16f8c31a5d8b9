/**
 * Checks integer index tensors (class ids, token ids, gather indices) before a kernel reads with
 * them. Indices live in f32 tensors, so a bad one would otherwise read past a row silently.
 */

import type { Tensor } from "../tensor.ts";

/** Formats flat position `i` of a tensor of `shape` as a multi-index like `[1,4]`. */
function positionOf(i: number, shape: readonly number[]): string {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return `[${idx.join(",")}]`;
}

/**
 * Throws when a value of `index` is not an integer in [0, limit) (values equal to `ignore` pass).
 * Runs only where the host can read the values (CPU backends); other backends' kernels clamp.
 * @param what names the index in the message, e.g. "crossEntropy: target".
 */
export function checkIndices(
  what: string,
  index: Tensor,
  limit: number,
  fix: string,
  ignore?: number,
): void {
  if (!index.backend.readSync) return;
  const v = index.toArraySync();
  for (let i = 0; i < v.length; i++) {
    const t = v[i];
    if (t >= 0 && t < limit && Number.isInteger(t)) continue;
    if (ignore !== undefined && t === ignore) continue;
    throw new Error(
      `${what} ${t} at position ${positionOf(i, index.shape)} is not an integer in [0, ${limit})` +
        `${ignore !== undefined ? ` and is not ignoreIndex ${ignore}` : ""}; ${fix}`,
    );
  }
}
