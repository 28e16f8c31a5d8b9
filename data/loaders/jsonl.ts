/**
 * JSON Lines files (`.jsonl`, `.ndjson`, and their `.gz` versions), read as a stream.
 *
 * @module
 */

import { DataParseError } from "../errors.ts";
import type { Dataset } from "../dataset.ts";
import type { StreamingDataset } from "../streaming.ts";
import { type LoadOptions, type SourceRecord, streamRecords } from "./records.ts";
import { isGzipPath, readLines } from "./text.ts";

/**
 * The records of a JSONL file, located by 1-based line. Blank lines are skipped (their line
 * numbers still count, so reported lines match an editor).
 *
 * @param path Local file path; `.gz` is gunzipped on the fly.
 */
export async function* jsonlRecords(path: string): AsyncGenerator<SourceRecord> {
  for await (const { text, line } of readLines(path)) {
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new DataParseError(
        { source: path, row: line, kind: "line" },
        `invalid JSON (${(error as Error).message})`,
        { cause: error },
      );
    }
    yield { value, location: { source: path, row: line, kind: "line" } };
  }
}

/**
 * Stream a JSONL file row by row without holding it in memory.
 *
 * @param path Local file path (`.jsonl`, `.jsonl.gz`, ...).
 * @param options Optional zod schema for each row.
 */
export function streamJsonl<T = Record<string, unknown>>(
  path: string,
  options: LoadOptions<T> = {},
): StreamingDataset<T> {
  return streamRecords(() => jsonlRecords(path), options);
}

/**
 * Read a whole JSONL file into memory.
 *
 * @param path Local file path (`.jsonl`, `.jsonl.gz`, ...).
 * @param options Optional zod schema for each row.
 */
export function loadJsonl<T = Record<string, unknown>>(
  path: string,
  options: LoadOptions<T> = {},
): Promise<Dataset<T>> {
  return streamJsonl(path, options).collect();
}

/**
 * Write rows as JSON Lines, gzipped when the path ends in `.gz`. The file is written to a
 * temporary name and renamed, so readers never see half a file.
 *
 * @param path Destination path.
 * @param rows Rows to write, one JSON value per line.
 */
export async function writeJsonl(
  path: string,
  rows: Iterable<unknown> | AsyncIterable<unknown>,
): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  const file = await Deno.open(temp, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const source = ReadableStream.from((async function* () {
    const lines: string[] = [];
    for await (const row of rows as AsyncIterable<unknown>) {
      lines.push(JSON.stringify(row));
      // Grouping lines keeps the per-chunk stream overhead small.
      if (lines.length === 256) {
        yield encoder.encode(lines.join("\n") + "\n");
        lines.length = 0;
      }
    }
    if (lines.length > 0) yield encoder.encode(lines.join("\n") + "\n");
  })());
  const bytes = isGzipPath(path)
    ? source.pipeThrough(
      // The lib types its writable side as BufferSource, wider than the bytes we pipe in.
      new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    )
    : source;
  try {
    await bytes.pipeTo(file.writable);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
