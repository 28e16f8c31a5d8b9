/**
 * Data access and padding shared by the trainers: rows from arrays or datasets, a seeded
 * per-epoch order that any step can recompute (so a resumed run sees the same batches), and
 * right-padding of token rows.
 *
 * @module
 */

import { Generator } from "../../core/random.ts";

/** Training or evaluation rows: an array, or an indexed dataset (`data`'s `Dataset`). */
export type Rows<T> = readonly T[] | { readonly length: number; get(index: number): T };

/**
 * Row `i` of `rows`.
 *
 * @param rows Array or dataset.
 * @param i Index.
 */
export function rowAt<T>(rows: Rows<T>, i: number): T {
  return Array.isArray(rows) ? (rows as readonly T[])[i] : (rows as { get(i: number): T }).get(i);
}

/**
 * Every row of `rows`, in order.
 *
 * @param rows Array or dataset.
 */
export function allRows<T>(rows: Rows<T>): T[] {
  return Array.from({ length: rows.length }, (_, i) => rowAt(rows, i));
}

/**
 * The shuffled order of epoch `epoch`: a function of the seed and the epoch alone.
 *
 * @param seed Run seed.
 * @param epoch 0-based epoch.
 * @param n Number of rows.
 */
export function epochPermutation(seed: number, epoch: number, n: number): number[] {
  return new Generator((seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0).permutation(n);
}

/**
 * Maps a global micro-batch number to row indices: micro-batches run through each epoch's
 * shuffled order in slices of `batchSize` (the last slice of an epoch may be shorter).
 */
export class MicroBatchOrder {
  /** Micro-batches per pass over the data. */
  readonly batchesPerEpoch: number;
  #epoch = -1;
  #order: number[] = [];

  /**
   * Order `n` rows in micro-batches of `batchSize`.
   *
   * @param n Number of rows.
   * @param batchSize Rows per micro-batch.
   * @param seed Run seed.
   */
  constructor(readonly n: number, readonly batchSize: number, readonly seed: number) {
    this.batchesPerEpoch = Math.ceil(n / batchSize);
  }

  /**
   * Row indices of global micro-batch `m` (0-based).
   *
   * @param m Micro-batch number.
   */
  indices(m: number): number[] {
    const epoch = Math.floor(m / this.batchesPerEpoch);
    if (epoch !== this.#epoch) {
      this.#order = epochPermutation(this.seed, epoch, this.n);
      this.#epoch = epoch;
    }
    const j = m % this.batchesPerEpoch;
    return this.#order.slice(j * this.batchSize, (j + 1) * this.batchSize);
  }
}

/** Token rows padded to one length, flattened row-major. */
export interface PaddedRows {
  /** Token ids [rows × length] (pad id where padded). */
  ids: number[];
  /** 1 on tokens, 0 on padding [rows × length]. */
  mask: number[];
  /** Common length. */
  length: number;
}

/**
 * Right-pad token rows to their longest (or `length`).
 *
 * @param rows Token rows.
 * @param padId Pad token id.
 * @param length Target length (at least the longest row).
 */
export function padRight(
  rows: readonly (readonly number[])[],
  padId: number,
  length?: number,
): PaddedRows {
  const L = length ?? Math.max(1, ...rows.map((r) => r.length));
  const ids: number[] = [], mask: number[] = [];
  for (const row of rows) {
    if (row.length > L) throw new Error(`padRight: a row of ${row.length} tokens exceeds ${L}`);
    for (let t = 0; t < L; t++) {
      ids.push(t < row.length ? row[t] : padId);
      mask.push(t < row.length ? 1 : 0);
    }
  }
  return { ids, mask, length: L };
}

/**
 * Check a token row: non-empty integers (names the field and row in the error).
 *
 * @param where Trainer and field, e.g. `DPOTrainer: pair 3 chosen`.
 * @param ids The row.
 */
export function checkTokenRow(where: string, ids: unknown): asserts ids is number[] {
  if (!Array.isArray(ids)) throw new Error(`${where}: expected an array of token ids, got ${ids}`);
  const bad = ids.findIndex((v) => !(Number.isInteger(v) && v >= 0));
  if (bad >= 0) {
    throw new Error(`${where}: token ${bad} is ${ids[bad]}; ids must be integers >= 0`);
  }
}
