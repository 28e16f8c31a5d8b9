/**
 * One entry point for local files: the format is chosen from the extension.
 *
 * @module
 */

import type { Dataset } from "../dataset.ts";
import type { StreamingDataset } from "../streaming.ts";
import { csvRecords } from "./csv.ts";
import { jsonRecords } from "./json.ts";
import { jsonlRecords } from "./jsonl.ts";
import { parquetRecords } from "./parquet.ts";
import { type LoadOptions, type SourceRecord, streamRecords } from "./records.ts";
import { withoutGzipSuffix } from "./text.ts";

/** File formats the local loaders understand. */
export type LocalFormat = "jsonl" | "json" | "csv" | "tsv" | "parquet";

/**
 * The format of a path from its extension (`.jsonl`/`.ndjson`, `.json`, `.csv`, `.tsv`,
 * `.parquet`; the text formats may also end in `.gz`).
 *
 * @param path File path.
 */
export function detectFormat(path: string): LocalFormat {
  const name = withoutGzipSuffix(path).toLowerCase();
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "jsonl";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".tsv")) return "tsv";
  if (name.endsWith(".parquet") && name === path.toLowerCase()) return "parquet";
  throw new Error(
    `cannot tell the format of ${path}: expected .jsonl, .jsonl.gz, .ndjson, .json, .csv, .tsv ` +
      `(optionally .gz) or .parquet`,
  );
}

/**
 * Located records of any supported local file.
 *
 * @param path Local file path.
 */
export function localRecords(path: string): AsyncIterable<SourceRecord> {
  switch (detectFormat(path)) {
    case "jsonl":
      return jsonlRecords(path);
    case "json":
      return jsonRecords(path);
    case "csv":
    case "tsv":
      return csvRecords(path);
    case "parquet":
      return parquetRecords(path);
  }
}

/**
 * Stream any supported local file (format from the extension).
 *
 * @param path Local file path.
 * @param options Optional zod schema.
 */
export function streamLocal<T = Record<string, unknown>>(
  path: string,
  options: LoadOptions<T> = {},
): StreamingDataset<T> {
  detectFormat(path);
  return streamRecords(() => localRecords(path), options);
}

/**
 * Read any supported local file into memory (format from the extension).
 *
 * @param path Local file path.
 * @param options Optional zod schema.
 */
export function loadLocal<T = Record<string, unknown>>(
  path: string,
  options: LoadOptions<T> = {},
): Promise<Dataset<T>> {
  return streamLocal(path, options).collect();
}
