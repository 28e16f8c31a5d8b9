/**
 * Gradient checking in f64 on the `cpu64` backend: the gradients backward() computes are compared
 * with central finite differences of L = Σ out · seed, where `seed` is a seeded random upstream
 * gradient (so every output element of a non-scalar op is weighted, not just their sum).
 *
 * Tolerances: |analytic − numeric| <= atol + rtol · |numeric| per element, with eps = 1e-6,
 * rtol = 1e-6 and atol = 1e-8 by default. With f64 arithmetic the central difference has a
 * truncation error ~eps²·|L'''| ≈ 1e-12 and a rounding error ~1e-16·|L|/eps ≈ 1e-10·|L|, so these
 * bounds leave two orders of margin for O(1) inputs while still catching any gradient that is off
 * by more than a part in a million. A forward that rounds to f32 anywhere adds ~1e-7/eps noise to
 * the difference quotient and fails them too, which keeps the f64 backend honest.
 */

import { contiguous, Generator, noGrad, type Tensor, tensor, tidy } from "../../core/mod.ts";

/** One input of the checked function. */
export interface GradcheckInput {
  /** Values, row-major. */
  values: ArrayLike<number>;
  /** Shape. */
  shape: readonly number[];
  /** Whether to differentiate with respect to this input (default true). */
  grad?: boolean;
  /** Name used in failure messages. */
  name?: string;
}

/** Tolerances and randomness of `gradcheck`. */
export interface GradcheckOptions {
  /** Seed of the random upstream gradient (default 0). */
  seed?: number;
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Relative tolerance (default 1e-6). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  atol?: number;
}

/** What `gradcheck` measured. */
export interface GradcheckReport {
  /** Input elements compared. */
  checked: number;
  /** Largest of |analytic − numeric| / (atol + rtol·|numeric|); the check passes when <= 1. */
  worstRatio: number;
}

/** The default tolerances, exported so tests and reports can state them. */
export const GRADCHECK_DEFAULTS: Required<Omit<GradcheckOptions, "seed">> = {
  eps: 1e-6,
  rtol: 1e-6,
  atol: 1e-8,
};

const BACKEND = "cpu64";

/** Reads a cpu64 tensor's values at full f64 precision (`toArray()` always gives f32). */
export function readF64(t: Tensor): Float64Array {
  if (t.backend.name !== BACKEND) {
    throw new Error(`readF64: tensor is on '${t.backend.name}', expected '${BACKEND}'`);
  }
  return noGrad(() => {
    const c = t.isContiguous ? t : contiguous(t);
    try {
      return (c.storage.handle as Float64Array).slice(c.offset, c.offset + c.size);
    } finally {
      if (c !== t) c.dispose();
    }
  });
}

function fmtShape(s: readonly number[]): string {
  return `[${s.join(",")}]`;
}

/**
 * Checks the gradients of `fn` with respect to every input marked `grad` (default all) against
 * central finite differences in f64. Throws an error describing the worst mismatch; returns the
 * worst error ratio otherwise.
 */
export function gradcheck(
  fn: (xs: Tensor[]) => Tensor,
  inputs: readonly GradcheckInput[],
  opts: GradcheckOptions = {},
): GradcheckReport {
  const { eps, rtol, atol } = { ...GRADCHECK_DEFAULTS, ...opts };
  const make = (values: ArrayLike<number>, i: number, requiresGrad: boolean) =>
    tensor(Float64Array.from(values), inputs[i].shape, { backend: BACKEND, requiresGrad });
  const wants = inputs.map((x) => x.grad !== false);
  if (!wants.some((w) => w)) throw new Error("gradcheck: no input is marked for differentiation");

  // Analytic gradients of L = Σ out·seed.
  let seed: Float64Array = new Float64Array(0);
  const analytic: Float64Array[] = tidy(() => {
    const xs = inputs.map((x, i) => make(x.values, i, wants[i]));
    const out = fn(xs);
    if (out.backend.name !== BACKEND) {
      throw new Error(`gradcheck: the function returned a tensor on '${out.backend.name}'`);
    }
    seed = Float64Array.from(new Generator(opts.seed ?? 0).normal(out.size));
    out.backward(tensor(seed, out.shape, { backend: BACKEND }));
    return xs.map((x, i) =>
      !wants[i] ? new Float64Array(0) : x.grad ? readF64(x.grad) : new Float64Array(x.size) // no gradient reached it: compare against zeros
    );
  });

  const loss = (values: ArrayLike<number>[]): number =>
    noGrad(() =>
      tidy(() => {
        const out = readF64(fn(values.map((v, i) => make(v, i, false))));
        let s = 0;
        for (let j = 0; j < out.length; j++) s += out[j] * seed[j];
        return s;
      })
    );

  const current = inputs.map((x) => Float64Array.from(x.values));
  let checked = 0, worstRatio = 0;
  let worst = "";
  for (let i = 0; i < inputs.length; i++) {
    if (!wants[i]) continue;
    const v = current[i];
    for (let j = 0; j < v.length; j++) {
      const orig = v[j];
      v[j] = orig + eps;
      const up = loss(current);
      v[j] = orig - eps;
      const down = loss(current);
      v[j] = orig;
      const numeric = (up - down) / (2 * eps);
      const a = analytic[i][j];
      const ratio = Math.abs(a - numeric) / (atol + rtol * Math.abs(numeric));
      checked++;
      if (!(ratio <= worstRatio)) {
        worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
        worst = `input ${i}${inputs[i].name ? ` '${inputs[i].name}'` : ""} ${
          fmtShape(inputs[i].shape)
        } element ${j}: analytic ${a}, numeric ${numeric}`;
      }
    }
  }
  if (worstRatio > 1) {
    throw new Error(
      `gradcheck: gradient mismatch at ${worst} (|diff| is ${worstRatio.toExponential(2)}× the ` +
        `tolerance atol ${atol} + rtol ${rtol}·|numeric|, eps ${eps})`,
    );
  }
  return { checked, worstRatio };
}
