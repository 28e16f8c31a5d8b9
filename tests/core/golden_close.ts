// Comparison against the PyTorch training goldens, at each backend's storage precision.

import assert from "node:assert/strict";
import type { Tensor } from "../../core/mod.ts";

/** Relative tolerance per backend; absolute floor for values near zero. */
export const TOL = { cpu: { rtol: 1e-5, atol: 1e-6 }, cpu64: { rtol: 1e-10, atol: 1e-12 } };

/** Values at storage precision (the f32 readback would hide f64 agreement). */
export function values(t: Tensor): number[] {
  return Array.from(t.toFloat64ArraySync());
}

/** Element-wise |actual − expected| ≤ atol + rtol·|expected|, naming the first miss. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { rtol: number; atol: number },
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol.atol + tol.rtol * Math.abs(expected[i]))) {
      assert.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (error ${err})`);
    }
  }
}
