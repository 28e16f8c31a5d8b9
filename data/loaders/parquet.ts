/**
 * Parquet files, read one row group at a time with `hyparquet` (all codecs, ZSTD included,
 * through `hyparquet-compressors`).
 *
 * @module
 */

import { open as openFile } from "node:fs/promises";
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { DataParseError } from "../errors.ts";
import type { Dataset } from "../dataset.ts";
import type { StreamingDataset } from "../streaming.ts";
import { type LoadOptions, type SourceRecord, streamRecords } from "./records.ts";

/** Options for the parquet loaders. */
export interface ParquetOptions<T> extends LoadOptions<T> {
  /** Read only these columns (all by default). */
  columns?: string[];
}

/**
 * Parquet INT64 columns arrive as bigint. Labels and ids are small, and a bigint label would
 * fail every `z.number()` schema, so safe integers become numbers; larger ones stay bigint.
 */
export function normalizeParquetValue(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) return value.map(normalizeParquetValue);
  if (
    value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype
  ) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = normalizeParquetValue(inner);
    return out;
  }
  return value;
}

/**
 * Random access to a local file for hyparquet. Positional reads (not seek + read) keep
 * concurrent slices from racing on a shared file offset.
 */
async function openAsyncBuffer(path: string): Promise<AsyncBuffer & { close(): Promise<void> }> {
  const handle = await openFile(path, "r");
  const { size } = await handle.stat();
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const length = Math.max(0, Math.min(end, size) - start);
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return bytes.buffer;
    },
    close: () => handle.close(),
  };
}

/**
 * The rows of a parquet file, one row group in memory at a time, located by 1-based row index.
 *
 * @param path Local file path.
 * @param options Columns to read.
 */
export async function* parquetRecords(
  path: string,
  options: Omit<ParquetOptions<unknown>, "schema"> = {},
): AsyncGenerator<SourceRecord> {
  const file = await openAsyncBuffer(path);
  try {
    let metadata;
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (error) {
      throw new DataParseError(
        { source: path, row: 1, kind: "row" },
        `not a readable parquet file (${(error as Error).message})`,
        { cause: error },
      );
    }
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const rows = await parquetReadObjects({
        file,
        metadata,
        rowStart,
        rowEnd,
        columns: options.columns,
        compressors,
      });
      for (let i = 0; i < rows.length; i++) {
        yield {
          value: normalizeParquetValue(rows[i]),
          location: { source: path, row: rowStart + i + 1, kind: "row" },
        };
      }
      rowStart = rowEnd;
    }
  } finally {
    await file.close();
  }
}

/**
 * Stream a parquet file row group by row group.
 *
 * @param path Local file path.
 * @param options Columns and optional zod schema.
 */
export function streamParquet<T = Record<string, unknown>>(
  path: string,
  options: ParquetOptions<T> = {},
): StreamingDataset<T> {
  return streamRecords(() => parquetRecords(path, options), options);
}

/**
 * Read a whole parquet file into memory.
 *
 * @param path Local file path.
 * @param options Columns and optional zod schema.
 */
export function loadParquet<T = Record<string, unknown>>(
  path: string,
  options: ParquetOptions<T> = {},
): Promise<Dataset<T>> {
  return streamParquet(path, options).collect();
}
