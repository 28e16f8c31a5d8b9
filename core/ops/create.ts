/** Tensor creation: from values, constants, ranges, random draws, and moves between backends. */

import { currentBackend, engine } from "../engine.ts";
import { checkShape, type Shape, sizeOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { defaultGenerator, type Generator } from "../random.ts";

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Backend to create on (default: the current backend). */
  backend?: string;
  /** Make the new tensor a trainable leaf. */
  requiresGrad?: boolean;
}

/** Nested arrays of numbers, as accepted by `tensor()`. */
export type NestedNumbers = number | readonly NestedNumbers[];

function inferShape(values: NestedNumbers): number[] {
  const shape: number[] = [];
  let v: NestedNumbers = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * A tensor from values: nested arrays (shape inferred) or a flat typed array with `shape`.
 * @example
 * ```ts
 * import { tensor } from "@tether/rlhf/core";
 * const t = tensor([[1, 2], [3, 4]]);
 * console.log(t.shape, await t.toArray()); // [2, 2] [1, 2, 3, 4]
 * ```
 */
export function tensor(
  values: NestedNumbers | ArrayLike<number>,
  shape?: Shape,
  opts: CreateOptions = {},
): Tensor {
  let flat: ArrayLike<number>;
  let s: Shape;
  if (typeof values === "number") {
    flat = [values];
    s = shape ?? [];
  } else if (Array.isArray(values)) {
    const inferred = inferShape(values as NestedNumbers);
    flat = (values as unknown[]).flat(Infinity) as number[];
    s = shape ?? inferred;
  } else {
    flat = values as ArrayLike<number>;
    s = shape ?? [flat.length];
  }
  checkShape("tensor", s);
  return finish(engine.fromValues(flat, s, opts.backend ?? currentBackend()), opts);
}

/** A tensor filled with `value`. */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  checkShape("full", shape);
  const n = sizeOf(shape);
  const t = engine.allocStorage(opts.backend ?? currentBackend(), n);
  // Filled in f64 so constants stay exact on the f64 backend (the f32 backend rounds on write).
  if (value !== 0 && n > 0) t.backend.write(t.handle, new Float64Array(n).fill(value), 0);
  return finish(new Tensor(t, [...shape]), opts);
}

/** A tensor of zeros. */
export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** A one-element tensor of shape []. */
export function scalar(value: number, opts: CreateOptions = {}): Tensor {
  return full([], value, opts);
}

/** Zeros shaped and placed like `t`. */
export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, { backend: t.backend.name });
}

/** Ones shaped and placed like `t`. */
export function onesLike(t: Tensor): Tensor {
  return ones(t.shape, { backend: t.backend.name });
}

/** 0, 1, ..., n-1 (or start..end by step). */
export function arange(
  start: number,
  end?: number,
  step = 1,
  opts: CreateOptions = {},
): Tensor {
  if (end === undefined) [start, end] = [0, start];
  const n = Math.max(0, Math.ceil((end - start) / step));
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = start + i * step;
  return tensor(v, [n], opts);
}

/** Uniform draws in [low, high) from a seeded generator. */
export function rand(
  shape: Shape,
  opts: CreateOptions & { low?: number; high?: number; generator?: Generator } = {},
): Tensor {
  const g = opts.generator ?? defaultGenerator();
  const v = g.uniform(sizeOf(shape), opts.low ?? 0, opts.high ?? 1);
  return tensor(v, shape, opts);
}

/** Normal draws with mean and std from a seeded generator. */
export function randn(
  shape: Shape,
  opts: CreateOptions & { mean?: number; std?: number; generator?: Generator } = {},
): Tensor {
  const g = opts.generator ?? defaultGenerator();
  const v = g.normal(sizeOf(shape), opts.mean ?? 0, opts.std ?? 1);
  return tensor(v, shape, opts);
}

/** A copy of `t` on another backend (not recorded on the tape). */
export function toBackend(t: Tensor, backend: string): Tensor {
  t.assertLive("toBackend");
  if (!t.backend.readSync) {
    throw new Error(
      `toBackend: reading from '${t.backend.name}' is asynchronous; use await toBackendAsync()`,
    );
  }
  return tensor(t.toArraySync(), t.shape, { backend });
}

/** A copy of `t` on another backend, reading asynchronously (works from any backend). */
export async function toBackendAsync(t: Tensor, backend: string): Promise<Tensor> {
  return tensor(await t.toArray(), t.shape, { backend });
}
