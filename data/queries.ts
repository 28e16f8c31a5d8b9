/**
 * Query (prompt) builders for policy-gradient tutorials: the first N tokens or words of each
 * text, N fixed or drawn per row from a {@link LengthSampler}, after optional filters such as
 * "longer than 200 characters".
 *
 * @module
 */

import { Dataset } from "./dataset.ts";
import { LengthSampler } from "./length_sampler.ts";

/**
 * What the token-based builders need from a tokenizer, so they do not depend on the models
 * module: `encode`, and optionally `decode` to return the query text as well.
 */
export interface TokenizerLike {
  /** Token ids of a text. */
  encode(text: string): number[];
  /** Text of token ids. */
  decode?(ids: number[]): string;
}

/** A query length: a fixed count, a sampler, or any function returning a count. */
export type QueryLength = number | LengthSampler | (() => number);

/** Options shared by the query builders. */
export interface QueryOptions<T> {
  /** Query length per row; a sampler is drawn once per kept row, in order. */
  length: QueryLength;
  /** The text of a row (default: the row itself if a string, else its `text` field). */
  text?: (row: T) => string;
  /** Keep only rows whose text passes (applied before any length is drawn). */
  filter?: (text: string, row: T) => boolean;
}

/** A token query. */
export interface TokenQuery<T> {
  /** The source row. */
  row: T;
  /** The first N token ids of the row's text. */
  inputIds: number[];
  /** `decode(inputIds)`, when the tokenizer can decode. */
  query?: string;
}

/** A word query. */
export interface WordQuery<T> {
  /** The source row. */
  row: T;
  /** The row's text up to the end of its Nth word, spacing kept. */
  query: string;
  /** Words in the query (fewer than N when the text is shorter). */
  words: number;
}

/**
 * A filter keeping texts longer than `chars` characters (the TRL IMDB tutorial keeps reviews
 * longer than 200).
 *
 * @param chars Minimum length, exclusive.
 */
export function longerThan(chars: number): (text: string) => boolean {
  return (text) => text.length > chars;
}

function lengthDrawer(length: QueryLength): () => number {
  if (typeof length === "number") {
    if (!Number.isInteger(length) || length < 0) {
      throw new RangeError(`query length must be a non-negative integer, got ${length}`);
    }
    return () => length;
  }
  if (length instanceof LengthSampler) return () => length.sample();
  return length;
}

function defaultText<T>(row: T, index: number): string {
  if (typeof row === "string") return row;
  const text = (row as { text?: unknown } | null)?.text;
  if (typeof text !== "string") {
    throw new TypeError(`row ${index + 1} has no string "text" field; pass { text: (row) => ... }`);
  }
  return text;
}

function* keptRows<T>(
  rows: Iterable<T>,
  options: QueryOptions<T>,
): Generator<{ row: T; text: string }> {
  let index = 0;
  for (const row of rows) {
    const text = options.text ? options.text(row) : defaultText(row, index);
    index++;
    if (options.filter && !options.filter(text, row)) continue;
    yield { row, text };
  }
}

/**
 * Queries made of the first N tokens of each text, as in TRL's sentiment tutorial
 * (`input_ids = tokenizer.encode(review)[:input_size()]`). Built eagerly so a sampler's draws
 * are tied to row order and the result is reproducible.
 *
 * @example
 * ```ts
 * import { LengthSampler, longerThan, tokenQueries } from "@tether/rlhf/data";
 * const tokenizer = { encode: (t: string) => [...t].map((c) => c.charCodeAt(0)) };
 * const queries = tokenQueries([{ text: "a long enough review ..." }], {
 *   tokenizer,
 *   length: new LengthSampler(2, 8, { seed: 0 }),
 *   filter: longerThan(10),
 * });
 * ```
 *
 * @param rows Source rows.
 * @param options Tokenizer, length, text accessor and filter.
 */
export function tokenQueries<T>(
  rows: Iterable<T>,
  options: QueryOptions<T> & { tokenizer: TokenizerLike },
): Dataset<TokenQuery<T>> {
  const draw = lengthDrawer(options.length);
  const { tokenizer } = options;
  const out: TokenQuery<T>[] = [];
  for (const { row, text } of keptRows(rows, options)) {
    const inputIds = tokenizer.encode(text).slice(0, draw());
    const query: TokenQuery<T> = { row, inputIds };
    if (tokenizer.decode) query.query = tokenizer.decode(inputIds);
    out.push(query);
  }
  return Dataset.from(out);
}

/**
 * Queries made of the first N whitespace-separated words of each text; the original spacing
 * and punctuation inside that prefix are kept.
 *
 * @param rows Source rows.
 * @param options Length, text accessor and filter.
 */
export function wordQueries<T>(rows: Iterable<T>, options: QueryOptions<T>): Dataset<WordQuery<T>> {
  const draw = lengthDrawer(options.length);
  const out: WordQuery<T>[] = [];
  for (const { row, text } of keptRows(rows, options)) {
    const n = draw();
    const pattern = /\S+/g;
    let end = 0;
    let words = 0;
    while (words < n) {
      const match = pattern.exec(text);
      if (match === null) break;
      end = match.index + match[0].length;
      words++;
    }
    out.push({ row, query: text.slice(0, end), words });
  }
  return Dataset.from(out);
}
