/**
 * Text input shared by the line- and record-oriented loaders: files are read as streams, and
 * `.gz` files are decompressed on the fly, so a file never has to fit in memory.
 *
 * @module
 */

/** True when the path names a gzip file (by its `.gz` suffix). */
export function isGzipPath(path: string): boolean {
  return path.toLowerCase().endsWith(".gz");
}

/** The path with a trailing `.gz` removed, for choosing a format by extension. */
export function withoutGzipSuffix(path: string): string {
  return isGzipPath(path) ? path.slice(0, -3) : path;
}

/**
 * A stream of decoded text chunks from a local file, gunzipped when the name ends in `.gz`.
 * A leading byte-order mark is dropped.
 *
 * @param path Local file path.
 */
export async function openTextStream(path: string): Promise<ReadableStream<string>> {
  const file = await Deno.open(path, { read: true });
  let bytes: ReadableStream<Uint8Array> = file.readable;
  if (isGzipPath(path)) {
    bytes = bytes.pipeThrough(
      // The lib types its writable side as BufferSource, wider than the bytes we pipe in.
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  return bytes.pipeThrough(new TextDecoderStream("utf-8", { ignoreBOM: false }));
}

/** A line of text and its 1-based line number. */
export interface NumberedLine {
  /** The line without its terminator (`\n` or `\r\n`). */
  text: string;
  /** 1-based physical line number. */
  line: number;
}

/**
 * The lines of a local (optionally gzipped) text file with their 1-based numbers. Stopping the
 * iteration early closes the file.
 *
 * @param path Local file path.
 */
export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  const stream = await openTextStream(path);
  let carry = "";
  let line = 0;
  // Breaking out of this loop early cancels the stream, which closes the file.
  for await (const chunk of stream) {
    const text = carry === "" ? chunk : carry + chunk;
    let start = 0;
    let end = text.indexOf("\n", start);
    while (end !== -1) {
      line++;
      const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      yield { text: text.slice(start, stop), line };
      start = end + 1;
      end = text.indexOf("\n", start);
    }
    carry = start === 0 ? text : text.slice(start);
  }
  if (carry !== "") {
    line++;
    yield { text: carry.endsWith("\r") ? carry.slice(0, -1) : carry, line };
  }
}

/**
 * Read a whole local (optionally gzipped) text file.
 *
 * @param path Local file path.
 */
export async function readText(path: string): Promise<string> {
  const parts: string[] = [];
  for await (const chunk of await openTextStream(path)) parts.push(chunk);
  return parts.join("");
}
