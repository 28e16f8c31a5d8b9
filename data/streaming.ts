/**
 * Streaming datasets: async iterables that read rows as they go, for files that do not fit in
 * memory. Each iteration starts a fresh pass over the source.
 *
 * @module
 */

import { Dataset } from "./dataset.ts";
import { Rng } from "./random.ts";

/** Options for {@link StreamingDataset.shuffle}. */
export interface StreamShuffleOptions {
  /** Seed; the same seed and source give the same order. */
  seed: number;
  /** Rows held in the shuffle buffer (default 10,000); larger mixes better and uses more memory. */
  bufferSize?: number;
}

/**
 * A re-iterable async stream of rows. Transforms are lazy and run as rows flow through.
 *
 * @example
 * ```ts
 * import { streamJsonl } from "@tether/rlhf/data";
 *
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" }); // or a .jsonl.gz
 * const texts = ["a fine film.", "too long to sit through, and too loud to sleep through."];
 * await Deno.writeTextFile(path, texts.map((text) => JSON.stringify({ text })).join("\n"));
 * const stream = streamJsonl<{ text: string }>(path).filter((r) => r.text.length > 20);
 * for await (const batch of stream.batches(32)) console.log(batch.length); // 1
 * await Deno.remove(path);
 * ```
 */
export class StreamingDataset<T> implements AsyncIterable<T> {
  readonly #open: () => AsyncIterable<T>;

  /**
   * Wrap a source that can be read more than once.
   *
   * @param open Starts a new pass over the source; called once per iteration.
   */
  constructor(open: () => AsyncIterable<T>) {
    this.#open = open;
  }

  /**
   * A stream over in-memory rows or a {@link Dataset}.
   *
   * @param rows The rows.
   */
  static from<T>(rows: Iterable<T>): StreamingDataset<T> {
    return new StreamingDataset(async function* () {
      yield* rows;
    });
  }

  /** Iterate over the rows; each call starts a fresh pass. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.#open()[Symbol.asyncIterator]();
  }

  /**
   * Rows passed through `fn`.
   *
   * @param fn Row transform (may be async).
   */
  map<U>(fn: (row: T, index: number) => U | Promise<U>): StreamingDataset<U> {
    const open = this.#open;
    return new StreamingDataset(async function* () {
      let i = 0;
      for await (const row of open()) yield await fn(row, i++);
    });
  }

  /**
   * Rows for which `predicate` holds.
   *
   * @param predicate Keep-test (may be async).
   */
  filter(predicate: (row: T, index: number) => boolean | Promise<boolean>): StreamingDataset<T> {
    const open = this.#open;
    return new StreamingDataset(async function* () {
      let i = 0;
      for await (const row of open()) if (await predicate(row, i++)) yield row;
    });
  }

  /**
   * The first `n` rows; the source is closed as soon as they are read.
   *
   * @param n Row count.
   */
  take(n: number): StreamingDataset<T> {
    const open = this.#open;
    return new StreamingDataset(async function* () {
      if (n <= 0) return;
      let seen = 0;
      for await (const row of open()) {
        yield row;
        if (++seen >= n) return;
      }
    });
  }

  /**
   * All rows after the first `n`.
   *
   * @param n Rows to skip.
   */
  skip(n: number): StreamingDataset<T> {
    const open = this.#open;
    return new StreamingDataset(async function* () {
      let seen = 0;
      for await (const row of open()) if (seen++ >= n) yield row;
    });
  }

  /**
   * An approximate shuffle with a fixed-size buffer, as streaming loaders usually do: each
   * output row is drawn at random from the next `bufferSize` rows of the source.
   *
   * @param options Seed and buffer size.
   */
  shuffle(options: StreamShuffleOptions): StreamingDataset<T> {
    const { seed, bufferSize = 10_000 } = options;
    if (!Number.isInteger(bufferSize) || bufferSize < 1) {
      throw new RangeError(`bufferSize must be a positive integer, got ${bufferSize}`);
    }
    const open = this.#open;
    return new StreamingDataset(async function* () {
      const rng = new Rng(seed);
      const buffer: T[] = [];
      for await (const row of open()) {
        if (buffer.length < bufferSize) {
          buffer.push(row);
          continue;
        }
        const j = rng.int(bufferSize);
        yield buffer[j];
        buffer[j] = row;
      }
      rng.shuffleInPlace(buffer);
      yield* buffer;
    });
  }

  /**
   * Consecutive batches of `batchSize` rows.
   *
   * @param batchSize Rows per batch (≥ 1).
   * @param options Collate function and whether to drop a short last batch.
   */
  batches(batchSize: number): StreamingDataset<T[]>;
  /**
   * Consecutive batches of `batchSize` rows, each passed through `collate`.
   *
   * @param batchSize Rows per batch (≥ 1).
   * @param options Collate function and whether to drop a short last batch.
   */
  batches<B>(
    batchSize: number,
    options: { collate?: (rows: T[]) => B; dropLast?: boolean },
  ): StreamingDataset<B>;
  batches<B>(
    batchSize: number,
    options: { collate?: (rows: T[]) => B; dropLast?: boolean } = {},
  ): StreamingDataset<B | T[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    const { collate, dropLast = false } = options;
    const open = this.#open;
    return new StreamingDataset(async function* () {
      let rows: T[] = [];
      for await (const row of open()) {
        rows.push(row);
        if (rows.length === batchSize) {
          yield collate ? collate(rows) : rows;
          rows = [];
        }
      }
      if (rows.length > 0 && !dropLast) yield collate ? collate(rows) : rows;
    });
  }

  /** Read every row into an in-memory {@link Dataset}. */
  async collect(): Promise<Dataset<T>> {
    const rows: T[] = [];
    for await (const row of this) rows.push(row);
    return Dataset.from(rows);
  }

  /** Count the rows (reads the whole stream). */
  async count(): Promise<number> {
    let n = 0;
    for await (const _ of this) n++;
    return n;
  }
}
