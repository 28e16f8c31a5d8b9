/**
 * Measures resident memory while streaming a large JSONL file through the data module.
 *
 * Writes a ~200 MB JSONL file (optionally also gzipped) of synthetic reviews into a temporary
 * folder, streams it with `streamJsonl` while sampling `Deno.memoryUsage().rss`, prints the
 * peak growth over the pre-stream baseline and the throughput, then deletes the files.
 *
 *   deno run -A --v8-flags=--expose-gc tools/measure_streaming_memory.ts [--size-mb 200] [--gzip]
 *
 * `--expose-gc` is optional: with it the baseline is taken after a full collection, so the
 * growth is not flattered by garbage left over from writing the file.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateSyntheticReviews, streamJsonl } from "../data/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "size-mb": { type: "string", default: "200" },
    gzip: { type: "boolean", default: false },
  },
});
const targetBytes = Number(values["size-mb"]) * 1024 * 1024;
const MB = 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;

async function writeFile(path: string, gzip: boolean): Promise<{ rows: number; bytes: number }> {
  // A small pool of rows reused in turn keeps the writer's own memory flat.
  const pool = generateSyntheticReviews(4000, { seed: 1 }).toArray();
  const encoder = new TextEncoder();
  const written = { rows: 0, bytes: 0 };
  const chunks = async function* () {
    while (written.bytes < targetBytes) {
      const lines: string[] = [];
      for (let i = 0; i < 2000; i++) {
        const review = pool[(written.rows + i) % pool.length];
        const text = `${review.text} ${review.text} ${review.text}`;
        lines.push(JSON.stringify({ id: written.rows + i, text, label: review.label }));
      }
      const chunk = encoder.encode(lines.join("\n") + "\n");
      written.rows += lines.length;
      written.bytes += chunk.length;
      yield chunk;
    }
  };
  const source = ReadableStream.from(chunks());
  const bytes = gzip
    ? source.pipeThrough(
      new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    )
    : source;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  await bytes.pipeTo(file.writable);
  return written;
}

async function measure(path: string, label: string, rows: number, textBytes: number) {
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc?.();
  const baseline = Deno.memoryUsage().rss;
  let peak = baseline;
  let seen = 0;
  let labels = 0;
  const started = performance.now();
  for await (const row of streamJsonl<{ id: number; text: string; label: number }>(path)) {
    seen++;
    labels += row.label;
    if (seen % 1000 === 0) peak = Math.max(peak, Deno.memoryUsage().rss);
  }
  peak = Math.max(peak, Deno.memoryUsage().rss);
  const seconds = (performance.now() - started) / 1000;
  if (seen !== rows) throw new Error(`streamed ${seen} rows, wrote ${rows}`);
  const fileBytes = (await Deno.stat(path)).size;
  console.log(
    `${label}: ${seen} rows, file ${(fileBytes / MB).toFixed(1)} MB ` +
      `(${(textBytes / MB).toFixed(1)} MB of JSON), ${seconds.toFixed(2)} s, ` +
      `${(textBytes / MB / seconds).toFixed(1)} MB/s of JSON; ` +
      `RSS baseline ${(baseline / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB, ` +
      `peak growth ${((peak - baseline) / MB).toFixed(1)} MB (positives: ${labels})`,
  );
  return (peak - baseline) / MB;
}

const dir = await Deno.makeTempDir({ prefix: "tether-stream-mem-" });
try {
  console.log(
    `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${Deno.build.arch}-${Deno.build.os}, ` +
      `${navigator.hardwareConcurrency} cores; gc exposed: ${gc !== undefined}`,
  );
  const plain = join(dir, "reviews.jsonl");
  const written = await writeFile(plain, false);
  const growth = [await measure(plain, "jsonl", written.rows, written.bytes)];
  await Deno.remove(plain);
  if (values.gzip) {
    const gz = join(dir, "reviews.jsonl.gz");
    const writtenGz = await writeFile(gz, true);
    growth.push(await measure(gz, "jsonl.gz", writtenGz.rows, writtenGz.bytes));
  }
  const worst = Math.max(...growth);
  console.log(`worst peak RSS growth: ${worst.toFixed(1)} MB (limit 100 MB)`);
  if (worst >= 100) Deno.exitCode = 1;
} finally {
  await Deno.remove(dir, { recursive: true });
}
