/**
 * An indexed, immutable dataset: rows addressed by position, with views (map, select, shuffle)
 * that do not copy the rows, so a dataset of 156 million lazily built pairs costs no memory.
 *
 * @module
 */

import { seededPermutation } from "./permutation.ts";
import { Rng } from "./random.ts";

/** Options for {@link Dataset.batches}. */
export interface BatchOptions<T, B> {
  /** Turns the rows of one batch into the batch value; defaults to the array of rows. */
  collate?: (rows: T[]) => B;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

/** Options for {@link Dataset.shuffle}. */
export interface ShuffleOptions {
  /** Seed; the same seed gives the same order. */
  seed: number;
  /**
   * Use a table-free pseudo-random permutation instead of a stored one; chosen automatically for
   * more than 16,777,216 rows.
   */
  lazy?: boolean;
}

/** Options for {@link Dataset.trainTestSplit}. */
export interface SplitOptions {
  /** Test share: a fraction in (0, 1) or a row count (an integer ≥ 1). */
  testSize: number;
  /** Seed for the shuffle before splitting (default 0). */
  seed?: number;
  /** Shuffle before splitting (default true); false keeps the last rows as the test set. */
  shuffle?: boolean;
}

/** The two halves returned by {@link Dataset.trainTestSplit}. */
export interface TrainTestSplit<T> {
  /** Training rows. */
  train: Dataset<T>;
  /** Held-out rows. */
  test: Dataset<T>;
}

function checkIndex(index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`index ${index} is out of range for a dataset of ${length} rows`);
  }
}

/**
 * Rows of type `T` addressed by index. `map`, `select`, `shuffle`, `slice` and the split return
 * views over the same rows; `filter` scans once and keeps the matching indices; `materialize`
 * computes every row once and stores the results.
 *
 * @example
 * ```ts
 * import { Dataset } from "@tether/rlhf/data";
 * const ds = Dataset.from([{ text: "a", label: 1 }, { text: "b", label: 0 }]);
 * const { train, test } = ds.shuffle({ seed: 1 }).trainTestSplit({ testSize: 0.5 });
 * for (const batch of train.batches(8)) console.log(batch.length, test.length);
 * ```
 */
export class Dataset<T> implements Iterable<T> {
  /** Number of rows. */
  readonly length: number;
  readonly #get: (index: number) => T;

