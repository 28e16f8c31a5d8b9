/**
 * Comparing a WebGPU result with the CPU backend's: per tensor,
 * max_i |a_i − e_i| / max(|e_i|, 0.01·max_j|e_j|, 1e-6) over finite expected values (the op
 * suite's metric: elementwise relative, with entries far below the tensor's scale judged against
 * 1% of it), while NaN must meet NaN and an infinity the same infinity.
 */

/** Largest parity error of `actual` against `expected` (Infinity on a NaN/Inf mismatch). */
export function parityError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    if (Number.isFinite(e)) scale = Math.max(scale, Math.abs(e));
  }
  const floor = Math.max(0.01 * scale, 1e-6);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) return Infinity;
      continue;
    }
    const err = Math.abs(a - e) / Math.max(Math.abs(e), floor);
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  return worst;
}

/** Where the largest difference is, for failure messages. */
export function worstElement(actual: ArrayLike<number>, expected: ArrayLike<number>): string {
  let at = 0, worst = -1;
  for (let i = 0; i < expected.length; i++) {
    if (Object.is(actual[i], expected[i])) continue;
    const d = Math.abs(actual[i] - expected[i]);
    const bad = Number.isNaN(d) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]));
    const score = bad ? Infinity : Number.isNaN(d) ? -1 : d;
    if (score > worst) [at, worst] = [i, score];
  }
  return `element ${at}: webgpu ${actual[at]}, cpu ${expected[at]}`;
}
