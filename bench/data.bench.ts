/**
 * Data-module throughput: streaming a generated JSONL file (plain and gzipped) and the
 * line splitter alone. The file is ~32 MiB of JSON, so MB/s = 32 / (time per iteration in s).
 *
 *   deno bench -A bench/data.bench.ts
 *
 * @module
 */

import { join } from "node:path";
import { generateSyntheticReviews, readLines, streamJsonl, writeJsonl } from "../data/mod.ts";

const dir = await Deno.makeTempDir({ prefix: "tether-data-bench-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const pool = generateSyntheticReviews(4000, { seed: 1 }).toArray();
const rows = function* (count: number) {
  for (let i = 0; i < count; i++) {
    const review = pool[i % pool.length];
    yield { id: i, text: `${review.text} ${review.text} ${review.text}`, label: review.label };
  }
};
const ROWS = 115_000;
const plain = join(dir, "reviews.jsonl");
const gzipped = join(dir, "reviews.jsonl.gz");
await writeJsonl(plain, rows(ROWS));
await writeJsonl(gzipped, rows(ROWS));
const mib = (await Deno.stat(plain)).size / 2 ** 20;
console.log(`bench file: ${ROWS} rows, ${mib.toFixed(1)} MiB of JSONL`);

async function countRows(path: string): Promise<number> {
  let n = 0;
  for await (const _ of streamJsonl(path)) n++;
  if (n !== ROWS) throw new Error(`read ${n} rows, expected ${ROWS}`);
  return n;
}

Deno.bench({
  name: "streamJsonl, plain (parse every row)",
  group: "jsonl",
  baseline: true,
  n: 10,
  warmup: 1,
  fn: async () => {
    await countRows(plain);
  },
});

Deno.bench({
  name: "streamJsonl, gzip (DecompressionStream + parse)",
  group: "jsonl",
  n: 10,
  warmup: 1,
  fn: async () => {
    await countRows(gzipped);
  },
});

Deno.bench({
  name: "readLines, plain (split only, no JSON.parse)",
  group: "jsonl",
  n: 10,
  warmup: 1,
  fn: async () => {
    let n = 0;
    for await (const _ of readLines(plain)) n++;
    if (n !== ROWS) throw new Error(`read ${n} lines`);
  },
});
