/**
 * CSV and TSV files (RFC 4180 quoting: quoted fields, `""` escapes, delimiters and newlines
 * inside quotes), parsed incrementally so large files stream.
 *
 * @module
 */

import { DataParseError } from "../errors.ts";
import type { Dataset } from "../dataset.ts";
import type { StreamingDataset } from "../streaming.ts";
import { type LoadOptions, type SourceRecord, streamRecords } from "./records.ts";
import { openTextStream, withoutGzipSuffix } from "./text.ts";

/** Options for the CSV/TSV loaders. */
export interface CsvOptions<T> extends LoadOptions<T> {
  /** Field separator; defaults to a tab for `.tsv` files and a comma otherwise. */
  delimiter?: string;
  /**
   * Column names: `true` (default) takes them from the first record; an array names them
   * explicitly and treats the first record as data.
   */
  header?: true | readonly string[];
}

/** One CSV record: its fields and the 1-based line where it starts. */
export interface CsvRecord {
  /** Field values, unquoted. */
  fields: string[];
  /** 1-based line of the record's first character. */
  line: number;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/**
 * An incremental CSV tokenizer: feed text chunks, receive complete records. A chunk may end
 * anywhere, even between the two quotes of an escaped `""`.
 */
export class CsvTokenizer {
  readonly #delimiter: number;
  readonly #source: string;
  #state: number = FIELD_START;
  #field = "";
  #fields: string[] = [];
  #line = 1;
  #recordLine = 1;
  #quoteLine = 1;
  #recordHasContent = false;
  #skipLf = false;

  /**
   * Create a tokenizer for one file.
   *
   * @param delimiter One-character field separator.
   * @param source File name used in error messages.
   */
  constructor(delimiter = ",", source = "<csv>") {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" || delimiter === "\r") {
      throw new RangeError(`CSV delimiter must be one character other than a quote or newline`);
    }
    this.#delimiter = delimiter.charCodeAt(0);
    this.#source = source;
  }

