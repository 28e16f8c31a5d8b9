/**
 * The record shape every loader produces before validation: a parsed value and where it came
 * from, so a schema failure can name the file, the row and the field.
 *
 * @module
 */

import { DataValidationError, type RowLocation, type RowSchema, validateRow } from "../errors.ts";
import { StreamingDataset } from "../streaming.ts";

/** A parsed row and its location in the source. */
export interface SourceRecord {
  /** The parsed row. */
  value: unknown;
  /** File and 1-based row or line. */
  location: RowLocation;
}

/** Options shared by all loaders. */
export interface LoadOptions<T> {
  /**
   * A zod schema each row must satisfy; failures throw a DataValidationError naming the file,
   * row and field. Without it rows are returned as parsed.
   */
  schema?: RowSchema<T>;
  /**
   * What to do with a row that fails the schema: `"error"` (default) throws; `"skip"` drops it
   * and reports it to `onSkip`. Unparseable files (bad JSON, broken CSV quoting) always throw.
   */
  invalidRows?: "error" | "skip";
  /** Told about each row dropped by `invalidRows: "skip"`, with its file, row and field. */
  onSkip?: (error: DataValidationError) => void;
}

/**
 * Turn a source of located records into a stream of (validated) rows.
 *
 * @param open Starts a new pass over the records.
 * @param options Schema and what to do with rows that fail it.
 */
export function streamRecords<T>(
  open: () => AsyncIterable<SourceRecord>,
  options: LoadOptions<T> = {},
): StreamingDataset<T> {
  const { schema, invalidRows = "error", onSkip } = options;
  return new StreamingDataset<T>(async function* () {
    for await (const record of open()) {
      if (!schema) {
        yield record.value as T;
        continue;
      }
      let row: T;
      try {
        row = validateRow(schema, record.value, record.location);
      } catch (error) {
        if (invalidRows !== "skip" || !(error instanceof DataValidationError)) throw error;
        onSkip?.(error);
        continue;
      }
      yield row;
    }
  });
}