  /**
   * Build a dataset from a row count and a function that produces row `i`. Prefer
   * {@link Dataset.from} for arrays and {@link Dataset.fromGetter} for computed rows.
   *
   * @param length Number of rows, a non-negative safe integer.
   * @param get Returns row `i` for `0 <= i < length`; it is only called with valid indices.
   */
  constructor(length: number, get: (index: number) => T) {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`dataset length must be a non-negative safe integer, got ${length}`);
    }
    this.length = length;
    this.#get = get;
  }

  /**
   * A dataset over the given rows. Arrays are used as they are (not copied), so do not mutate
   * them afterwards; other iterables are collected first.
   *
   * @param rows The rows.
   */
  static from<T>(rows: readonly T[] | Iterable<T>): Dataset<T> {
    const array: readonly T[] = Array.isArray(rows) ? rows : Array.from(rows);
    return new Dataset(array.length, (i) => array[i]);
  }

  /**
   * A dataset whose rows are computed on access.
   *
   * @param length Number of rows.
   * @param get Returns row `i`.
   */
  static fromGetter<T>(length: number, get: (index: number) => T): Dataset<T> {
    return new Dataset(length, get);
  }

  /**
   * Several datasets one after another.
   *
   * @param parts The datasets to join, in order.
   */
  static concat<T>(...parts: Dataset<T>[]): Dataset<T> {
    const starts: number[] = [];
    let total = 0;
    for (const part of parts) {
      starts.push(total);
      total += part.length;
    }
    return new Dataset(total, (i) => {
      let lo = 0;
      let hi = parts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= i) lo = mid;
        else hi = mid - 1;
      }
      return parts[lo].get(i - starts[lo]);
    });
  }

  /**
   * Row `index` (0-based).
   *
   * @param index Position of the row; throws a RangeError when out of range.
   */
  get(index: number): T {
    checkIndex(index, this.length);
    return this.#get(index);
  }

  /**
   * A view whose rows are `fn(row, index)`. The function runs on every access; call
   * {@link Dataset.materialize} to run it once per row and keep the results.
   *
   * @param fn Row transform.
   */
  map<U>(fn: (row: T, index: number) => U): Dataset<U> {
    const get = this.#get;
    return new Dataset(this.length, (i) => fn(get(i), i));
  }

  /**
   * The rows for which `predicate` holds, in order. Scans every row once.
   *
   * @param predicate Keep-test for each row.
   */
  filter(predicate: (row: T, index: number) => boolean): Dataset<T> {
    const kept: number[] = [];
    for (let i = 0; i < this.length; i++) {
      if (predicate(this.#get(i), i)) kept.push(i);
    }
    return this.select(kept);
  }

  /**
   * A view of the rows at the given indices, in the given order (repeats allowed).
   *
   * @param indices Row positions.
   */
  select(indices: ArrayLike<number> | Iterable<number>): Dataset<T> {
    const list: ArrayLike<number> = Symbol.iterator in Object(indices) && !Array.isArray(indices) &&
        !ArrayBuffer.isView(indices)
      ? Array.from(indices as Iterable<number>)
      : indices as ArrayLike<number>;
    // Indices of datasets beyond 2^32 rows (lazy pair sets) do not fit 32 bits.
    const table = this.length <= 0x100000000
      ? new Uint32Array(list.length)
      : new Float64Array(list.length);
    for (let i = 0; i < list.length; i++) {
      checkIndex(list[i], this.length);
      table[i] = list[i];
    }
    const get = this.#get;
    return new Dataset(table.length, (i) => get(table[i]));
  }

  /**
   * Rows `[start, end)` as a view; negative positions count from the end, as in `Array.slice`.
   *
   * @param start First row (default 0).
   * @param end One past the last row (default the length).
   */
  slice(start = 0, end = this.length): Dataset<T> {
    const clamp = (x: number) => Math.min(this.length, Math.max(0, x < 0 ? this.length + x : x));
    const from = clamp(start);
    const to = Math.max(from, clamp(end));
    return new Dataset(to - from, (i) => this.#get(from + i));
  }

  /**
   * The first `n` rows (all of them when there are fewer).
   *
   * @param n Row count.
   */
  take(n: number): Dataset<T> {
    return this.slice(0, n);
  }

  /**
   * The same rows in a seeded random order; the same seed gives the same order.
   *
   * @param options Seed, or `{ seed, lazy }`.
   */
  shuffle(options: number | ShuffleOptions): Dataset<T> {
    const { seed, lazy } = typeof options === "number"
      ? { seed: options, lazy: undefined }
      : options;
    const permutation = seededPermutation(this.length, seed, lazy);
    return new Dataset(this.length, (i) => this.#get(permutation.at(i)));
  }

  /**
   * Split into train and test views. With `shuffle` (the default) rows are drawn in a seeded
   * random order; the test set gets `ceil(testSize * length)` rows for a fraction.
   *
   * @param options Test size, seed and whether to shuffle.
   */
  trainTestSplit(options: SplitOptions): TrainTestSplit<T> {
    const { testSize, seed = 0, shuffle = true } = options;
    let nTest: number;
    if (testSize > 0 && testSize < 1) nTest = Math.ceil(testSize * this.length);
    else if (Number.isInteger(testSize) && testSize >= 1 && testSize < this.length) {
      nTest = testSize;
    } else {
      throw new RangeError(
        `testSize must be a fraction in (0, 1) or a row count in [1, ${this.length}), got ${testSize}`,
      );
    }
    if (nTest >= this.length) {
      throw new RangeError(`testSize ${testSize} leaves no training rows out of ${this.length}`);
    }
    const ordered = shuffle ? this.shuffle({ seed }) : this;
    const nTrain = this.length - nTest;
    return { train: ordered.slice(0, nTrain), test: ordered.slice(nTrain) };
  }

  /**
   * Consecutive batches of `batchSize` rows, each passed through `collate` when given.
   *
   * @param batchSize Rows per batch (≥ 1).
   * @param options Collate function and whether to drop a short last batch.
   */
  batches(batchSize: number): Iterable<T[]>;
  /**
   * Consecutive batches of `batchSize` rows, each passed through `collate`.
   *
   * @param batchSize Rows per batch (≥ 1).
   * @param options Collate function and whether to drop a short last batch.
   */
  batches<B = T[]>(batchSize: number, options: BatchOptions<T, B>): Iterable<B>;
  *batches<B>(batchSize: number, options: BatchOptions<T, B> = {}): Iterable<B | T[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    const { collate, dropLast = false } = options;
    for (let start = 0; start < this.length; start += batchSize) {
      const end = Math.min(this.length, start + batchSize);
      if (dropLast && end - start < batchSize) break;
      const rows: T[] = [];
      for (let i = start; i < end; i++) rows.push(this.#get(i));
      yield collate ? collate(rows) : rows;
    }
  }

  /** Every row computed once and stored, so later accesses do not re-run mapped functions. */
  materialize(): Dataset<T> {
    return Dataset.from(this.toArray());
  }

  /** All rows in a new array. */
  toArray(): T[] {
    const out = new Array<T>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.#get(i);
    return out;
  }

  /**
   * The values of one field across all rows.
   *
   * @param name Field name.
   */
  column<K extends keyof T>(name: K): T[K][] {
    const out = new Array<T[K]>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.#get(i)[name];
    return out;
  }

  /**
   * `n` rows drawn uniformly with replacement, for datasets too large to shuffle fully.
   *
   * @param n How many rows.
   * @param seed Seed for the draws.
   */
  sample(n: number, seed: number): T[] {
    if (this.length === 0) throw new RangeError("cannot sample from an empty dataset");
    const rng = new Rng(seed);
    return Array.from({ length: n }, () => this.#get(rng.int(this.length)));
  }

  /** Iterate over the rows in order. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.#get(i);
  }
}

/**
 * Collate an array of records into one record of arrays, the usual shape of a training batch.
 *
 * @example
 * ```ts
 * import { collateRecords } from "@tether/rlhf/data";
 * collateRecords([{ a: 1, b: "x" }, { a: 2, b: "y" }]); // { a: [1, 2], b: ["x", "y"] }
 * ```
 *
 * @param rows Records that share the same keys (the keys of the first row are used).
 */
export function collateRecords<T extends Record<string, unknown>>(
  rows: readonly T[],
): { [K in keyof T]: T[K][] } {
  const out = {} as { [K in keyof T]: T[K][] };
  if (rows.length === 0) return out;
  for (const key of Object.keys(rows[0]) as (keyof T)[]) {
    out[key] = rows.map((row) => row[key]);
  }
  return out;
}
