/**
 * JSON files holding an array of rows, or an object with the rows under one field (as in
 * `{"version": 1, "data": [...]}`). The whole file is parsed at once: use JSONL for big data.
 *
 * @module
 */

import { DataParseError } from "../errors.ts";
import type { Dataset } from "../dataset.ts";
import type { StreamingDataset } from "../streaming.ts";
import { type LoadOptions, type SourceRecord, streamRecords } from "./records.ts";
import { readText } from "./text.ts";

/** Options for the JSON loader. */
export interface JsonOptions<T> extends LoadOptions<T> {
  /** When the file is an object, the key whose value is the array of rows. */
  field?: string;
}

/**
 * The rows of a JSON file, located by 1-based index in the array.
 *
 * @param path Local file path (`.json` or `.json.gz`).
 * @param options Which field holds the rows.
 */
export async function* jsonRecords(
  path: string,
  options: Omit<JsonOptions<unknown>, "schema"> = {},
): AsyncGenerator<SourceRecord> {
  const fileLocation = { source: path, row: 1, kind: "row" as const };
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readText(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw error;
    throw new DataParseError(fileLocation, `invalid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  let rows: unknown = parsed;
  if (options.field !== undefined) {
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new DataParseError(fileLocation, `expected an object with a "${options.field}" field`);
    }
    rows = (parsed as Record<string, unknown>)[options.field];
  }
  if (!Array.isArray(rows)) {
    const keys = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? ` (top-level keys: ${Object.keys(parsed).join(", ")}; pass { field } to pick one)`
      : "";
    throw new DataParseError(
      fileLocation,
      `expected an array of rows${options.field ? ` in "${options.field}"` : ""}${keys}`,
    );
  }
  for (let i = 0; i < rows.length; i++) {
    yield { value: rows[i], location: { source: path, row: i + 1, kind: "row" } };
  }
}

/**
 * Stream the rows of a JSON file (parsed whole, then handed out one by one).
 *
 * @param path Local file path.
 * @param options Field and optional zod schema.
 */
export function streamJson<T = Record<string, unknown>>(
  path: string,
  options: JsonOptions<T> = {},
): StreamingDataset<T> {
  return streamRecords(() => jsonRecords(path, options), options);
}

/**
 * Read a JSON file of rows into memory.
 *
 * @param path Local file path.
 * @param options Field and optional zod schema.
 */
export function loadJson<T = Record<string, unknown>>(
  path: string,
  options: JsonOptions<T> = {},
): Promise<Dataset<T>> {
  return streamJson(path, options).collect();
}