  #endField(): void {
    this.#fields.push(this.#field);
    this.#field = "";
  }

  #endRecord(out: CsvRecord[]): void {
    this.#endField();
    if (this.#recordHasContent) out.push({ fields: this.#fields, line: this.#recordLine });
    this.#fields = [];
    this.#recordHasContent = false;
    this.#state = FIELD_START;
  }

  /**
   * Consume a chunk of text and return the records it completes.
   *
   * @param chunk The next piece of the file.
   */
  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    const delimiter = this.#delimiter;
    // A field cut by the previous chunk boundary continues from this chunk's first character.
    let segmentStart = this.#state === UNQUOTED || this.#state === QUOTED ? 0 : -1;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk.charCodeAt(i);
      if (this.#skipLf) {
        this.#skipLf = false;
        if (c === LF) {
          this.#line++;
          continue;
        }
      }
      switch (this.#state) {
        case FIELD_START:
          if (!this.#recordHasContent && this.#fields.length === 0) this.#recordLine = this.#line;
          if (c === QUOTE) {
            this.#state = QUOTED;
            this.#quoteLine = this.#line;
            this.#recordHasContent = true;
            segmentStart = i + 1;
          } else if (c === delimiter) {
            this.#recordHasContent = true;
            this.#endField();
          } else if (c === LF) {
            this.#endRecord(out);
            this.#line++;
          } else if (c === CR) {
            this.#endRecord(out);
            this.#skipLf = true;
          } else {
            this.#state = UNQUOTED;
            this.#recordHasContent = true;
            segmentStart = i;
          }
          break;
        case UNQUOTED:
          if (c === delimiter || c === LF || c === CR) {
            this.#field += chunk.slice(segmentStart, i);
            segmentStart = -1;
            if (c === delimiter) {
              this.#endField();
              this.#state = FIELD_START;
            } else {
              this.#endRecord(out);
              if (c === LF) this.#line++;
              else this.#skipLf = true;
            }
          }
          break;
        case QUOTED:
          if (c === QUOTE) {
            this.#field += chunk.slice(segmentStart, i);
            segmentStart = -1;
            this.#state = QUOTE_IN_QUOTED;
          } else if (c === LF) {
            this.#line++;
          }
          break;
        case QUOTE_IN_QUOTED:
          if (c === QUOTE) {
            this.#field += '"';
            this.#state = QUOTED;
            segmentStart = i + 1;
          } else if (c === delimiter) {
            this.#endField();
            this.#state = FIELD_START;
          } else if (c === LF) {
            this.#endRecord(out);
            this.#line++;
          } else if (c === CR) {
            this.#endRecord(out);
            this.#skipLf = true;
          } else {
            throw new DataParseError(
              { source: this.#source, row: this.#line, kind: "line" },
              `unexpected character ${
                JSON.stringify(chunk[i])
              } after a closing quote (a quote inside a quoted field must be doubled: "")`,
            );
          }
          break;
      }
    }
    if (segmentStart !== -1) this.#field += chunk.slice(segmentStart);
    return out;
  }

  /** Signal the end of input and return the last record, if any. */
  finish(): CsvRecord[] {
    if (this.#state === QUOTED) {
      throw new DataParseError(
        { source: this.#source, row: this.#quoteLine, kind: "line" },
        "unterminated quoted field (the file ends before its closing quote)",
      );
    }
    const out: CsvRecord[] = [];
    if (this.#recordHasContent || this.#fields.length > 0) this.#endRecord(out);
    return out;
  }
}

/**
 * Parse CSV text held in memory into records.
 *
 * @param text The whole CSV text.
 * @param delimiter Field separator (default comma).
 * @param source Name used in error messages.
 */
export function parseCsvRecords(text: string, delimiter = ",", source = "<csv>"): CsvRecord[] {
  const tokenizer = new CsvTokenizer(delimiter, source);
  const records = tokenizer.push(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  records.push(...tokenizer.finish());
  return records;
}

function defaultDelimiter(path: string): string {
  return withoutGzipSuffix(path).toLowerCase().endsWith(".tsv") ? "\t" : ",";
}

/**
 * The rows of a CSV/TSV file as objects keyed by column name, located by the 1-based line
 * where each record starts. Values are strings.
 *
 * @param path Local file path (`.csv`, `.tsv`, optionally `.gz`).
 * @param options Delimiter and header.
 */
export async function* csvRecords(
  path: string,
  options: Omit<CsvOptions<unknown>, "schema"> = {},
): AsyncGenerator<SourceRecord> {
  const tokenizer = new CsvTokenizer(options.delimiter ?? defaultDelimiter(path), path);
  let columns: readonly string[] | undefined = Array.isArray(options.header)
    ? options.header
    : undefined;
  const toRecords = function* (records: CsvRecord[]): Generator<SourceRecord> {
    for (const { fields, line } of records) {
      const location = { source: path, row: line, kind: "line" as const };
      if (columns === undefined) {
        const seen = new Set<string>();
        for (const name of fields) {
          if (seen.has(name)) {
            throw new DataParseError(location, `duplicate column name ${JSON.stringify(name)}`);
          }
          seen.add(name);
        }
        columns = fields;
        continue;
      }
      if (fields.length !== columns.length) {
        throw new DataParseError(
          location,
          `expected ${columns.length} fields (${columns.join(", ")}), found ${fields.length}`,
        );
      }
      const row: Record<string, string> = {};
      for (let i = 0; i < columns.length; i++) row[columns[i]] = fields[i];
      yield { value: row, location };
    }
  };
  // TextDecoderStream already drops a UTF-8 byte-order mark.
  for await (const chunk of await openTextStream(path)) yield* toRecords(tokenizer.push(chunk));
  yield* toRecords(tokenizer.finish());
}

/**
 * Stream a CSV/TSV file row by row.
 *
 * @param path Local file path.
 * @param options Delimiter, header and optional zod schema.
 */
export function streamCsv<T = Record<string, string>>(
  path: string,
  options: CsvOptions<T> = {},
): StreamingDataset<T> {
  return streamRecords(() => csvRecords(path, options), options);
}

/**
 * Read a whole CSV/TSV file into memory.
 *
 * @param path Local file path.
 * @param options Delimiter, header and optional zod schema.
 */
export function loadCsv<T = Record<string, string>>(
  path: string,
  options: CsvOptions<T> = {},
): Promise<Dataset<T>> {
  return streamCsv(path, options).collect();
}
