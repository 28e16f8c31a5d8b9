/**
 * Plain host arrays: the form in which checkpoints are read and written, independent of any
 * tensor backend.
 *
 * @module
 */

/** Element types a checkpoint may store; values are always delivered as f32. */
export type StoredDType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U8"
  | "BOOL";

/**
 * One tensor on the host: row-major, contiguous values converted to f32.
 *
 * `dtype` records how the checkpoint stored it (e.g. `F16`), so callers can tell converted
 * floats and integer buffers apart. Integers are exact up to 2^24 in f32.
 */
export interface HostTensor {
  /** How the values were stored in the file. */
  dtype: StoredDType;
  /** Dimensions, outermost first; `[]` for a scalar. */
  shape: number[];
  /** Row-major values, `product(shape)` of them. */
  data: Float32Array;
}

/** What writers accept: f32 values are written as F32, f64 values (exact checkpoints) as F64. */
export interface HostArray {
  /** Dimensions, outermost first. */
  shape: readonly number[];
  /** Row-major values. */
  data: Float32Array | Float64Array;
}

/** Named tensors in file order. */
export type StateDict = Map<string, HostTensor>;

/**
 * The number of elements of a shape.
 *
 * @param shape Dimensions.
 */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Check that a shape is a list of non-negative integers.
 *
 * @param shape The candidate shape.
 * @param where What it belongs to, for the error message.
 */
export function assertShape(shape: unknown, where: string): asserts shape is number[] {
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
  ) {
    throw new Error(
      `${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
}
